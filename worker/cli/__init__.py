"""The ``feedwatch`` command: run the monitor, watch its output, try feeds, convert stories."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from worker.cli.tail import DEFAULT_CLAIM_IDLE
from worker.config import CONFIG_ENV, Settings, config_path, load_settings
from worker.exceptions import FeedwatchError
from worker.service import heartbeat
from worker.service.connection import REDIS_URL_ENV, connect, redis_url

if TYPE_CHECKING:
    from worker.service.embedded import EmbeddedValkey
    from worker.story import Story

# Each command imports what only it needs when it runs: `feedwatch health`, a container's
# healthcheck every half minute, then starts without the parsers and the HTTP client.

EXIT_PROBLEM = 2


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.handler(args)
        return code
    except FeedwatchError as exc:
        print(f"feedwatch: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedwatch", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="poll the configured feeds (worker and beat in one)")
    _config_option(run)
    run.add_argument("--concurrency", type=int, default=2, help="poll processes (default 2)")
    run.set_defaults(handler=cmd_run)

    tail = commands.add_parser("tail", help="print stories as they arrive on the stream")
    _config_option(tail)
    tail.add_argument("--group", help="read as this consumer group, acknowledging each story")
    tail.add_argument("--consumer", help="consumer name within the group (default: host-pid)")
    tail.add_argument("--format", choices=["json", "text"], default="json")
    tail.add_argument("--count", type=int, help="stop after this many stories")
    tail.add_argument("--from", dest="start", default="$",
                      help="'$' new stories only (default), '0' everything kept, an entry id, "
                           "or an ISO 8601 time such as 2026-11-24T10:00:00Z; with --group, "
                           "only when the group is created")
    tail.add_argument("--claim-idle", type=float, default=DEFAULT_CLAIM_IDLE, metavar="SECONDS",
                      help="with --group, take over stories another consumer left "
                           "unacknowledged this long (default 60)")
    tail.set_defaults(handler=cmd_tail)

    poll = commands.add_parser("poll", help="fetch and normalize one feed; publishes nothing")
    poll.add_argument("source", help="a feed URL or a local file")
    poll.add_argument("--format", choices=["json", "text"], default="json")
    poll.add_argument("--key", help="feed key to put on the stories", default=None)
    poll.add_argument("--source-name", help="outlet name to put on the stories", default=None)
    poll.set_defaults(handler=cmd_poll)

    convert = commands.add_parser("convert", help="convert a story between JSON and text")
    convert.add_argument("--to", choices=["json", "text"], required=True)
    convert.add_argument("--from", dest="source_format", choices=["story"],
                         help="read the CNN/DailyMail .story layout (default: JSON or text, "
                              "told apart by the first character)")
    convert.add_argument("file", nargs="?", help="input file (default: standard input)")
    convert.set_defaults(handler=cmd_convert)

    check = commands.add_parser("check-config", help="validate a config file")
    check.add_argument("path", nargs="?", help="config file (default: config/feeds.yaml)")
    check.set_defaults(handler=cmd_check_config)

    status = commands.add_parser("status", help="per feed: last poll, result, next due, errors")
    _config_option(status)
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--hosts", action="store_true",
                        help="per host: feeds, due and late, requests/s, limits, pauses")
    status.add_argument("--broken", action="store_true",
                        help="only the feeds with errors, retired or moved")
    status.set_defaults(handler=cmd_status)

    serve = commands.add_parser(
        "serve", help="serve a status page, /metrics (Prometheus), /healthz and /readyz")
    _config_option(serve)
    serve.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT",
                       help="address to bind (default 127.0.0.1:8080; no login: bind wider "
                            "only on a network you trust)")
    serve.set_defaults(handler=cmd_serve)

    health = commands.add_parser(
        "health", help="exit 0 if this host's worker (or a beat) is at work, 1 if not "
                       "(a container healthcheck)")
    health.add_argument("role", choices=["worker", "beat"])
    _config_option(health)
    health.add_argument("--host", help="the worker's host name (default: this host's)")
    health.add_argument("--max-age", type=float, metavar="SECONDS",
                        help="how old its last heartbeat may be (default: six ticks, at "
                             "least 60 s)")
    health.set_defaults(handler=cmd_health)

    dead = commands.add_parser("dead", help="entries that could not become stories")
    _config_option(dead)
    dead.add_argument("--json", action="store_true", help="one JSON object per line")
    dead.add_argument("--retry", nargs="*", metavar="ID",
                      help="normalize them again (all, or these ids) and publish those that work")
    dead.set_defaults(handler=cmd_dead)
    return parser


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="config file (default: config/feeds.yaml)")


def _settings(args: argparse.Namespace) -> Settings:
    path = config_path(args.config)
    os.environ[CONFIG_ENV] = str(path)
    return load_settings(path)


def cmd_run(args: argparse.Namespace) -> int:
    from worker.service.embedded import EmbeddedValkey

    settings = _settings(args)
    embedded = None
    if not (os.environ.get(REDIS_URL_ENV) or settings.redis_url):
        embedded = EmbeddedValkey(settings.data_dir)
        os.environ[REDIS_URL_ENV] = _start_shielded(embedded)
    url = redis_url(settings)
    print(f"feedwatch: {len(settings.enabled_feeds)} feeds from {settings.path}; stories go to "
          f"stream {settings.stream!r} on {url}\nfeedwatch: `feedwatch tail` in another "
          "terminal shows them; Ctrl-C stops", file=sys.stderr, flush=True)
    try:
        from worker.service.celery_app import app

        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        app.worker_main([
            "worker", "--beat", "--loglevel", "INFO", "--concurrency", str(args.concurrency),
            "--schedule", str(Path(settings.data_dir) / "celerybeat-schedule"),
        ])
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def _start_shielded(embedded: EmbeddedValkey) -> str:
    """Start the embedded server with SIGINT blocked, so Ctrl-C in the terminal reaches only
    the worker, which then shuts down cleanly while its Redis is still there."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return embedded.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def cmd_tail(args: argparse.Namespace) -> int:
    from worker.cli.tail import follow

    settings = _settings(args)
    client = connect(redis_url(settings))
    stories = follow(client, settings.stream, group=args.group, consumer=args.consumer,
                     start=args.start, count=args.count, claim_idle=args.claim_idle)
    for story in stories:
        _print_story(story, args.format)
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    from worker.normalize import normalize_entry
    from worker.parse import parse_feed

    content, url, headers = _read_source(args.source)
    parsed = parse_feed(content, url=url, headers=headers)
    if parsed.problem:
        print(f"feedwatch: malformed feed, read anyway: {parsed.problem}", file=sys.stderr)
    fetched_at = datetime.now(UTC)
    for entry in parsed.entries:
        story = normalize_entry(entry, parsed, feed_key=args.key, source=args.source_name,
                                fetched_at=fetched_at)
        _print_story(story, args.format)
    return 0


def _read_source(source: str) -> tuple[bytes, str, dict[str, str]]:
    if source.startswith(("http://", "https://")):
        from worker.fetch import fetch, new_client

        with new_client("feedwatch-poll/0.1", 30.0) as client:
            result = fetch(client, source, max_bytes=16 * 1024 * 1024, deadline=60.0)
        return result.content, result.url, result.headers
    path = Path(source)
    try:
        return path.read_bytes(), path.resolve().as_uri(), {}
    except OSError as exc:
        raise FeedwatchError(f"cannot read {source}: {exc.strerror or exc}") from exc


def cmd_convert(args: argparse.Namespace) -> int:
    from worker.story.text import parse_story_file, parse_text, render_text

    raw = Path(args.file).read_bytes() if args.file else sys.stdin.buffer.read()
    text = raw.decode("utf-8-sig")
    if args.source_format == "story":
        story = parse_story_file(text)
    elif text.lstrip().startswith("{"):
        story = _story_from_json(text)
    else:
        story = parse_text(text)
    if args.to == "json":
        out = json.dumps(story.to_dict(), ensure_ascii=False, indent=2) + "\n"
    else:
        out = render_text(story)
    sys.stdout.buffer.write(out.encode("utf-8"))
    sys.stdout.buffer.flush()
    return 0


def _story_from_json(text: str) -> Story:
    from worker.story import Story

    try:
        return Story.from_dict(json.loads(text))
    except (ValueError, TypeError) as exc:
        raise FeedwatchError(f"input is not a story in JSON: {exc}") from exc


def cmd_check_config(args: argparse.Namespace) -> int:
    settings = load_settings(args.path)
    enabled = len(settings.enabled_feeds)
    print(f"{settings.path}: ok, {len(settings.feeds)} feeds ({enabled} enabled)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from worker.report import groups as consumer_groups
    from worker.report import status as status_report

    settings = _settings(args)
    client = connect(redis_url(settings))
    if args.hosts:
        hosts = status_report.collect_hosts(client, settings)
        if args.json:
            print(json.dumps([row.__dict__ for row in hosts], indent=2))
        else:
            print(status_report.render_hosts(hosts))
        return 0
    rows = status_report.collect(client, settings)
    if args.broken:
        rows = [row for row in rows if not row.healthy]
    if args.json:
        print(json.dumps([row.__dict__ for row in rows], indent=2))
    else:
        print(status_report.render(rows))
        for line in status_report.overload_lines(status_report.collect_hosts(client, settings)):
            print(line)
        print()
        print(consumer_groups.render(consumer_groups.collect(client, settings)))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from worker.web.server import make_server

    settings = _settings(args)
    server = make_server(connect(redis_url(settings)), settings, args.listen)
    host, port = server.server_address[:2]
    print(f"feedwatch: serving the status page, /metrics, /healthz and /readyz on "
          f"http://{host!s}:{port}/",
          file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # docker stop: a clean exit
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    """Every failure exits 1, a bad config and an unreachable Redis too: Docker reserves 2."""
    try:
        settings = _settings(args)
        client = connect(redis_url(settings))
    except FeedwatchError as exc:
        print(f"unhealthy: {exc}")
        return 1
    limit = args.max_age if args.max_age is not None else heartbeat.max_age(settings.tick)
    health = heartbeat.check(client, args.role, limit, host=args.host)
    print(("healthy: " if health.healthy else "unhealthy: ") + health.message)
    return 0 if health.healthy else 1


def cmd_dead(args: argparse.Namespace) -> int:
    from worker.publish import deadletter

    settings = _settings(args)
    client = connect(redis_url(settings))
    if args.retry is not None:
        results = deadletter.retry(client, settings, args.retry or None)
        for result in results:
            outcome = "published" if result.published else f"failed again: {result.error}"
            print(f"{result.letter.id}  {result.letter.feed}  {result.letter.where}  {outcome}")
        return EXIT_PROBLEM if any(not r.published for r in results) else 0
    for letter in deadletter.letters(client, settings.stream):
        if args.json:
            print(json.dumps(letter.__dict__, ensure_ascii=False))
        else:
            print(f"{letter.id}  {letter.at}  {letter.feed}  {letter.where}\n    {letter.error}")
    return 0


def _print_story(story: Story, fmt: str) -> None:
    from worker.publish import story_json
    from worker.story.text import render_text

    if fmt == "json":
        print(story_json(story), flush=True)
        return
    when = story.published or story.fetched_at or ""
    lines = [f"── {when} · {story.source or ''} · {story.feed or ''}", story.title or "",
             story.url or "", "", render_text(story), ""]
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
