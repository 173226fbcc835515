"""Log lines for machines: with ``log_format: json`` (or ``FEEDWATCH_LOG_FORMAT=json``), every
line worker and beat write is one JSON object, for Loki, ELK or ``jq``.

Each object has ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger`` and
``message``, then the fields the code gave the line (``feed``, ``event`` and the figures of a
poll, for one), and ``exception`` with the traceback when there is one. The default stays the
human format Celery writes.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Any

from worker.config import LogFormat, Settings

LOG_FORMAT_ENV = "FEEDWATCH_LOG_FORMAT"

_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName"}
"""What every log record has: anything else on a record is a field the code gave it."""


def log_format(settings: Settings) -> LogFormat:
    """The config's ``log_format``, unless ``$FEEDWATCH_LOG_FORMAT`` says ``text`` or ``json``."""
    wanted = os.environ.get(LOG_FORMAT_ENV, "").strip().lower()
    if wanted == "json":
        return "json"
    if wanted == "text":
        return "text"
    return settings.log_format


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update((k, v) for k, v in vars(record).items() if k not in _RECORD_FIELDS)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def use_json(logger: logging.Logger) -> None:
    """Give every handler of ``logger`` the JSON format."""
    for handler in logger.handlers:
        handler.setFormatter(JsonFormatter())
