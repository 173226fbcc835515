"""The README's checkable promises: the consumer example works, CI runs its test command."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import redis
from processes import wait_for

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def consumer_example() -> str:
    section = README[README.index("## Consuming the stream"):]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)  # type: ignore[union-attr]


def test_the_consumer_example_reads_every_story_and_acknowledges_it(
        tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> None:
    for n in range(3):
        story = {"id": f"id{n}", "title": f"Title {n}", "url": f"http://x.example/{n}"}
        redis_client.xadd("feedwatch:stories", {"event": "new", "id": f"id{n}", "feed": "f",
                                                "story": json.dumps(story)})
    code = consumer_example().replace("redis://localhost:6379/0", redis_url)
    assert len(code.strip().splitlines()) <= 14, "the example stays short"
    script = tmp_path / "consumer.py"
    script.write_text(code, encoding="utf-8")
    log = tmp_path / "out.txt"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, str(script)], stdout=out, stderr=out)
        try:
            wait_for(lambda: log.read_text().count("Title") == 3, 20, "three titles")
            redis_client.xadd("feedwatch:stories", {"event": "new", "id": "id3", "feed": "f",
                              "story": json.dumps({"title": "Title 3", "url": "u"})})
            wait_for(lambda: "Title 3" in log.read_text(), 20, "the story added later")
            wait_for(lambda: redis_client.xpending("feedwatch:stories", "my-app")["pending"] == 0,
                     20, "every story acknowledged (it prints first, then acknowledges)")
        finally:
            process.kill()
            process.wait()
    assert log.read_text().splitlines() == [
        "Title 0 http://x.example/0", "Title 1 http://x.example/1", "Title 2 http://x.example/2",
        "Title 3 u"]


def test_ci_runs_the_readme_test_command() -> None:
    quick_start = README[README.index("## Quick start"):README.index("## Commands")]
    assert "./feedwatch run" in quick_start
    assert "./feedwatch test" in quick_start
    assert "exec ./feedwatch test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
