"""The Celery application: broker on the same Redis as the output, beat ticking the scheduler.

``celery -A worker.celery_app worker`` and ``celery -A worker.celery_app beat`` are the two
commands docker-compose.yml runs; the config file comes from ``$FEEDWATCH_CONFIG`` (default
``config/feeds.yaml``) and must be valid, or neither starts.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import Any

import redis
from celery import Celery, signals
from celery.utils.log import current_process_index
from kombu.entity import Queue

from worker.config import Settings, load_settings
from worker.exceptions import ConfigError, RedisUnavailable
from worker.keys import POLL_QUEUE, TICK_QUEUE
from worker.service import heartbeat, logs
from worker.service.affinity import pin_pool_process
from worker.service.broker import survive_broker_restarts
from worker.service.connection import connect, redis_url

TICK_TASK = "feedwatch.tick"
POLL_TASK = "feedwatch.poll"


def create_app(settings: Settings, broker_url: str) -> Celery:
    survive_broker_restarts()
    app = Celery("feedwatch", broker=broker_url, include=["tasks.polling"])
    app.conf.update(
        task_default_queue=POLL_QUEUE,
        task_queues=(Queue(POLL_QUEUE), Queue(TICK_QUEUE)),  # type: ignore[no-untyped-call]
        task_routes={TICK_TASK: {"queue": TICK_QUEUE}},
        task_ignore_result=True,
        # A task is acknowledged once its feeds are in a worker's hands; a feed whose worker
        # died is claimed again when its lease runs out (worker.schedule).
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 600},
        worker_hijack_root_logger=True,
        beat_schedule={
            "feedwatch-tick": {
                "task": TICK_TASK,
                "schedule": settings.tick,
                # A tick not run in time is useless: the next one claims the same feeds.
                "options": {"expires": max(settings.tick * 2, 2.0)},
            },
        },
    )
    return app


QUIET_LOGGERS = ("celery.app.trace", "celery.worker.strategy", "celery.beat", "httpx")
"""Celery's per-task and per-tick INFO lines and httpx's per-request ones: feedwatch logs a line
per poll that read a changed document, and every problem (polls answered 304 at DEBUG)."""


@signals.after_setup_logger.connect  # type: ignore[untyped-decorator]
def _quiet_celery(**_: Any) -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


@signals.after_setup_logger.connect  # type: ignore[untyped-decorator]
@signals.after_setup_task_logger.connect  # type: ignore[untyped-decorator]
def _lines_as_json(logger: logging.Logger | None = None, **_: Any) -> None:
    """With ``log_format: json``, Celery's handlers (its own and its tasks') write JSON."""
    if logger is not None and logs.log_format(settings) == "json":
        logs.use_json(logger)


@signals.worker_process_init.connect  # type: ignore[untyped-decorator]
def _pin_to_core(**_: Any) -> None:
    """Each pool process on a core of its own, unless the config says ``pin_processes: false``."""
    if settings.pin_processes:
        pin_pool_process(current_process_index(base=0))


_beat_client: redis.Redis | None = None


@signals.before_task_publish.connect  # type: ignore[untyped-decorator]
def _note_tick_sent(sender: str | None = None, **_: Any) -> None:
    """A beat notes each tick it sends (``feedwatch health beat``); only beats send ticks."""
    global _beat_client
    if sender != TICK_TASK:
        return
    if _beat_client is None:
        _beat_client = connect(broker_url)
    with contextlib.suppress(redis.ConnectionError, redis.TimeoutError):
        heartbeat.note(_beat_client, "beat")  # unreachable: the tick's publish says so too


def _load() -> tuple[Settings, str]:
    try:
        settings = load_settings()
        return settings, redis_url(settings)
    except (ConfigError, RedisUnavailable) as exc:
        sys.stderr.write(f"feedwatch: {exc}\n")
        raise SystemExit(2) from exc


settings, broker_url = _load()
app = create_app(settings, broker_url)
