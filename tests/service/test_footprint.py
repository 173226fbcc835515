"""What a process loads: a beat, which only ticks, never loads the poll path (parsers, the
normalizer, full-text extraction, near-duplicate signatures); a worker loads it before its
pool forks, so its pool processes share it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from processes import environment

POLL_PATH = ("worker.poll", "worker.normalize", "worker.fulltext", "worker.dedupe.neardup",
             "trafilatura", "numpy")


def loaded_after(code: str, tmp_path: Path, redis_url: str) -> set[str]:
    """The modules of :data:`POLL_PATH` a fresh interpreter holds after running ``code``."""
    config = tmp_path / "feeds.yaml"
    config.write_text("feeds:\n  - {key: f, url: 'http://127.0.0.1:9/f.xml'}\n")
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {POLL_PATH!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=environment(REDIS_URL=redis_url, FEEDWATCH_CONFIG=str(config)),
                          check=True, timeout=60)
    return set(done.stdout.split())


def test_the_tasks_module_a_beat_loads_leaves_the_poll_path_out(
        tmp_path: Path, redis_url: str) -> None:
    assert loaded_after("import tasks.polling", tmp_path, redis_url) == set()


def test_a_worker_loads_the_poll_path_before_its_pool_forks(
        tmp_path: Path, redis_url: str) -> None:
    """``worker_init`` runs in the worker's main process before the pool starts."""
    code = "import tasks.polling\nfrom celery import signals\nsignals.worker_init.send(None)"
    assert loaded_after(code, tmp_path, redis_url) == set(POLL_PATH)
