"""``feedwatch health worker|beat``, the healthchecks of docker-compose.yml, against real worker
and beat processes: healthy while they work, unhealthy once one is frozen (a hung process) for
longer than the limit, healthy again when it resumes; never exit 2, which Docker reserves."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis
import yaml
from compose import healthcheck_command, service_command
from processes import Process, command, environment, wait_for

from worker.service import heartbeat

pytestmark = pytest.mark.e2e

MAX_AGE = 3.0


def health(env: dict[str, str], role: str) -> subprocess.CompletedProcess[str]:
    argv = [*command(healthcheck_command(role)), "--max-age", str(MAX_AGE)]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)


def test_a_frozen_worker_or_beat_turns_unhealthy_and_back(
        tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(yaml.safe_dump({"tick": 0.5, "data_dir": str(tmp_path / "var"),
                                      "feeds": []}), encoding="utf-8")
    env = environment(REDIS_URL=redis_url, FEEDWATCH_CONFIG=str(config))
    assert health(env, "worker").returncode == 1, "no worker has run yet"
    started = []
    for role in ("worker", "beat"):
        argv = command(service_command(role))
        if "--schedule" in argv:
            argv[argv.index("--schedule") + 1] = str(tmp_path / "beat-schedule")
        started.append(Process(argv, tmp_path / f"{role}.log", env))
    try:
        for role in ("worker", "beat"):
            wait_for(lambda r=role: health(env, r).returncode == 0, 60, f"a healthy {role}",
                     started)
        for process, role in zip(started, ("worker", "beat"), strict=True):
            process.signal(signal.SIGSTOP)
            unhealthy = wait_for(lambda r=role: (c := health(env, r)).returncode == 1 and c,
                                 30, f"a frozen {role} seen unhealthy", started)
            assert "s ago (more than 3 s)" in unhealthy.stdout
            process.signal(signal.SIGCONT)
            wait_for(lambda r=role: health(env, r).returncode == 0, 30,
                     f"the {role} healthy again", started)
    finally:
        for process in started:
            process.signal(signal.SIGCONT)
            process.stop()


def test_no_redis_or_a_bad_config_is_unhealthy_not_a_crash(tmp_path: Path) -> None:
    good, broken = tmp_path / "feeds.yaml", tmp_path / "broken.yaml"
    good.write_text("feeds: []\n", encoding="utf-8")
    broken.write_text("feeds: [\n", encoding="utf-8")
    for config in (good, broken):  # no Redis listens on port 1
        env = environment(REDIS_URL="redis://127.0.0.1:1/0", FEEDWATCH_CONFIG=str(config))
        answer = health(env, "worker")
        assert answer.returncode == 1, answer.stdout + answer.stderr
        assert answer.stdout.startswith("unhealthy: ")


def test_the_limit_follows_the_tick_and_is_never_under_a_minute(
        redis_client: redis.Redis) -> None:
    assert heartbeat.max_age(5.0) == 60.0
    assert heartbeat.max_age(30.0) == 180.0
    heartbeat.note(redis_client, "worker", now=time.time() - 59)
    assert heartbeat.check(redis_client, "worker", heartbeat.max_age(5.0)).healthy
    heartbeat.note(redis_client, "worker", now=time.time() - 61)
    assert not heartbeat.check(redis_client, "worker", heartbeat.max_age(5.0)).healthy
