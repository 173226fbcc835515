"""Fetching a feed over HTTP, politely: conditional GET, redirects, timeouts and a size cap.

:func:`fetch` turns every way a fetch can fail into a :class:`~worker.exceptions.FetchError`
whose message is fit to show a user in ``feedwatch status``. Redirects are followed here, hop by
hop, rather than by httpx: each hop after the first can go through a client guarded against
private networks (:mod:`worker.fetch.netguard`), and a chain of permanent redirects (301/308) is
reported so that the caller can learn the new address. The size cap holds after decompression
(:mod:`worker.fetch.decompress`), and the time limit for every network operation of the fetch, the
headers' included (:mod:`worker.fetch.deadline`).
"""

from __future__ import annotations

import base64
import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType

import httpcore
import httpx

from worker.exceptions import (
    AskedToWait,
    BodyTooLarge,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    NetworkError,
)
from worker.fetch import decompress
from worker.fetch.deadline import LimitedBackend, limit
from worker.fetch.netguard import GuardedBackend
from worker.hints import retry_after_time
from worker.state import Validators

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
ACCEPT_ENCODING = "gzip, deflate, br"
"""What :mod:`worker.fetch.decompress` decodes (br through the brotli package, a dependency)."""
MAX_REDIRECTS = 5
MAX_PORT = 65535
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
DEFAULT_PAUSE = 60.0
"""Seconds a host is paused after a 429 that does not say for how long."""
KEEPALIVE_EXPIRY = httpx.Limits().keepalive_expiry
"""Seconds an idle connection is kept for the next request to its host: httpx's default."""


@dataclass(frozen=True)
class FetchResult:
    """A feed response: either ``not_modified`` or a body with its headers."""

    url: str
    """The URL finally answered, after redirects."""
    status: int
    content: bytes
    headers: dict[str, str]
    """The response headers, names in lower case (repeated headers joined by ", ")."""
    validators: Validators
    moved_to: str | None = None
    """Where the leading permanent redirects (301/308) of this fetch led, if there were any."""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def new_client(
    user_agent: str, timeout: float, *, guard: bool = False, per_host: int = 8,
) -> HttpClient:
    """An HTTP client with feedwatch's headers and timeouts; redirects are left to :func:`fetch`.

    Connections are pooled per host, at most ``per_host`` each (see :class:`PerHostPools`).
    ``guard=True`` refuses private, loopback and link-local addresses (see
    :mod:`worker.fetch.netguard`): use it for URLs a remote party chose.
    """
    tls = httpx.create_ssl_context()  # one for all pools: each loads the CA bundle (~1 MB)
    backend = LimitedBackend(GuardedBackend() if guard else httpcore.SyncBackend())
    return HttpClient(
        PerHostPools(lambda: httpcore.ConnectionPool(
            ssl_context=tls, max_connections=per_host, max_keepalive_connections=per_host,
            keepalive_expiry=KEEPALIVE_EXPIRY, network_backend=backend)),
        headers={"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING},
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
    )


class HttpClient:
    """Sends GET requests with feedwatch's headers and timeouts straight to httpcore's pools.

    ``httpx.Client`` and its transport wrap every request and answer in models of their own
    (URL and header merging, a cookie jar, auth flows, event hooks, exception mapping), which
    cost CPU on every request (``bench/RESULTS.md``, seventh and ninth rounds), and feedwatch
    needs none of them:
    :func:`fetch` follows redirects itself and keeps cookies for one redirect chain only (a
    consent wall that sets one and redirects back), so no poll carries a cookie from the one
    before. httpx still parses each URL (IDNA, percent-encoding) and joins redirect targets.
    Credentials written in a URL (``https://user:password@host/feed``) are sent as HTTP Basic
    auth, as httpx would. The headers of a request are added to the client's, not merged with
    them: callers pass only the validators."""

    def __init__(
        self, pools: PerHostPools, *, headers: Mapping[str, str], timeout: httpx.Timeout,
    ) -> None:
        self.pools = pools
        self._headers = [(name.encode("ascii"), _header_bytes(value))
                         for name, value in headers.items()]
        self._timeout = timeout.as_dict()

    @contextlib.contextmanager
    def stream(
        self, url: str, headers: Mapping[str, str], cookies: httpx.Cookies | None = None,
    ) -> Iterator[Answer]:
        """The answer to a GET of ``url``, its body unread, closed when the block ends;
        ``cookies`` that apply to ``url`` go with it."""
        target = _checked_port(httpx.URL(url))
        sent = [(b"Host", target.netloc), *self._headers]
        sent.extend((name.encode("ascii"), _header_bytes(value)) for name, value in headers.items())
        if target.username or target.password:
            sent.append((b"Authorization", _basic_auth(target)))
        if cookies:
            sent.extend(_cookie_header(cookies, target))
        request = httpcore.Request(
            b"GET", httpcore.URL(scheme=target.raw_scheme, host=target.raw_host, port=target.port,
                                 target=target.raw_path),
            headers=sent, extensions={"timeout": self._timeout})
        response = self.pools.handle_request(request)
        try:
            yield Answer(target, response)
        finally:
            response.close()

    def close(self) -> None:
        self.pools.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class Answer:
    """An HTTP answer whose body is still to be read: what :func:`fetch` needs of it."""

    def __init__(self, url: httpx.URL, response: httpcore.Response) -> None:
        self.url = url
        self.status = response.status
        self.raw_headers = response.headers
        self.headers = dict(httpx.Headers(response.headers).items())
        """Names in lower case, repeated headers joined by ", ", decoded as httpx decodes
        them (ASCII, else UTF-8, else Latin-1); one pass, where each lookup by name in
        ``httpx.Headers`` decodes every header again."""
        reason = response.extensions.get("reason_phrase")
        self.reason = (httpx.codes.get_reason_phrase(self.status) if reason is None
                       else reason.decode("ascii", errors="ignore"))
        self._response = response

    def iter_raw(self) -> Iterator[bytes]:
        """The body as it comes, still compressed if it was."""
        yield from self._response.iter_stream()

    def read(self) -> None:
        """Read the body to its end (and drop it): the connection can then serve another."""
        self._response.read()

    def validator(self, name: bytes) -> str | None:
        """An ETag or Last-Modified value (the first that is not empty), byte for byte:
        decoded as Latin-1 (each byte one character), it is encoded back to the same bytes
        when sent (:func:`_header_bytes`)."""
        for key, value in self.raw_headers:
            if value and key.lower() == name:
                return value.decode("latin-1")
        return None


def _header_bytes(value: str) -> bytes:
    """A header value to send: Latin-1 when it fits (validators received, byte for byte, see
    :meth:`Answer.validator`), else UTF-8 (a user agent from the config)."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")


def _basic_auth(url: httpx.URL) -> bytes:
    credentials = f"{url.username}:{url.password}".encode()
    return b"Basic " + base64.b64encode(credentials)


def _cookie_header(cookies: httpx.Cookies, url: httpx.URL) -> list[tuple[bytes, bytes]]:
    """The Cookie header the jar has for ``url`` (none, most of the time)."""
    probe = httpx.Request("GET", url)
    probe.headers.encoding = "latin-1"  # the bytes the server set, whatever they are
    cookies.set_cookie_header(probe)
    return [(name, value) for name, value in probe.headers.raw if name.lower() == b"cookie"]


def _keep_cookies(cookies: httpx.Cookies, answer: Answer) -> None:
    """Take the cookies a redirect sets, for the rest of its chain, byte for byte (read as
    Latin-1 and sent back so, as validators are)."""
    response = httpx.Response(answer.status, headers=answer.raw_headers,
                              request=httpx.Request("GET", answer.url))
    response.headers.encoding = "latin-1"
    cookies.extract_cookies(response)


class PerHostPools:
    """A small connection pool per host (scheme, host, port), made on first use.

    One pool for all hosts costs every request a walk over all of its connections, under a
    lock that every polling thread shares; with hundreds of hosts polled at once that walk
    costs more than the request. A pool per host keeps both to a handful.
    """

    def __init__(self, make_pool: Callable[[], httpcore.ConnectionPool]) -> None:
        self._make_pool = make_pool
        self._pools: dict[tuple[bytes, bytes, int | None], httpcore.ConnectionPool] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpcore.Request) -> httpcore.Response:
        where = (request.url.scheme, request.url.host, request.url.port)
        pool = self._pools.get(where)
        if pool is None:
            with self._lock:
                pool = self._pools.setdefault(where, self._make_pool())
        return pool.handle_request(request)

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


def fetch(
    client: HttpClient,
    url: str,
    validators: Validators | None = None,
    *,
    max_bytes: int,
    deadline: float,
    redirect_client: HttpClient | None = None,
) -> FetchResult:
    """GET ``url`` (conditionally when ``validators`` are given) within ``deadline`` seconds.

    Redirects are followed up to :data:`MAX_REDIRECTS`, through ``redirect_client`` when given
    (a guarded client, so that a redirect cannot reach the private network). The body is read
    in chunks and refused once it passes ``max_bytes`` after decompression, so neither a huge
    feed nor a compression bomb can exhaust memory.
    """
    sent = validators.headers() if validators else {}
    started = time.monotonic()
    seen = [url]
    cookies = httpx.Cookies()  # for this redirect chain only (see HttpClient)
    moved_to: str | None = None
    permanent = True
    with limit(started + deadline):  # headers sent a byte at a time too (worker/fetch/deadline.py)
        try:
            while True:
                hop_client = client if len(seen) == 1 else (redirect_client or client)
                with hop_client.stream(seen[-1], sent, cookies) as response:
                    location = response.headers.get("location")
                    if response.status in REDIRECTS and location:
                        if "set-cookie" in response.headers:
                            _keep_cookies(cookies, response)
                        target = _redirect_target(response, location)
                        permanent = permanent and response.status in PERMANENT_REDIRECTS
                        moved_to = target if permanent else moved_to
                        _check_redirect(seen, target)
                        seen.append(target)
                        continue
                    if response.status == 304:
                        result = _result(response, b"", validators, moved_to)
                        if _declares_no_body(result.headers):
                            # httpcore keeps a connection for the next request only once its
                            # answer was read to the end: unread, every 304 cost a new connection.
                            response.read()
                        return result
                    if response.status >= 400:
                        raise _status_error(response)
                    body = _read_capped(response, max_bytes)
                    return _result(response, body, None, moved_to)
        except httpcore.TimeoutException as exc:
            if time.monotonic() >= started + deadline:
                raise FetchTimeout("timed out: not finished within the fetch's time limit "
                                   f"({deadline:g} s)") from exc
            raise FetchTimeout(f"timed out ({_describe(exc)})") from exc
        except httpcore.RemoteProtocolError as exc:
            raise NetworkError(f"connection broken by the server: {_describe(exc)}") from exc
        except _TRANSPORT_ERRORS as exc:
            raise NetworkError(f"network error: {_connect_failure(exc, seen[-1])}") from exc
        except httpx.InvalidURL as exc:
            raise FetchError(f"invalid URL {seen[-1]!r}: {exc}") from exc


_TRANSPORT_ERRORS = (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol)
"""What httpcore raises when a request fails, its timeouts apart (what httpx would map to its
``TransportError``)."""


def _redirect_target(response: Answer, location: str) -> str:
    try:
        return str(_checked_port(response.url.join(location)))
    except httpx.InvalidURL as exc:
        raise FetchError(f"redirect to an invalid URL {location!r}: {exc}") from exc


def _checked_port(url: httpx.URL) -> httpx.URL:
    """``url``, if its port is one: httpx takes any number, and the socket call keeps its low
    16 bits (port 99999 would connect to 34463)."""
    if url.port is not None and not 0 < url.port <= MAX_PORT:
        raise httpx.InvalidURL(f"port {url.port} is not in the range 1-{MAX_PORT}")
    return url


def _check_redirect(seen: list[str], target: str) -> None:
    if target in seen:
        raise FetchError(f"redirect loop: {' -> '.join([*seen, target])}")
    if len(seen) > MAX_REDIRECTS:
        raise FetchError(f"more than {MAX_REDIRECTS} redirects (last to {target})")
    if not target.lower().startswith(("http://", "https://")):
        raise FetchError(f"redirect to a URL that is not http(s): {target}")


def _declares_no_body(headers: dict[str, str]) -> bool:
    """True unless the answer's headers (names in lower case) announce a body. A 304 has
    none, and h11 reads none whatever the headers say; a connection after a 304 that sent one
    anyway would start the next answer with its bytes, so it is not kept."""
    return "transfer-encoding" not in headers and headers.get("content-length") in (None, "0")


def _status_error(response: Answer) -> HTTPStatusError:
    """The error for a 4xx/5xx answer; 429, and 503 with Retry-After, ask us to wait."""
    status = response.status
    message = f"HTTP {status} {response.reason}".strip()
    until = retry_after_time(response.headers.get("retry-after"), time.time())
    if status == 429 or (status == 503 and until is not None):
        until = until if until is not None else time.time() + DEFAULT_PAUSE
        return AskedToWait(status, message, until)
    return HTTPStatusError(status, message)


def _read_capped(response: Answer, max_bytes: int) -> bytes:
    """The body, decoded step by step (:mod:`worker.fetch.decompress`), so that neither a huge body
    nor a compression bomb is held in memory past ``max_bytes``."""
    chunks: list[bytes] = []
    size = 0
    for piece in _decoded(response):
        size += len(piece)
        if size > max_bytes:
            raise BodyTooLarge(f"body larger than {max_bytes} bytes")
        chunks.append(piece)
    return b"".join(chunks)


def _decoded(response: Answer) -> Iterator[bytes]:
    decoder = decompress.for_encoding(response.headers.get("content-encoding", ""))
    for raw in response.iter_raw():
        yield from decoder.decode(raw)
    yield from decoder.flush()


def _result(
    response: Answer, body: bytes, previous: Validators | None, moved_to: str | None,
) -> FetchResult:
    fresh = Validators(etag=response.validator(b"etag"),
                       last_modified=response.validator(b"last-modified"))
    if response.status == 304 and previous is not None:
        fresh = Validators(
            etag=fresh.etag or previous.etag,
            last_modified=fresh.last_modified or previous.last_modified,
        )
    return FetchResult(
        url=str(response.url),
        status=response.status,
        content=body,
        headers=response.headers,
        validators=fresh,
        moved_to=moved_to,
    )


def _describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


def _connect_failure(exc: Exception, url: str) -> str:
    """What went wrong, named by its kind when a connection failed for want of a DNS answer or
    a TLS handshake: httpcore reports both as a bare ``[Errno -2]`` or ``[SSL: ...]`` text."""
    if isinstance(exc, httpcore.ConnectError):
        host = httpx.URL(url).host
        for cause in _causes(exc):
            if isinstance(cause, socket.gaierror):
                return f"cannot resolve {host}: {cause.strerror or cause}"
            if isinstance(cause, ssl.SSLCertVerificationError):
                why = getattr(cause, "verify_message", None) or _os_error_text(cause)
                return f"TLS certificate of {host} not trusted: {why}"
            if isinstance(cause, ssl.SSLError):
                code = getattr(cause, "reason", None)  # set when OpenSSL raised it
                why = code.lower().replace("_", " ") if code else _os_error_text(cause)
                return f"TLS handshake with {host} failed: {why}"
    return _describe(exc)


def _os_error_text(exc: OSError) -> str:
    return exc.strerror or " ".join(str(arg) for arg in exc.args) or type(exc).__name__


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it was raised from or during, each once (a chain can loop)."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        cause = cause.__cause__ or cause.__context__
