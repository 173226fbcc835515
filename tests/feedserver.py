"""A real HTTP server on 127.0.0.1 that serves feeds the way a test tells it to.

Each path answers with a feed body (honouring conditional GET), an error status, a slow answer,
or a broken connection; every request is logged with its headers so tests can check politeness.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formatdate
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "application/rss+xml; charset=utf-8"
    status: int = 200
    delay: float = 0.0
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int | None = None
    """Close the connection after sending this many body bytes of a longer declared length."""


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 turns away a batch of polls connecting at once


class FeedServer:
    def __init__(self, keep_alive: bool = False) -> None:
        """``keep_alive``: answer in HTTP/1.1 and keep connections open between requests
        (by default each answer closes its connection, as HTTP/1.0 does)."""
        self.keep_alive = keep_alive
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.arrivals: list[float] = []
        """When each request arrived (``time.time()``), in order."""
        self.client_ports: list[int] = []
        """The client's port of each request, in order: a new port is a new connection."""
        self.in_flight: Counter[str] = Counter()
        self.most_in_flight: Counter[str] = Counter()
        """Per path, the most requests it was answering at one time."""
        self.at_once = self.most_at_once = 0
        """Requests the whole server is answering now, and the most it answered at once."""
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def serve(self, path: str, body: bytes, **options: Any) -> str:
        """Serve ``body`` at ``path`` with an ETag and Last-Modified; return the URL."""
        tag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        route = Route(body=body, etag=tag, last_modified=formatdate(usegmt=True), **options)
        with self._lock:
            self.routes[path] = route
        return self.url(path)

    def fail(self, path: str, status: int, body: bytes = b"error") -> str:
        with self._lock:
            self.routes[path] = Route(body=body, status=status, content_type="text/plain")
        return self.url(path)

    def arrival_times(self, prefix: str = "/") -> dict[str, list[float]]:
        """When the requests for each path under ``prefix`` arrived, in order."""
        found: dict[str, list[float]] = {}
        with self._lock:
            for (path, _), at in zip(self.requests, self.arrivals, strict=True):
                if path.startswith(prefix):
                    found.setdefault(path, []).append(at)
        return found

    def hits(self, path: str) -> list[dict[str, str]]:
        with self._lock:
            return [headers for p, headers in self.requests if p == path]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if server.keep_alive else "HTTP/1.0"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path
                with server._lock:
                    server.requests.append((path, dict(self.headers)))
                    server.arrivals.append(time.time())
                    server.client_ports.append(self.client_address[1])
                    server.in_flight[path] += 1
                    server.most_in_flight[path] = max(
                        server.most_in_flight[path], server.in_flight[path])
                    server.at_once += 1
                    server.most_at_once = max(server.most_at_once, server.at_once)
                    route = server.routes.get(path)
                try:
                    self._route(route)
                finally:
                    with server._lock:
                        server.in_flight[path] -= 1
                        server.at_once -= 1

            def _route(self, route: Route | None) -> None:
                if route is None:
                    self._answer(404, b"not found", "text/plain", {})
                    return
                if route.delay:
                    time.sleep(route.delay)
                if route.status == 200 and self._not_modified(route):
                    self._answer(304, b"", None, self._validators(route))
                    return
                headers = {**self._validators(route), **route.headers}
                self._answer(route.status, route.body, route.content_type, headers,
                             route.cut_after)

            def _not_modified(self, route: Route) -> bool:
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    return True
                since = self.headers.get("If-Modified-Since")
                return bool(route.last_modified and since == route.last_modified
                            and not self.headers.get("If-None-Match"))

            def _validators(self, route: Route) -> dict[str, str]:
                found = {}
                if route.etag:
                    found["ETag"] = route.etag
                if route.last_modified:
                    found["Last-Modified"] = route.last_modified
                return found

            def _answer(self, status: int, body: bytes, content_type: str | None,
                        headers: dict[str, str], cut_after: int | None = None) -> None:
                try:
                    self.send_response(status)
                    if content_type:
                        self.send_header("Content-Type", content_type)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body if cut_after is None else body[:cut_after])
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                if cut_after is not None:
                    self.close_connection = True

        return Handler


def rss(items: list[dict[str, str]], title: str = "Test feed",
        link: str = "http://127.0.0.1/") -> bytes:
    """An RSS 2.0 document; each item may have title, link, guid, description, pubDate."""
    parts = [f"<item>{''.join(_element(k, v) for k, v in item.items())}</item>" for item in items]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>{escape(title)}</description>{''.join(parts)}</channel></rss>"
    ).encode()


def item(n: int, site: str = "http://news.example.com", **extra: str) -> dict[str, str]:
    """A typical news item number ``n``."""
    base = {
        "title": f"Story number {n}",
        "link": f"{site}/2026/11/24/story-{n}.html?utm_source=rss",
        "guid": f"{site}/2026/11/24/story-{n}.html",
        "description": f"<p>First paragraph of story {n}.</p><p>Second paragraph.</p>",
        "pubDate": "Tue, 24 Nov 2026 10:00:00 GMT",
    }
    base.update(extra)
    return base


def _element(name: str, value: str) -> str:
    return f"<{name}>{escape(value)}</{name}>"
