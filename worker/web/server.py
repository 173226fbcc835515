"""The HTTP side of ``feedwatch serve``: a small threaded server from the standard library,
routing the status page (``/``, ``/status.json``), ``/metrics``, ``/healthz`` and ``/readyz``.
It has no login: it binds to 127.0.0.1 unless told otherwise (``--listen``)."""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import redis
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from worker.config import Settings
from worker.exceptions import FeedwatchError
from worker.web import page, readiness
from worker.web.metrics import FeedwatchCollector

log = logging.getLogger("feedwatch.web")

DEFAULT_LISTEN = "127.0.0.1:8080"


def parse_listen(listen: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``:PORT`` for every interface) as an address to bind."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise FeedwatchError(f"--listen {listen!r}: expected HOST:PORT, e.g. {DEFAULT_LISTEN}")
    return host.strip("[]") or "0.0.0.0", int(port)


def make_server(client: redis.Redis, settings: Settings, listen: str) -> ThreadingHTTPServer:
    """A server for ``listen``, not yet serving (``serve_forever``)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FeedwatchCollector(client, settings))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(registry))
            elif path == "/healthz":
                self._json(200, {"status": "ok"})
            elif path == "/readyz":
                self._json(*readiness.answer(readiness.checks(client, settings.tick)))
            elif path == "/":
                self._send(200, "text/html; charset=utf-8", page.page())
            elif path == "/status.json":
                self._status()
            else:
                self._json(404, {"error": f"no such page: {path}",
                                 "pages": ["/", "/status.json", "/metrics", "/healthz",
                                           "/readyz"]})

        def _status(self) -> None:
            try:
                self._json(200, page.status(client, settings))
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                self._json(503, {"error": f"Redis is unreachable: {exc}"})

        def _json(self, status: int, body: dict[str, Any]) -> None:
            self._send(status, "application/json",
                       json.dumps(body, default=str).encode() + b"\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s %s", self.address_string(), format % args)

    return ThreadingHTTPServer(parse_listen(listen), Handler)
