"""A stand-in for an LLM provider's model-list endpoint, which `init` calls to check a key."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FakeLlmApi:
    """Accepts `valid_key` (Bearer or x-api-key) on any GET; 401 for any other key."""

    valid_key: str
    url: str = ""
    requests: list[dict[str, str]] = field(default_factory=list)


@contextmanager
def fake_llm_api(valid_key: str) -> Iterator[FakeLlmApi]:
    api = FakeLlmApi(valid_key=valid_key)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            auth = self.headers.get("Authorization", "").removeprefix("Bearer ")
            key = auth or self.headers.get("x-api-key", "")
            api.requests.append({"path": self.path, "key": key})
            ok = key == api.valid_key
            body = json.dumps({"data": [{"id": "model-1"}]} if ok else {"error": "invalid key"})
            self.send_response(200 if ok else 401)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
