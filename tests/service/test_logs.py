"""``log_format: json``: worker and beat write one JSON object a line, with the feed, the
event and the figures of each poll; the environment overrides the config; text stays the
default."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
import redis
import yaml
from compose import service_command
from feedserver import FeedServer, item, rss
from processes import Process, command, environment, wait_for

from worker.config import load_settings
from worker.exceptions import ConfigError
from worker.service.logs import LOG_FORMAT_ENV, JsonFormatter, log_format


def test_a_line_is_one_object_with_the_fields_the_code_gave_it() -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        record = logging.getLogger("feedwatch.poll").makeRecord(
            "feedwatch.poll", logging.WARNING, __file__, 1, "%s: %s new", ("cnn", 2),
            sys.exc_info(), extra={"feed": "cnn", "event": "read", "new": 2})
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "cnn: 2 new"
    assert (line["level"], line["logger"], line["feed"], line["event"], line["new"]) == (
        "WARNING", "feedwatch.poll", "cnn", "read", 2)
    assert line["time"].endswith("+00:00") and "." in line["time"]
    assert "ValueError: broken" in line["exception"]
    assert "args" not in line and "msg" not in line


def test_the_environment_overrides_the_config(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("log_format: json\nfeeds: []\n", encoding="utf-8")
    settings = load_settings(config)
    assert log_format(settings) == "json"
    monkeypatch.setenv(LOG_FORMAT_ENV, "text")
    assert log_format(settings) == "text"
    config.write_text("feeds: []\n", encoding="utf-8")
    monkeypatch.delenv(LOG_FORMAT_ENV)
    assert log_format(load_settings(config)) == "text", "the human format by default"


def test_an_unknown_format_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("log_format: xml\nfeeds: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"log_format.*text or json"):
        load_settings(config)


@pytest.mark.e2e
def test_a_real_worker_logs_each_poll_as_json(
        tmp_path: Path, redis_url: str, redis_client: redis.Redis,
        feed_server: FeedServer) -> None:
    feed_server.serve("/a.xml", rss([item(1), item(2)]))
    config = tmp_path / "feeds.yaml"
    config.write_text(yaml.safe_dump({
        "log_format": "json", "stream": "logs:stories", "tick": 0.5,
        "data_dir": str(tmp_path / "var"), "defaults": {"interval": 2, "timeout": 2},
        "feeds": [{"key": "a", "url": feed_server.url("/a.xml")}]}), encoding="utf-8")
    env = environment(REDIS_URL=redis_url, FEEDWATCH_CONFIG=str(config))
    worker = Process(command(service_command("worker")), tmp_path / "worker.log", env)
    beat_argv = command(service_command("beat"))
    beat_argv[beat_argv.index("--schedule") + 1] = str(tmp_path / "beat-schedule")
    beat = Process(beat_argv, tmp_path / "beat.log", env)
    try:
        def read_line() -> dict[str, object] | None:
            for line in worker.output().splitlines():
                if line.startswith("{") and '"event": "read"' in line:
                    found: dict[str, object] = json.loads(line)
                    return found
            return None

        line = wait_for(read_line, 60, "the poll's log line", [worker, beat])
        assert (line["feed"], line["new"], line["entries"], line["logger"]) == (
            "a", 2, 2, "feedwatch.poll")
        logged = [text for text in worker.output().splitlines() if '"logger": ' in text]
        assert all(json.loads(text)["level"] for text in logged), "every log line an object"
        assert any('"logger": "celery.' in text for text in logged), "Celery's lines too"
    finally:
        worker.stop()
        beat.stop()
