"""The quick start: `feedwatch run` on the embedded Valkey, `feedwatch tail` beside it."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
import yaml
from feedserver import FeedServer, item, rss
from processes import Process, command, environment, wait_for

pytestmark = pytest.mark.e2e


def feedwatch(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(["feedwatch", *args]), cwd=cwd, env=environment(),
                          capture_output=True, text=True, timeout=timeout, check=False)


def test_run_then_tail_then_ctrl_c_then_run_again(tmp_path: Path, feed_server: FeedServer) -> None:
    url = feed_server.serve("/local.xml", rss([item(1), item(2)]))
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "feeds.yaml").write_text(yaml.safe_dump({
        "tick": 0.5, "defaults": {"interval": 1},
        "feeds": [{"key": "local", "url": url, "source": "Local News"}],
    }), encoding="utf-8")

    not_running = feedwatch("status", cwd=tmp_path)
    assert not_running.returncode == 2
    assert "start `feedwatch run` in this folder" in not_running.stderr

    run = Process(command(["feedwatch", "run"]), tmp_path / "run.log", environment(),
                  cwd=tmp_path)
    wait_for(lambda: (tmp_path / "var" / "valkey.json").exists(), 30, "the embedded Valkey",
             [run])
    tail = feedwatch("tail", "--count", "2", "--from", "0", cwd=tmp_path)
    assert tail.returncode == 0, tail.stderr
    stories = [json.loads(line) for line in tail.stdout.splitlines()]
    assert [s["title"] for s in stories] == ["Story number 1", "Story number 2"]
    assert {s["source"] for s in stories} == {"Local News"}

    text = feedwatch("tail", "--count", "1", "--from", "0", "--format", "text", cwd=tmp_path)
    assert "Story number 1" in text.stdout
    assert "First paragraph of story 1." in text.stdout

    second = Process(command(["feedwatch", "run"]), tmp_path / "second.log", environment(),
                     cwd=tmp_path)
    assert second.popen.wait(30) == 2, "a second monitor on the same folder is refused"
    assert "another feedwatch already runs" in second.output()

    wait_for(lambda: len(feed_server.hits("/local.xml")) >= 3, 30, "re-polls", [run])
    run.signal(signal.SIGINT)
    assert run.popen.wait(60) == 0, run.output()[-3000:]
    assert not (tmp_path / "var" / "valkey.json").exists()
    assert (tmp_path / "var" / "valkey").is_dir(), "the data stays under ./var"

    feed_server.serve("/local.xml", rss([item(3), item(1), item(2)]))
    again = Process(command(["feedwatch", "run"]), tmp_path / "again.log", environment(),
                    cwd=tmp_path)
    try:
        wait_for(lambda: (tmp_path / "var" / "valkey.json").exists(), 30, "restart", [again])
        tail = feedwatch("tail", "--count", "3", "--from", "0", cwd=tmp_path)
        titles = [json.loads(line)["title"] for line in tail.stdout.splitlines()]
        assert titles == ["Story number 1", "Story number 2", "Story number 3"], (
            "stories kept across the restart, and only the new item added")
        status = feedwatch("status", cwd=tmp_path)
        assert status.returncode == 0
        assert status.stdout.splitlines()[1].split()[0] == "local"
    finally:
        again.signal(signal.SIGINT)
        again.popen.wait(60)
