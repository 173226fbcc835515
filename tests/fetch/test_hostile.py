"""Hostile servers and documents: each gives a clear per-feed error, and the worker is unharmed."""

from __future__ import annotations

import json
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from textwrap import dedent

import pytest
import redis
from feedserver import FeedServer, Route, item, rss
from hypothesis import given, settings
from hypothesis import strategies as st

from worker import state
from worker.config import FeedConfig, Settings
from worker.exceptions import FetchError, FetchTimeout, NetworkError
from worker.fetch import MAX_REDIRECTS, HttpClient, fetch, new_client
from worker.hints import header_minimum
from worker.poll import Poller

Behaviour = Callable[[socket.socket], None]


class RawServer:
    """A TCP server on 127.0.0.1 that treats every connection with ``behaviour``."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.stopped = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/feed.xml"

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            self.behaviour(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stopped.set()
        self.sock.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[[Behaviour], RawServer]]:
    servers: list[RawServer] = []

    def make(behaviour: Behaviour) -> RawServer:
        servers.append(RawServer(behaviour))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def client() -> Iterator[HttpClient]:
    with new_client("feedwatch-test", timeout=0.5) as http:
        yield http


def never_finishes(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                 b"Content-Length: 100000\r\n\r\n<rss>")
    for _ in range(100):
        conn.sendall(b" ")
        time.sleep(0.1)


def trickles_headers(conn: socket.socket) -> None:
    """Each byte well within any read timeout; the headers would take a minute."""
    for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nX-Slow: " + b"a" * 200:
        conn.sendall(bytes([byte]))
        time.sleep(0.3)


def garbage(conn: socket.socket) -> None:
    conn.sendall(b"\x00\xff\xfe this is not HTTP at all \r\n\r\n\x13\x37" * 20)


def reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_a_body_that_never_finishes_stops_at_the_time_limit(
        raw_server: Callable[[Behaviour], RawServer], client: HttpClient) -> None:
    server = raw_server(never_finishes)
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match="not finished within"):
        fetch(client, server.url, max_bytes=1 << 20, deadline=1.0)
    assert time.monotonic() - started < 2.0, "each byte came in time, the whole did not"


def test_headers_sent_a_byte_at_a_time_stop_at_the_time_limit(
        raw_server: Callable[[Behaviour], RawServer]) -> None:
    """The read timeout (5 s here) never trips; the fetch's 1 s limit does."""
    server = raw_server(trickles_headers)
    started = time.monotonic()
    with new_client("feedwatch-test", timeout=5.0) as patient, \
            pytest.raises(FetchTimeout, match=r"not finished within the fetch's time limit \(1 s\)"):
        fetch(patient, server.url, max_bytes=1 << 20, deadline=1.0)
    assert time.monotonic() - started < 2.0


def test_garbage_instead_of_http_is_a_network_error(
        raw_server: Callable[[Behaviour], RawServer], client: HttpClient) -> None:
    with pytest.raises(NetworkError):
        fetch(client, raw_server(garbage).url, max_bytes=1 << 20, deadline=5)


def test_a_reset_connection_is_a_network_error(
        raw_server: Callable[[Behaviour], RawServer], client: HttpClient) -> None:
    with pytest.raises(NetworkError, match=r"connection broken|network error"):
        fetch(client, raw_server(reset).url, max_bytes=1 << 20, deadline=5)


def test_at_most_five_redirects(feed_server: FeedServer, client: HttpClient) -> None:
    feed_server.serve("/end", rss([item(1)]))
    for hop in range(7):
        feed_server.routes[f"/r{hop}"] = Route(
            status=301, headers={"Location": f"/r{hop + 1}" if hop < 6 else "/end"})
    assert fetch(client, feed_server.url(f"/r{7 - MAX_REDIRECTS}"),
                 max_bytes=1 << 20, deadline=5).status == 200
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetch(client, feed_server.url(f"/r{6 - MAX_REDIRECTS}"), max_bytes=1 << 20, deadline=5)


def test_the_feed_body_cap_can_be_set_per_feed(
        feed_server: FeedServer, redis_client: redis.Redis) -> None:
    big = feed_server.serve("/big.xml", rss([item(n) for n in range(40)]))
    small = FeedConfig(key="small", url=big, max_body_bytes=2000)
    usual = FeedConfig(key="usual", url=big)
    settings = Settings(path="<test>", feeds=(small, usual), stream="t:s", timeout=1.0)
    with new_client("feedwatch-test", timeout=1.0) as http:
        poller = Poller(settings, redis_client, http)
        assert poller.poll(small).error == "body larger than 2000 bytes"
        assert poller.poll(usual).new == 40
    assert state.load(redis_client, "small").last_error == "body larger than 2000 bytes"


@pytest.mark.parametrize("behaviour", [never_finishes, trickles_headers, garbage, reset])
def test_a_hostile_server_costs_only_its_own_feed(
        behaviour: Behaviour, raw_server: Callable[[Behaviour], RawServer],
        feed_server: FeedServer, redis_client: redis.Redis) -> None:
    bad = FeedConfig(key="bad", url=raw_server(behaviour).url)
    good = FeedConfig(key="good", url=feed_server.serve("/good.xml", rss([item(1)])))
    settings = Settings(path="<test>", feeds=(bad, good), stream="t:s", timeout=1.0)
    with new_client("feedwatch-test", timeout=0.5) as http:
        poller = Poller(settings, redis_client, http)
        assert poller.poll(bad).result == "error"
        assert poller.poll(good).new == 1
    assert state.load(redis_client, "bad").last_error


LAUGHS = dedent("""\
    import json, resource, sys
    from worker.parse import parse_feed
    doc = sys.stdin.buffer.read()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    parsed = parse_feed(doc, url="http://example.com/feed")
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    texts = [parsed.title or ""] + [str(e.get("summary", "")) + str(e.get("title", ""))
                                    for e in parsed.entries]
    print(json.dumps({"grown_kib": after - before, "longest": max(map(len, texts))}))
""")


def billion_laughs(external: str) -> bytes:
    levels = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 12))
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{levels}'
        f'<!ENTITY ext SYSTEM "{external}">]>'
        '<rss version="2.0"><channel><title>Laughs &l11;</title><link>http://example.com/</link>'
        '<item><title>One &ext;</title><link>http://example.com/1</link>'
        '<description>&l11;</description></item></channel></rss>'
    ).encode()


def test_entity_expansion_and_external_entities_neither_blow_up_nor_reach_out(
        feed_server: FeedServer) -> None:
    """feedparser's expat refuses the amplification (and falls back to its loose parser, which
    does not expand entities); external entities are never fetched. Measured here: the peak RSS
    of the parsing process grows by about 70 MB, for a document of 1 KB that would expand to
    300 GB."""
    external = feed_server.serve("/external.dtd", b"<!ENTITY x 'y'>")
    run = subprocess.run([sys.executable, "-c", LAUGHS], input=billion_laughs(external),
                         capture_output=True, timeout=60, check=True)
    measured = json.loads(run.stdout)
    assert measured["grown_kib"] < 200 * 1024, measured
    assert measured["longest"] < 1000, "no entity was expanded"
    assert feed_server.hits("/external.dtd") == []


def test_the_time_limit_covers_the_whole_redirect_chain(
        feed_server: FeedServer, client: HttpClient) -> None:
    feed_server.serve("/end", rss([item(1)]))
    for hop in range(4):
        feed_server.routes[f"/slow{hop}"] = Route(
            status=302, delay=0.4, headers={"Location": f"/slow{hop + 1}" if hop < 3 else "/end"})
    started = time.monotonic()
    with pytest.raises(FetchTimeout, match="time limit"):
        fetch(client, feed_server.url("/slow0"), max_bytes=1 << 20, deadline=1.0)
    assert time.monotonic() - started < 1.5, "each hop was in time, the chain was not"


_HEADER_NAMES = ["ETag", "Last-Modified", "Retry-After", "Set-Cookie", "Content-Type",
                 "Cache-Control", "Expires", "Date", "Content-Encoding", "Content-Language",
                 "X-Anything"]
_HEADER_VALUE = st.binary(max_size=40).filter(lambda value: b"\r" not in value and b"\n" not in value)


def test_any_header_bytes_give_an_answer_or_the_feeds_error(
        raw_server: Callable[[Behaviour], RawServer], client: HttpClient) -> None:
    """Whatever bytes a server puts in the headers fetch() and the scheduling read, the fetch
    ends within its limit with an answer or a FetchError, and the conditional GET after an
    answer too: an exception of another kind would be the feed's poll failing on a bug (an
    ETag beyond ASCII was one, tests/fetch/test_fetch.py). Redirects go to a path of the same server
    (a random Location could point past 127.0.0.1), so that their cookies go to the jar and
    back; the second hop is then a redirect loop."""
    answer = [b""]
    server = raw_server(lambda conn: conn.sendall(answer[0]))

    @settings(max_examples=120, deadline=None)
    @given(st.sampled_from([200, 301, 302, 304, 404, 429, 503]),
           st.lists(st.tuples(st.sampled_from(_HEADER_NAMES), _HEADER_VALUE), max_size=5))
    def check(status: int, headers: list[tuple[str, bytes]]) -> None:
        body = rss([item(1)]) if status == 200 else b""
        if status in (301, 302):
            headers = [("Location", b"/feed.xml?again"), *headers]
        answer[0] = (f"HTTP/1.1 {status} Whatever\r\n".encode()
                     + b"".join(name.encode() + b": " + value + b"\r\n" for name, value in headers)
                     + b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        validators = None
        for _ in range(2):
            started = time.monotonic()
            try:
                result = fetch(client, server.url, validators, max_bytes=1 << 20, deadline=2.0)
            except FetchError:
                return
            finally:
                assert time.monotonic() - started < 3.0
            header_minimum(result.headers, time.time())
            validators = result.validators

    check()
