"""With Redis unreachable, a worker says so in one line per event and carries on."""

from __future__ import annotations

import logging

import pytest

from worker.config import FeedConfig, Settings
from worker.service.runtime import Runtime

NOBODY = "redis://127.0.0.1:9/0"


def test_tick_and_poll_during_an_outage_log_one_clear_line_each(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    feed = FeedConfig(key="news", url="http://127.0.0.1:9/feed.xml")
    runtime = Runtime(Settings(path="<test>", feeds=(feed,), redis_url=NOBODY, timeout=1.0))
    with caplog.at_level(logging.WARNING, logger="feedwatch.runtime"):
        assert runtime.tick() == []
        assert runtime.poll_batch(["news"]) == [None]
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith("tick skipped, Redis is unreachable")
    assert lines[1].startswith("poll of a batch abandoned (feeds: 1), Redis is unreachable")
    assert all(r.exc_info is None for r in caplog.records), "no traceback for an outage"
