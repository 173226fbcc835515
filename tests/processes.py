"""Starting and stopping the real processes end-to-end tests run: celery, feedwatch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


class Process:
    """A child process whose output goes to a log file that a failing test shows."""

    def __init__(self, argv: list[str], log: Path, env: dict[str, str],
                 cwd: Path | None = None) -> None:
        self.argv = argv
        self.log = log
        self._file = open(log, "ab")  # noqa: SIM115
        self.popen = subprocess.Popen(
            argv, stdout=self._file, stderr=subprocess.STDOUT, env=env, cwd=cwd,
            start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def signal(self, sig: int) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 20.0) -> int:
        """Warm shutdown (SIGTERM to the process group), SIGKILL if it takes too long."""
        self.signal(signal.SIGTERM)
        try:
            code = self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            code = self.popen.wait(5)
        self._file.close()
        return code

    def kill(self) -> None:
        """What a crash looks like: SIGKILL to the worker and all its pool processes."""
        self.signal(signal.SIGKILL)
        self.popen.wait(5)
        self._file.close()


def command(argv: list[str]) -> list[str]:
    """The same command, with its program taken from this virtualenv."""
    program = BIN / argv[0]
    return [str(program) if program.exists() else argv[0], *argv[1:]]


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "FEEDWATCH_CONFIG")}
    env.update(extra)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def wait_for(condition: Callable[[], Any], timeout: float, what: str,
             logs: Sequence[Process] = ()) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    shown = "\n".join(f"--- {p.argv}\n{p.output()[-4000:]}" for p in logs)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{shown}")
