"""Fetching against a real local HTTP server: conditional GET, redirects, errors, limits."""

from __future__ import annotations

import base64
import contextlib
import gzip
import http.server
import socket
import ssl
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import brotli
import httpcore
import pytest
from feedserver import FeedServer, Route, item, rss

from worker.exceptions import BodyTooLarge, FetchError, FetchTimeout, HTTPStatusError, NetworkError
from worker.fetch import HttpClient, _connect_failure, fetch, new_client

DATA = Path(__file__).parent.parent / "data"


@pytest.fixture
def client() -> HttpClient:
    return new_client("feedwatch-test/1 (+http://example.invalid)", timeout=2.0)


def test_a_second_fetch_with_the_validators_gets_304(
        feed_server: FeedServer, client: HttpClient) -> None:
    url = feed_server.serve("/feed.xml", rss([item(1)]))
    first = fetch(client, url, max_bytes=1 << 20, deadline=5)
    assert first.status == 200 and b"Story number 1" in first.content
    assert first.validators.etag and first.validators.last_modified
    second = fetch(client, url, first.validators, max_bytes=1 << 20, deadline=5)
    assert second.not_modified and second.content == b""
    assert second.validators == first.validators, "a 304 keeps the validators it was sent"
    sent = feed_server.hits("/feed.xml")[-1]
    assert sent["If-None-Match"] == first.validators.etag
    assert sent["If-Modified-Since"] == first.validators.last_modified
    assert sent["User-Agent"].startswith("feedwatch-test/1")
    assert "gzip" in sent["Accept-Encoding"]


@pytest.mark.parametrize("wire", ['"caf\xe9"'.encode("latin-1"), '"café"'.encode()],
                         ids=["latin-1 byte", "utf-8 bytes"])
def test_an_etag_with_bytes_beyond_ascii_goes_back_as_it_came(
        feed_server: FeedServer, client: HttpClient, wire: bytes) -> None:
    """RFC 9110 lets an entity tag hold any byte from 0x80 up: the next conditional GET sends
    the very bytes received, and gets its 304."""
    url = feed_server.serve("/opaque.xml", rss([item(1)]))
    feed_server.routes["/opaque.xml"].etag = wire.decode("latin-1")  # the server's wire form
    first = fetch(client, url, max_bytes=1 << 20, deadline=5)
    second = fetch(client, url, first.validators, max_bytes=1 << 20, deadline=5)
    assert second.not_modified
    assert feed_server.hits("/opaque.xml")[-1]["If-None-Match"].encode("latin-1") == wire


def test_an_empty_etag_before_a_real_one_is_passed_over(
        feed_server: FeedServer, client: HttpClient) -> None:
    url = feed_server.serve("/two-etags.xml", rss([item(1)]))
    feed_server.routes["/two-etags.xml"].etag = None
    feed_server.routes["/two-etags.xml"].headers = {"ETag": "", "Etag": '"real"'}
    assert fetch(client, url, max_bytes=1 << 20, deadline=5).validators.etag == '"real"'


def test_last_modified_alone_is_used_when_there_is_no_etag(
        feed_server: FeedServer, client: HttpClient) -> None:
    url = feed_server.serve("/lm.xml", rss([item(1)]))
    feed_server.routes["/lm.xml"].etag = None
    first = fetch(client, url, max_bytes=1 << 20, deadline=5)
    assert first.validators.etag is None
    assert fetch(client, url, first.validators, max_bytes=1 << 20, deadline=5).not_modified


def test_redirects_are_followed_and_the_final_url_reported(
        feed_server: FeedServer, client: HttpClient) -> None:
    target = feed_server.serve("/new.xml", rss([item(1)]))
    feed_server.routes["/old.xml"] = Route(status=301, headers={"Location": target})
    result = fetch(client, feed_server.url("/old.xml"), max_bytes=1 << 20, deadline=5)
    assert result.status == 200 and result.url == target


def test_a_redirect_loop_is_a_clear_error(feed_server: FeedServer, client: HttpClient) -> None:
    feed_server.routes["/a"] = Route(status=302, headers={"Location": feed_server.url("/b")})
    feed_server.routes["/b"] = Route(status=302, headers={"Location": feed_server.url("/a")})
    with pytest.raises(FetchError) as caught:
        fetch(client, feed_server.url("/a"), max_bytes=1 << 20, deadline=5)
    assert str(caught.value) == "redirect loop: " + " -> ".join(
        feed_server.url(path) for path in ("/a", "/b", "/a"))


def test_a_redirect_to_a_broken_url_is_a_clear_error(
        feed_server: FeedServer, client: HttpClient) -> None:
    """A hostile or broken server's Location ends the fetch with the feed's error, not a crash
    of its poll."""
    feed_server.routes["/bad"] = Route(status=302, headers={"Location": "http://[::1/x"})
    with pytest.raises(FetchError) as caught:
        fetch(client, feed_server.url("/bad"), max_bytes=1 << 20, deadline=5)
    assert str(caught.value).startswith("redirect to an invalid URL 'http://[::1/x': ")


@pytest.mark.parametrize("port", [0, 65536, 99999])
def test_a_redirect_to_a_port_out_of_range_is_a_clear_error(
        feed_server: FeedServer, client: HttpClient, port: int) -> None:
    """httpx takes any number as a port, and the socket call would keep its low 16 bits:
    a Location with port 99999 would have reached port 34463."""
    location = f"http://127.0.0.1:{port}/feed"
    feed_server.routes["/moved"] = Route(status=301, headers={"Location": location})
    with pytest.raises(FetchError) as caught:
        fetch(client, feed_server.url("/moved"), max_bytes=1 << 20, deadline=5)
    assert str(caught.value) == (
        f"redirect to an invalid URL {location!r}: port {port} is not in the range 1-65535")


def test_a_url_with_a_port_out_of_range_is_not_requested(client: HttpClient) -> None:
    with pytest.raises(FetchError) as caught:
        fetch(client, "http://127.0.0.1:99999/feed", max_bytes=1 << 20, deadline=5)
    assert str(caught.value) == ("invalid URL 'http://127.0.0.1:99999/feed': "
                                 "port 99999 is not in the range 1-65535")


def test_an_error_status_is_an_http_status_error(
        feed_server: FeedServer, client: HttpClient) -> None:
    url = feed_server.fail("/broken", 500)
    with pytest.raises(HTTPStatusError) as caught:
        fetch(client, url, max_bytes=1 << 20, deadline=5)
    assert caught.value.status == 500
    assert str(caught.value) == "HTTP 500 Internal Server Error"


def test_a_server_that_does_not_answer_in_time_times_out(
        feed_server: FeedServer) -> None:
    url = feed_server.serve("/slow", rss([item(1)]), delay=3.0)
    with new_client("t", timeout=0.5) as quick, pytest.raises(FetchTimeout, match="timed out"):
        fetch(quick, url, max_bytes=1 << 20, deadline=5)


def test_a_body_cut_short_is_a_network_error(
        feed_server: FeedServer, client: HttpClient) -> None:
    url = feed_server.serve("/cut", rss([item(n) for n in range(20)]), cut_after=300)
    with pytest.raises(NetworkError, match="connection broken"):
        fetch(client, url, max_bytes=1 << 20, deadline=5)


def test_nobody_listening_is_a_network_error(client: HttpClient) -> None:
    with pytest.raises(NetworkError, match="network error"):
        fetch(client, "http://127.0.0.1:9/feed", max_bytes=1 << 20, deadline=5)


UNKNOWN_HOST = "feeds.unknown.test"


@pytest.fixture
def unresolvable(monkeypatch: pytest.MonkeyPatch) -> str:
    """A host name the resolver does not know. The resolver is stood in for: a real lookup of
    an unknown name would ask a DNS server off this machine."""
    real = socket.getaddrinfo

    def lookup(host: str, *args: Any, **kwargs: Any) -> Any:
        if host == UNKNOWN_HOST:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return UNKNOWN_HOST


@pytest.mark.parametrize("guard", [False, True], ids=["plain client", "guarded client"])
def test_a_name_that_does_not_resolve_is_a_clear_network_error(
        unresolvable: str, guard: bool) -> None:
    with new_client("feedwatch-test", timeout=2.0, guard=guard) as client, pytest.raises(
            NetworkError, match=f"^network error: cannot resolve {unresolvable}: Name or service"):
        fetch(client, f"http://{unresolvable}/feed.xml", max_bytes=1 << 20, deadline=5)


def test_a_tls_handshake_that_fails_is_a_clear_network_error(
        feed_server: FeedServer, client: HttpClient) -> None:
    plain = feed_server.serve("/feed.xml", rss([item(1)]))
    with pytest.raises(NetworkError) as caught:
        fetch(client, plain.replace("http://", "https://"), max_bytes=1 << 20, deadline=5)
    assert str(caught.value).startswith("network error: TLS handshake with 127.0.0.1 failed: ")


def test_a_tls_error_made_in_python_in_a_chain_that_loops_still_gives_a_message() -> None:
    """ssl errors raised by Python code lack the fields the C module sets; a chain of causes
    can point back at itself."""
    refused = ssl.SSLError("handshake refused")
    error = httpcore.ConnectError("connect failed")
    error.__cause__ = refused
    refused.__context__ = error
    assert _connect_failure(error, "https://feeds.example/x") == (
        "TLS handshake with feeds.example failed: handshake refused")
    looping = httpcore.ConnectError("no route")
    looping.__context__ = looping
    assert _connect_failure(looping, "https://feeds.example/x") == "no route"


@pytest.fixture
def self_signed() -> Iterator[str]:
    """An HTTPS server on 127.0.0.1 whose certificate no authority signed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(DATA / "self-signed.pem")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}/feed.xml"
    server.shutdown()
    server.server_close()


def test_a_certificate_nobody_vouches_for_is_refused_with_a_clear_error(
        self_signed: str, client: HttpClient) -> None:
    with pytest.raises(NetworkError) as caught:
        fetch(client, self_signed, max_bytes=1 << 20, deadline=5)
    message = str(caught.value)
    assert message.startswith("network error: TLS certificate of 127.0.0.1 not trusted: self")
    assert message.endswith("signed certificate")


def test_the_size_cap_holds_after_decompression(
        feed_server: FeedServer, client: HttpClient) -> None:
    bomb = gzip.compress(b"<rss>" + b" " * (4 << 20))
    assert len(bomb) < 10_000
    url = feed_server.serve("/bomb", bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(BodyTooLarge, match="larger than 1048576 bytes"):
        fetch(client, url, max_bytes=1 << 20, deadline=5)


@pytest.mark.parametrize("coding, bomb", [
    pytest.param("gzip", gzip.compress(b"\0" * (64 << 20)), id="gzip"),
    pytest.param("br", (DATA / "zeros-64MiB.br").read_bytes(), id="br"),
])
def test_a_compression_bomb_stops_at_the_cap_without_filling_memory(
        feed_server: FeedServer, client: HttpClient, coding: str, bomb: bytes) -> None:
    """64 MiB of zeros in 65 kB of gzip or 106 bytes of brotli: a single network read
    decoded whole would hold all of it before the cap could be checked."""
    url = feed_server.serve(f"/bomb.{coding}", bomb, headers={"Content-Encoding": coding})
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge, match="larger than 1048576 bytes"):
            fetch(client, url, max_bytes=1 << 20, deadline=5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"{peak} bytes held at most"


def test_a_gzip_body_is_decompressed(feed_server: FeedServer, client: HttpClient) -> None:
    body = rss([item(1)])
    url = feed_server.serve("/gz", gzip.compress(body), headers={"Content-Encoding": "gzip"})
    assert fetch(client, url, max_bytes=1 << 20, deadline=5).content == body


def test_a_brotli_body_is_decompressed(feed_server: FeedServer, client: HttpClient) -> None:
    body = rss([item(1)])
    url = feed_server.serve("/br", brotli.compress(body), headers={"Content-Encoding": "br"})
    assert fetch(client, url, max_bytes=1 << 20, deadline=5).content == body
    assert feed_server.hits("/br")[-1]["Accept-Encoding"] == "gzip, deflate, br"


def test_credentials_in_the_url_are_sent_as_basic_auth(
        feed_server: FeedServer, client: HttpClient) -> None:
    """A private feed written as https://user:password@host/feed.xml in the config."""
    url = feed_server.serve("/private.xml", rss([item(1)]))
    fetch(client, url.replace("://", "://reader:s%C3%A9same@"), max_bytes=1 << 20, deadline=5)
    fetch(client, url, max_bytes=1 << 20, deadline=5)
    with_credentials, without = feed_server.hits("/private.xml")
    expected = base64.b64encode("reader:sésame".encode()).decode()
    assert with_credentials["Authorization"] == f"Basic {expected}"
    assert "Authorization" not in without
    assert with_credentials["Host"] == url.split("/")[2], "the credentials stay out of Host"


@pytest.mark.parametrize("value", [b"yes", b"caf\xe9", "café€".encode()],
                         ids=["ascii", "latin-1 byte", "utf-8 bytes"])
def test_a_cookie_set_on_the_way_goes_with_the_rest_of_the_redirect_chain(
        feed_server: FeedServer, client: HttpClient, value: bytes) -> None:
    """A consent wall: it sets a cookie and redirects back to the feed, which then answers.
    The cookie goes back as the very bytes the server set."""
    end = feed_server.serve("/end.xml", rss([item(1)]))
    cookie = b"consent=" + value
    feed_server.routes["/start.xml"] = Route(status=302, headers={
        "Location": "/end.xml", "Set-Cookie": (cookie + b"; Path=/").decode("latin-1")})
    assert fetch(client, feed_server.url("/start.xml"), max_bytes=1 << 20, deadline=5).url == end
    fetch(client, end, max_bytes=1 << 20, deadline=5)
    assert [sent.get("Cookie") for sent in feed_server.hits("/end.xml")] == [
        cookie.decode("latin-1"), None]


def test_no_cookie_is_carried_from_one_poll_to_the_next(
        feed_server: FeedServer, client: HttpClient) -> None:
    """Each poll is a request of its own: a cookie one answer sets is not sent back."""
    url = feed_server.serve("/cookie.xml", rss([item(1)]),
                            headers={"Set-Cookie": "session=abc; Path=/"})
    fetch(client, url, max_bytes=1 << 20, deadline=5)
    fetch(client, url, max_bytes=1 << 20, deadline=5)
    assert [sent.get("Cookie") for sent in feed_server.hits("/cookie.xml")] == [None, None]


@pytest.mark.parametrize("guard", [False, True])
def test_each_host_gets_its_own_pool_and_all_share_one_tls_context(
        feed_server: FeedServer, guard: bool) -> None:
    """A pool per host keeps each request's walk over connections short; one TLS context
    for all keeps the CA bundle loaded once, not once per host (about 1 MB each)."""
    url = feed_server.serve("/f.xml", rss([item(1)]))
    other_host = url.replace("127.0.0.1", "127.0.0.2")
    client = new_client("feedwatch-test", timeout=2.0, guard=guard)
    for target in (url, other_host, url):  # nobody listens on 127.0.0.2; the guard refuses both
        with contextlib.suppress(FetchError):
            fetch(client, target, max_bytes=1_000_000, deadline=2.0)
    pools = list(client.pools._pools.values())
    assert len(pools) == 2
    assert pools[0]._ssl_context is pools[1]._ssl_context


@pytest.fixture
def keep_alive() -> Iterator[FeedServer]:
    server = FeedServer(keep_alive=True).start()
    yield server
    server.stop()


def test_one_connection_serves_a_body_a_304_and_another_body(keep_alive: FeedServer) -> None:
    url = keep_alive.serve("/feed.xml", rss([item(1)]))
    client = new_client("feedwatch-test", timeout=2.0)
    first = fetch(client, url, max_bytes=1 << 20, deadline=5)
    again = fetch(client, url, first.validators, max_bytes=1 << 20, deadline=5)
    third = fetch(client, url, max_bytes=1 << 20, deadline=5)
    assert (first.status, again.status, third.status) == (200, 304, 200)
    assert b"Story number 1" in third.content
    assert len(set(keep_alive.client_ports)) == 1, "kept alive for the next request"


def test_a_body_left_unread_gives_up_its_connection(keep_alive: FeedServer) -> None:
    """The rest of a refused body must not be read as the next answer on that connection."""
    big = keep_alive.serve("/big.xml", b"<rss>" + b"x" * 300_000 + b"</rss>")
    small = keep_alive.serve("/feed.xml", rss([item(1)]))
    client = new_client("feedwatch-test", timeout=2.0)
    with pytest.raises(BodyTooLarge):
        fetch(client, big, max_bytes=100_000, deadline=5)
    after = fetch(client, small, max_bytes=1 << 20, deadline=5)
    assert after.status == 200 and b"Story number 1" in after.content
    assert len(set(keep_alive.client_ports)) == 2, "a new connection after the cut-off body"


def test_a_304_that_carries_a_body_gives_up_its_connection(keep_alive: FeedServer) -> None:
    """Its stray bytes must not be read as the start of the next answer (maybe another feed's)."""
    keep_alive.routes["/bad304"] = Route(status=304, body=b"HELLO")  # a body where none may be
    small = keep_alive.serve("/feed.xml", rss([item(1)]))
    client = new_client("feedwatch-test", timeout=2.0)
    assert fetch(client, keep_alive.url("/bad304"), max_bytes=1 << 20, deadline=5).not_modified
    after = fetch(client, small, max_bytes=1 << 20, deadline=5)
    assert after.status == 200 and b"Story number 1" in after.content
