"""A stand-in for the Brave Search API (`GET /res/v1/web/search`), as OpenClaw's Brave plugin
calls it: the key in `X-Subscription-Token`, the query in `q`; Brave's JSON answer, or its 401
for another key. Every request is recorded with the key it carried."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Search:
    path: str
    query: str
    key: str


@dataclass
class BraveSearch:
    key: str
    url: str = ""
    searches: list[Search] = field(default_factory=list)

    @staticmethod
    def title(query: str) -> str:
        return f"Brave result for {query}"


@contextmanager
def brave_search(key: str) -> Iterator[BraveSearch]:
    brave = BraveSearch(key=key)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: object) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query).get("q", [""])[0]
            token = self.headers.get("X-Subscription-Token", "")
            brave.searches.append(Search(parts.path, query, token))
            if not parts.path.endswith("/res/v1/web/search"):
                self._send(404, {"type": "ErrorResponse", "error": {"code": "NOT_FOUND"}})
            elif token != brave.key:
                self._send(
                    401,
                    {
                        "type": "ErrorResponse",
                        "error": {"code": "SUBSCRIPTION_TOKEN_INVALID", "status": 401},
                    },
                )
            else:
                result = {
                    "title": brave.title(query),
                    "url": "https://example.org/result",
                    "description": "The one result the stand-in knows.",
                }
                self._send(200, {"type": "search", "web": {"type": "search", "results": [result]}})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    brave.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield brave
    finally:
        server.shutdown()
        server.server_close()
