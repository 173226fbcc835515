"""A feed farm: one process serving N feeds on 127.0.0.x that publish new items as it runs.

Each feed is built from a real feed document in ``bench/templates`` (chosen by feed number): the
channel and the items' bodies are the template's, each item's identity (guid or id, link, date)
is the farm's, and so are its title and text (words of the template drawn at random, seeded by
the item), so every item of every feed is a distinct story. A feed shows its newest ``--items``
items. New items are published at ``rate`` items per second across the farm, each to a random
feed, never two in one feed within the same second (so that ``Last-Modified``, which has whole
seconds, changes with every item).

Conditional GET is honoured: ``If-None-Match`` first, else ``If-Modified-Since``, answered with
304. The farm listens on ``--hosts`` addresses (127.0.0.1 upwards, then 127.0.1.1 and on,
same port) to play many publishers; ``--layout`` says which feed lives on which host
(:func:`layout`): ``uniform``, feed ``n`` on host ``n % hosts``; ``one-host``, all on
127.0.0.1; ``skewed``, as on the real web, 30% of the feeds on 127.0.0.1 and the rest over the
other hosts with weights 1/rank (Zipf).

Control and ground truth, on any of its addresses:

- ``GET /_farm/stats``: responses so far (200 and 304), items published, the farm's own CPU
  seconds, the most requests one host had in flight at once, feed requests per host;
- ``POST /_farm/rate?value=R``: publish R new items per second from now on (0 stops);
- ``GET /_farm/truth``: every item that exists: each feed's first ``items`` (items 0 to
  items-1, there from the start) and each published one with its publication time.

Item ``k`` of feed ``n`` links to ``http://<host>:<port>/story/<n>/<k>``; that link is how a
benchmark finds it again on the output stream.

Run ``python bench/farm.py --help``; the driver starts it by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path

from aiohttp import web
from lxml import etree

TEMPLATES = Path(__file__).resolve().parent / "templates"

ATOM = "http://www.w3.org/2005/Atom"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RSS1 = "http://purl.org/rss/1.0/"
DC = "http://purl.org/dc/elements/1.1/"
SYNDICATION = "http://purl.org/rss/1.0/modules/syndication/"
ORIGINAL_LINK = "{http://rssnamespace.org/feedburner/ext/1.0}origLink"
"""FeedBurner's link to the original article, which readers may prefer to ``<link>``."""
MARKER = "FARM-ITEMS"
WORD = re.compile(r"[^\W\d_]+")
TEXT_WORDS = 100
"""Words in each item's text: more than the 80 below which feedwatch's ``full_text: auto``
fetches the article page, which neither peer does (and the farm serves no articles)."""
INITIAL_SPACING = 600
"""Seconds between the dates of a feed's initial items (they are backdated)."""


@dataclass(frozen=True)
class Template:
    """A feed document cut in three: before the items, one text per item, after the items.

    Item texts hold ``@@GUID@@``, ``@@LINK@@`` and ``@@DATE@@`` where the item's identity goes,
    and ``@@TITLE@@`` and ``@@TEXT@@`` where its words go.
    """

    name: str
    content_type: str
    head: str
    items: tuple[str, ...]
    tail: str
    iso_dates: bool
    vocabulary: tuple[str, ...]

    def render(self, entries: list[tuple[int, str, str, float]]) -> bytes:
        """The document with these (number, guid, link, published) items, newest first."""
        parts = [self.head]
        for number, guid, link, published in entries:
            text = self.items[number % len(self.items)]
            date = _iso(published) if self.iso_dates else formatdate(published, usegmt=True)
            title, words = self.words(guid)
            parts.append(text.replace("@@GUID@@", guid).replace("@@LINK@@", link)
                         .replace("@@DATE@@", date).replace("@@TITLE@@", title)
                         .replace("@@TEXT@@", words))
        parts.append(self.tail)
        return "".join(parts).encode("utf-8")

    def words(self, guid: str) -> tuple[str, str]:
        """A title and a text of the template's own words, the same for the same item, and
        different for different items (as different stories are: the same text in every
        item would make each a near-duplicate of all others)."""
        pick = random.Random(guid).choices
        return (" ".join(pick(self.vocabulary, k=8)).capitalize(),
                " ".join(pick(self.vocabulary, k=TEXT_WORDS)) + ".")


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def _drop(parent: etree._Element, *tags: str) -> None:
    for child in list(parent):
        if child.tag in tags or (isinstance(child.tag, str) and child.tag.startswith(
                f"{{{SYNDICATION}}}")):
            parent.remove(child)


def _add(parent: etree._Element, tag: str, text: str | None = None, **attrib: str) -> None:
    element = etree.SubElement(parent, tag, attrib)
    element.text = text


TEXT_TAGS = {"title": "@@TITLE@@", "description": "@@TEXT@@",
             f"{{{ATOM}}}title": "@@TITLE@@", f"{{{ATOM}}}summary": "@@TEXT@@",
             f"{{{ATOM}}}content": "@@TEXT@@", f"{{{RSS1}}}title": "@@TITLE@@",
             f"{{{RSS1}}}description": "@@TEXT@@",
             "{http://purl.org/rss/1.0/modules/content/}encoded": "@@TEXT@@"}


def _replace_words(item: etree._Element, vocabulary: set[str]) -> None:
    """Put placeholders where the item's title and text are; keep their words."""
    for child in item:
        placeholder = TEXT_TAGS.get(child.tag) if isinstance(child.tag, str) else None
        if placeholder:
            text = etree.tostring(child, method="text", encoding="unicode")
            vocabulary.update(w for w in WORD.findall(text) if len(w) > 2)
            for grandchild in list(child):
                child.remove(grandchild)
            child.attrib.pop("type", None)
            child.text = placeholder


def load_template(path: Path) -> Template:
    """Cut a real RSS 2.0, Atom or RSS 1.0 document into a :class:`Template`."""
    root = etree.parse(str(path)).getroot()
    vocabulary: set[str] = set()
    if root.tag == "rss":
        container = root.find("channel")
        assert container is not None, path
        items = container.findall("item")
        _drop(container, "ttl", "lastBuildDate", "pubDate")
        for item in items:
            _drop(item, "guid", "link", "pubDate", f"{{{DC}}}date", ORIGINAL_LINK)
            _add(item, "guid", "@@GUID@@", isPermaLink="false")
            _add(item, "link", "@@LINK@@")
            _add(item, "pubDate", "@@DATE@@")
        content_type, iso = "application/rss+xml", False
    elif root.tag == f"{{{ATOM}}}feed":
        container = root
        items = root.findall(f"{{{ATOM}}}entry")
        for item in items:
            _drop(item, *(f"{{{ATOM}}}{t}" for t in ("id", "link", "updated", "published")))
            _add(item, f"{{{ATOM}}}id", "@@GUID@@")
            _add(item, f"{{{ATOM}}}link", href="@@LINK@@", rel="alternate")
            _add(item, f"{{{ATOM}}}published", "@@DATE@@")
            _add(item, f"{{{ATOM}}}updated", "@@DATE@@")
        content_type, iso = "application/atom+xml", True
    elif root.tag == f"{{{RDF}}}RDF":
        container = root
        channel = root.find(f"{{{RSS1}}}channel")
        assert channel is not None, path
        _drop(channel, f"{{{RSS1}}}items")
        items = root.findall(f"{{{RSS1}}}item")
        for item in items:
            _drop(item, f"{{{RSS1}}}link", f"{{{DC}}}date", ORIGINAL_LINK)
            item.set(f"{{{RDF}}}about", "@@LINK@@")
            _add(item, f"{{{RSS1}}}link", "@@LINK@@")
            _add(item, f"{{{DC}}}date", "@@DATE@@")
        content_type, iso = "application/rdf+xml", True
    else:
        raise ValueError(f"{path}: not RSS 2.0, Atom or RSS 1.0")
    for item in items:
        _replace_words(item, vocabulary)
    texts = tuple(etree.tostring(i, encoding="unicode", with_tail=False) for i in items)
    for item in items:
        container.remove(item)
    container.append(etree.Comment(MARKER))
    whole = etree.tostring(root, encoding="unicode")
    head, tail = whole.split(f"<!--{MARKER}-->")
    return Template(path.stem, content_type, '<?xml version="1.0" encoding="utf-8"?>\n' + head,
                    texts, tail, iso, tuple(sorted(vocabulary)))


def load_templates(names: str = "") -> list[Template]:
    """The templates of ``bench/templates``, or those named (comma-separated file stems)."""
    wanted = {n.strip() for n in names.split(",") if n.strip()}
    paths = [p for p in sorted(TEMPLATES.glob("*.xml")) if not wanted or p.stem in wanted]
    if wanted - {p.stem for p in paths}:
        raise SystemExit(f"no such template: {', '.join(sorted(wanted - {p.stem for p in paths}))}")
    return [load_template(p) for p in paths]


LAYOUTS = ("uniform", "one-host", "skewed")
BIG_HOST_SHARE = 0.3
"""The share of the feeds on the busiest host in the skewed layout."""


def layout(feeds: int, hosts: int, name: str) -> list[int]:
    """The host number of each feed. Skewed: :data:`BIG_HOST_SHARE` of the feeds on host 0,
    the others over hosts 1 to ``hosts - 1`` in proportion to 1/rank (host 1 twice host 2's
    share, three times host 3's...), whole counts by largest remainder, feeds in order."""
    if name == "uniform":
        return [n % hosts for n in range(feeds)]
    if name == "one-host" or hosts == 1:
        return [0] * feeds
    big = round(feeds * BIG_HOST_SHARE)
    weights = [1 / rank for rank in range(1, hosts)]
    shares = [(feeds - big) * w / sum(weights) for w in weights]
    counts = [int(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: counts[i] - shares[i])
    for i in by_remainder[:feeds - big - sum(counts)]:
        counts[i] += 1
    return [0] * big + [h for h, count in enumerate(counts, 1) for _ in range(count)]


def address(host: int) -> str:
    """Host number ``host``'s loopback address: 127.0.0.1 to .254, then 127.0.1.1..."""
    return f"127.0.{host // 254}.{1 + host % 254}"


def feed_url(feed: int, host: int, port: int) -> str:
    """Where the farm serves feed number ``feed``, on host number ``host``."""
    return f"http://{address(host)}:{port}/feed/{feed}.xml"


def story_link(feed: int, item: int, host: int, port: int) -> str:
    return f"http://{address(host)}:{port}/story/{feed}/{item}"


class Farm:
    """The feeds' contents and what happened to them: pure state, no I/O."""

    def __init__(self, feeds: int, window: int, hosts: int, port: int,
                 templates: list[Template], seed: int = 1, layout_name: str = "uniform") -> None:
        self.feeds, self.window, self.hosts, self.port = feeds, window, hosts, port
        self.host_of = layout(feeds, hosts, layout_name)
        self.templates = templates
        self.started = time.time()
        self.newest = [window - 1] * feeds
        self.modified = [float(int(self.started))] * feeds
        self.published: list[tuple[int, int, float]] = []
        self.item_time: dict[tuple[int, int], float] = {}
        self.rate = 0.0
        self._owed = 0.0
        self._random = random.Random(seed)

    def template(self, feed: int) -> Template:
        return self.templates[feed % len(self.templates)]

    def etag(self, feed: int) -> str:
        return f'"{feed}-{self.newest[feed]}"'

    def last_modified(self, feed: int) -> str:
        return formatdate(self.modified[feed], usegmt=True)

    def not_modified(self, feed: int, if_none_match: str | None,
                     if_modified_since: str | None) -> bool:
        if if_none_match is not None:
            return self.etag(feed) in (tag.strip() for tag in if_none_match.split(","))
        if if_modified_since is not None:
            try:
                since = parsedate_to_datetime(if_modified_since).timestamp()
            except (TypeError, ValueError):
                return False
            return self.modified[feed] <= since
        return False

    def document(self, feed: int) -> bytes:
        newest = self.newest[feed]
        entries = []
        for item in range(newest, max(newest - self.window, -1), -1):
            published = self.item_time.get(
                (feed, item), self.started - (self.window - item) * INITIAL_SPACING)
            entries.append((item, f"farm-{feed}-{item}",
                            story_link(feed, item, self.host_of[feed], self.port), published))
        return self.template(feed).render(entries)

    def publish_due(self, now: float, elapsed: float) -> None:
        """Publish the items owed at ``rate`` for ``elapsed`` seconds, each to a random feed."""
        self._owed += self.rate * elapsed
        second = int(now)
        while self._owed >= 1:
            for _ in range(20):
                feed = self._random.randrange(self.feeds)
                if self.modified[feed] < second:
                    break
            else:
                return  # every feed tried already has an item this second: next time
            self.newest[feed] += 1
            self.modified[feed] = float(second)
            self.item_time[(feed, self.newest[feed])] = now
            self.published.append((feed, self.newest[feed], now))
            self._owed -= 1

    def truth(self) -> dict[str, object]:
        return {"feeds": self.feeds, "window": self.window, "hosts": self.hosts,
                "port": self.port, "started": self.started,
                "published": self.published}


class Counters:
    def __init__(self) -> None:
        self.ok = 0
        self.not_modified = 0
        self.in_flight: dict[str, int] = {}
        self.most_in_flight = 0
        self.requests: dict[str, int] = {}
        """Feed requests answered, per host address."""


def make_app(farm: Farm, latency: float) -> web.Application:
    counters = Counters()

    async def serve_feed(request: web.Request) -> web.StreamResponse:
        try:
            feed = int(request.match_info["feed"])
        except ValueError:
            raise web.HTTPNotFound() from None
        if not 0 <= feed < farm.feeds:
            raise web.HTTPNotFound()
        where = request.host
        counters.requests[where] = counters.requests.get(where, 0) + 1
        counters.in_flight[where] = busy = counters.in_flight.get(where, 0) + 1
        counters.most_in_flight = max(counters.most_in_flight, busy)
        try:
            if latency:
                await asyncio.sleep(latency)
            headers = {"ETag": farm.etag(feed), "Last-Modified": farm.last_modified(feed)}
            if farm.not_modified(feed, request.headers.get("If-None-Match"),
                                 request.headers.get("If-Modified-Since")):
                counters.not_modified += 1
                return web.Response(status=304, headers=headers)
            counters.ok += 1
            return web.Response(body=farm.document(feed), headers=headers,
                                content_type=farm.template(feed).content_type,
                                charset="utf-8")
        finally:
            counters.in_flight[where] -= 1

    async def stats(_: web.Request) -> web.Response:
        return web.json_response({
            "ok": counters.ok, "not_modified": counters.not_modified,
            "published": len(farm.published), "rate": farm.rate,
            "cpu_seconds": time.process_time(), "most_in_flight_per_host":
            counters.most_in_flight, "requests_per_host": counters.requests})

    async def set_rate(request: web.Request) -> web.Response:
        farm.rate = float(request.query["value"])
        return web.json_response({"rate": farm.rate})

    async def truth(_: web.Request) -> web.Response:
        return web.json_response(farm.truth())

    async def publisher(app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            last = time.time()
            while True:
                await asyncio.sleep(0.05)
                now = time.time()
                farm.publish_due(now, now - last)
                last = now
        task = asyncio.create_task(loop())
        yield
        task.cancel()

    app = web.Application()
    app.add_routes([web.get("/feed/{feed}.xml", serve_feed), web.get("/_farm/stats", stats),
                    web.post("/_farm/rate", set_rate), web.get("/_farm/truth", truth)])
    app.cleanup_ctx.append(publisher)
    return app


async def serve(farm: Farm, latency: float) -> None:
    runner = web.AppRunner(make_app(farm, latency), access_log=None)
    await runner.setup()
    for n in sorted(set(farm.host_of)):
        await web.TCPSite(runner, address(n), farm.port, backlog=4096).start()
    print(f"farm: {farm.feeds} feeds on {farm.hosts} host(s), port {farm.port}", flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=30, help="items shown per feed")
    parser.add_argument("--hosts", type=int, default=50, help="127.0.0.1 up to 127.0.0.50")
    parser.add_argument("--layout", choices=LAYOUTS, default="uniform",
                        help="which feed on which host (see layout())")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before answering")
    parser.add_argument("--rate", type=float, default=0.0, help="new items/s across the farm")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--templates", default="",
                        help="only these templates (comma-separated file stems); default all")
    args = parser.parse_args(argv)
    if not 1 <= args.hosts <= 254 * 254:
        parser.error("--hosts must be 1 to 64516")
    farm = Farm(args.feeds, args.items, args.hosts, args.port, load_templates(args.templates),
                args.seed, args.layout)
    farm.rate = args.rate
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(farm, args.latency))


if __name__ == "__main__":
    main()
