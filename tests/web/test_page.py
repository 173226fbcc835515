"""The status page as a person sees it: ``feedwatch serve`` over a real Valkey after real polls
of local feeds, its JSON checked, and the page rendered by a real headless Chromium (Debian's
``chromium``): the feeds table and the chart are there after its script ran, and a screenshot
is written for a person to look at (the test prints where)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from compose import service_command
from feedserver import FeedServer, item, rss
from processes import Process, command, environment, wait_for

from worker.config import load_settings
from worker.service.runtime import Runtime
from worker.web import page

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, redis_url: str, redis_client: redis.Redis,
           feed_server: FeedServer) -> Any:
    feed_server.serve("/a.xml", rss([item(1), item(2), item(3)]))
    feed_server.fail("/gone.xml", 500)
    config = tmp_path / "feeds.yaml"
    config.write_text(yaml.safe_dump({
        "redis_url": redis_url, "stream": "page:stories", "data_dir": str(tmp_path / "var"),
        "defaults": {"timeout": 2},
        "feeds": [{"key": "alpha", "url": feed_server.url("/a.xml")},
                  {"key": "broken-one", "url": feed_server.url("/gone.xml")}]}),
        encoding="utf-8")
    runtime = Runtime(load_settings(config))
    runtime.tick()  # the schedule knows the feeds, and their hosts
    runtime.poll_batch(["alpha", "broken-one"])
    runtime.drain()  # the counts of the page's chart go to Redis
    port = free_port()
    argv = command(service_command("web"))
    argv[argv.index("--listen") + 1] = f"127.0.0.1:{port}"
    web = Process(argv, tmp_path / "web.log",
                  environment(REDIS_URL=redis_url, FEEDWATCH_CONFIG=str(config)))
    wait_for(lambda: _get(port, "/healthz"), 30, "serve", [web])
    yield port
    web.stop()


def _get(port: int, path: str) -> bytes | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
            body: bytes = answer.read()
            return body
    except OSError:
        return None


def test_status_json_holds_what_status_reads_and_the_stories_of_this_hour(served: int) -> None:
    found = json.loads(_get(served, "/status.json") or b"{}")
    feeds = {f["key"]: f for f in found["feeds"]}
    assert feeds["alpha"]["state"] == "ok" and feeds["alpha"]["stories"] == 3
    assert feeds["broken-one"]["state"] == "erroring"
    assert "500" in feeds["broken-one"]["last_error"]
    assert [h["feeds"] for h in found["hosts"]] == [2]
    assert len(found["stories_per_hour"]) == 24
    assert found["stories_per_hour"][-1]["stories"] == 3, "this hour's stories, last"


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium package is not installed here")
def test_a_real_browser_renders_the_feeds_table_and_the_chart(
        served: int, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{served}/"
    browser = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
               "--virtual-time-budget=10000"]
    dom = subprocess.run([*browser, "--dump-dom", url], capture_output=True, text=True,
                         timeout=120).stdout
    assert 'data-rendered="' in dom, "the script ran and drew the page"
    feeds_table = dom[dom.index('<table id="feeds">'):dom.index("</table>",
                                                            dom.index('<table id="feeds">'))]
    assert "alpha" in feeds_table and "broken-one" in feeds_table
    assert 'class="state erroring"' in feeds_table
    chart = dom[dom.index('<svg id="chart"'):dom.index("</svg>")]
    assert chart.count("<rect") == 24
    assert "3 stories" in chart, "this hour's bar"
    shot = tmp_path / "status.png"
    subprocess.run([*browser, "--window-size=1280,1400", f"--screenshot={shot}", url],
                   capture_output=True, timeout=120, check=False)
    assert shot.exists() and shot.stat().st_size > 10_000
    print(f"\nscreenshot of the status page: {shot}")


def test_the_page_lists_feeds_in_trouble_first_and_counts_those_it_leaves_out(
        served: int, tmp_path: Path, redis_client: redis.Redis,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page, "SHOWN_FEEDS", 1)
    found = page.status(redis_client, load_settings(tmp_path / "feeds.yaml"))
    assert [f["key"] for f in found["feeds"]] == ["broken-one"]
    assert (found["feeds_total"], found["feeds_not_shown"]) == (2, 1)
    assert found["feeds_by_state"] == {"erroring": 1, "ok": 1}
