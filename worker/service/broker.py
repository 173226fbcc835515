"""Keeping the Celery worker alive while its Redis broker restarts.

kombu's Redis transport (5.x) crashes the whole worker ("Unrecoverable error: AttributeError
'NoneType' object has no attribute 'hostname'") when the broker connection drops while a task
is unacknowledged: closing the dead channel tries to give the message back, or to acknowledge
it, over a connection that no longer exists. feedwatch acknowledges polls late, so a poll in
flight during a Redis restart would kill the worker instead of letting it reconnect.

:func:`survive_broker_restarts` makes those two steps log and give up instead. Nothing is lost
by it: the message stays in the broker's own unacked set and comes back after the visibility
timeout, and the feed's lease makes it due again before that anyway; a poll that runs twice
publishes nothing twice.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import redis
from kombu.transport import redis as kombu_redis

log = logging.getLogger("feedwatch.broker")

_BROKER_GONE = (AttributeError, redis.ConnectionError, redis.TimeoutError)


def survive_broker_restarts() -> None:
    """Patch kombu's Redis QoS so a lost broker connection cannot stop the worker."""
    qos = kombu_redis.QoS
    if getattr(qos, "_feedwatch_patched", False):
        return
    for name, doing in (("restore_unacked", "give back"), ("ack", "acknowledge")):
        setattr(qos, name, _tolerant(getattr(qos, name), doing))
    qos._feedwatch_patched = True  # type: ignore[attr-defined]


def _tolerant(method: Callable[..., Any], doing: str) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except _BROKER_GONE as exc:
            log.warning("Redis is unreachable, could not %s a task message (%s: %s); it comes "
                        "back after the visibility timeout, and the worker reconnects",
                        doing, type(exc).__name__, exc)
            return None
    return call
