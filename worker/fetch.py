"""Fetching a feed over HTTP, politely: conditional GET, redirects, timeouts and a size cap.

:func:`fetch` turns every way a fetch can fail into a :class:`~worker.exceptions.FetchError`
whose message is fit to show a user in ``feedwatch status``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from worker.exceptions import (
    BodyTooLarge,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    NetworkError,
)

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Validators:
    """What the server told us last time, to ask it "only if changed"."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        sent = {}
        if self.etag:
            sent["If-None-Match"] = self.etag
        if self.last_modified:
            sent["If-Modified-Since"] = self.last_modified
        return sent


@dataclass(frozen=True)
class FetchResult:
    """A feed response: either ``not_modified`` or a body with its headers."""

    url: str
    """The URL finally answered, after redirects."""
    status: int
    content: bytes
    headers: dict[str, str]
    validators: Validators

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def new_client(user_agent: str, timeout: float) -> httpx.Client:
    """An HTTP client with feedwatch's headers, redirect policy and timeouts."""
    return httpx.Client(
        headers={"User-Agent": user_agent, "Accept": ACCEPT},
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
    )


def fetch(
    client: httpx.Client,
    url: str,
    validators: Validators | None = None,
    *,
    max_bytes: int,
    deadline: float,
) -> FetchResult:
    """GET ``url`` (conditionally when ``validators`` are given) within ``deadline`` seconds.

    The body is read in chunks and refused once it passes ``max_bytes`` after decompression,
    so neither a huge feed nor a compression bomb can exhaust memory.
    """
    sent = validators.headers() if validators else {}
    started = time.monotonic()
    try:
        with client.stream("GET", url, headers=sent) as response:
            if response.status_code == 304:
                return _result(response, b"", validators)
            if response.status_code >= 400:
                raise HTTPStatusError(
                    response.status_code,
                    f"HTTP {response.status_code} {response.reason_phrase}".strip(),
                )
            body = _read_capped(response, max_bytes, started + deadline)
            return _result(response, body, None)
    except httpx.TooManyRedirects as exc:
        raise FetchError(f"more than {MAX_REDIRECTS} redirects (or a redirect loop)") from exc
    except httpx.TimeoutException as exc:
        raise FetchTimeout(f"timed out ({_describe(exc)})") from exc
    except httpx.RemoteProtocolError as exc:
        raise NetworkError(f"connection broken by the server: {_describe(exc)}") from exc
    except httpx.HTTPError as exc:
        raise NetworkError(f"network error: {_describe(exc)}") from exc


def _read_capped(response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(f"body larger than {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise FetchTimeout("body not finished within the fetch's time limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _result(
    response: httpx.Response, body: bytes, previous: Validators | None,
) -> FetchResult:
    fresh = Validators(
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
    )
    if response.status_code == 304 and previous is not None:
        fresh = Validators(
            etag=fresh.etag or previous.etag,
            last_modified=fresh.last_modified or previous.last_modified,
        )
    return FetchResult(
        url=str(response.url),
        status=response.status_code,
        content=body,
        headers=dict(response.headers),
        validators=fresh,
    )


def _describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
