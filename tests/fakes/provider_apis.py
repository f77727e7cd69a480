"""Stand-ins for the LLM providers' streaming APIs, each in its own wire format, on one server.

| path prefix  | wire format                                       | key header           |
|--------------|---------------------------------------------------|----------------------|
| `/openai`    | OpenAI Chat Completions, SSE `chat.completion.chunk` | `Authorization: Bearer` |
| `/anthropic` | Anthropic Messages, SSE `message_start` ... `message_stop` | `x-api-key`     |
| `/gemini`    | Gemini `streamGenerateContent` (`alt=sse` or a JSON array) | `x-goog-api-key` |
| `/bedrock`   | Bedrock `ConverseStream`, AWS event stream (binary)  | SigV4 `Authorization` |

Each answers "<format> says hi (<model>)" when the key is the one expected for that prefix
(`keys`), and 401 in the format's own error shape otherwise; every request is recorded with
its format, model and the key it carried, so a test proves which provider a turn reached.
"""

from __future__ import annotations

import json
import re
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Call:
    prefix: str
    format: str
    model: str
    key: str
    path: str


@dataclass
class ProviderApis:
    keys: dict[str, str]
    """prefix -> the key that prefix accepts (Bedrock: any SigV4 signature)."""
    url: str = ""
    calls: list[Call] = field(default_factory=list)

    def base(self, prefix: str) -> str:
        return f"{self.url}/{prefix}"

    def reply(self, fmt: str, model: str) -> str:
        return f"{fmt} says hi ({model})"


def _event_stream_message(event: str, payload: dict[str, Any]) -> bytes:
    """One message of the AWS event stream encoding (`application/vnd.amazon.eventstream`)."""
    headers = b""
    for name, value in (
        (":event-type", event),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ):
        raw = value.encode()
        headers += bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(raw)) + raw
    body = json.dumps(payload).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + headers + body
    return message + struct.pack(">I", zlib.crc32(message))


def _sse(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


@contextmanager
def provider_apis(keys: dict[str, str]) -> Iterator[ProviderApis]:
    apis = ProviderApis(keys=dict(keys))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _stream(self, content_type: str, chunks: list[bytes]) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in chunks:
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
                time.sleep(0.01)
            self.wfile.write(b"0\r\n\r\n")

        def do_GET(self) -> None:
            self._send(200, json.dumps({"data": [{"id": "model-1"}]}).encode(), "application/json")

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            prefix, _, rest = parts.path.lstrip("/").partition("/")
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            expected = apis.keys.get(prefix)
            if rest.endswith("chat/completions"):
                fmt, model = "openai", str(body.get("model"))
                key = self.headers.get("Authorization", "").removeprefix("Bearer ")
            elif rest.endswith("v1/messages"):
                fmt, model = "anthropic", str(body.get("model"))
                key = self.headers.get("x-api-key", "")
            elif match := re.search(r"models/([^/:]+):streamGenerateContent$", rest):
                fmt, model = "gemini", match.group(1)
                query = parse_qs(parts.query)
                key = self.headers.get("x-goog-api-key") or query.get("key", [""])[0]
            elif match := re.search(r"model/([^/]+)/converse-stream$", rest):
                fmt, model = "bedrock", match.group(1)
                auth = self.headers.get("Authorization", "")
                key = "sigv4" if auth.startswith("AWS4-HMAC-SHA256 Credential=") else ""
                expected = "sigv4"
            else:
                self._send(404, b'{"error": "not a model endpoint"}', "application/json")
                return
            apis.calls.append(Call(prefix, fmt, model, key, parts.path))
            if not expected or key != expected:
                self._refuse(fmt)
                return
            text = apis.reply(fmt, model)
            words = [w + " " for w in text.split(" ")]
            words[-1] = words[-1].rstrip()
            if fmt == "openai":
                self._openai(model, words)
            elif fmt == "anthropic":
                self._anthropic(model, words)
            elif fmt == "gemini":
                self._gemini(model, words, sse="sse" in parse_qs(parts.query).get("alt", []))
            else:
                self._bedrock(words)

        def _refuse(self, fmt: str) -> None:
            shapes = {
                "openai": {
                    "error": {
                        "message": "Incorrect API key provided",
                        "type": "invalid_request_error",
                        "code": "invalid_api_key",
                    }
                },
                "anthropic": {
                    "type": "error",
                    "error": {"type": "authentication_error", "message": "invalid x-api-key"},
                },
                "gemini": {
                    "error": {
                        "code": 401,
                        "message": "API key not valid.",
                        "status": "UNAUTHENTICATED",
                    }
                },
                "bedrock": {"message": "The security token included in the request is invalid."},
            }
            status = 403 if fmt == "bedrock" else 401
            self._send(status, json.dumps(shapes[fmt]).encode(), "application/json")

        def _openai(self, model: str, words: list[str]) -> None:
            def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
                return _sse(
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": int(time.time()),
                        "model": model,
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    }
                )

            chunks = [chunk({"role": "assistant", "content": ""})]
            chunks += [chunk({"content": w}) for w in words]
            chunks += [chunk({}, "stop"), b"data: [DONE]\n\n"]
            self._stream("text/event-stream", chunks)

        def _anthropic(self, model: str, words: list[str]) -> None:
            start = {
                "type": "message_start",
                "message": {
                    "id": "msg_fake",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 10, "output_tokens": 1},
                },
            }
            chunks = [
                _sse(start, "message_start"),
                _sse(
                    {
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": {"type": "text", "text": ""},
                    },
                    "content_block_start",
                ),
            ]
            chunks += [
                _sse(
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": w},
                    },
                    "content_block_delta",
                )
                for w in words
            ]
            chunks += [
                _sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
                _sse(
                    {
                        "type": "message_delta",
                        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                        "usage": {"output_tokens": len(words)},
                    },
                    "message_delta",
                ),
                _sse({"type": "message_stop"}, "message_stop"),
            ]
            self._stream("text/event-stream", chunks)

        def _gemini(self, model: str, words: list[str], *, sse: bool) -> None:
            pieces = []
            for index, word in enumerate(words):
                last = index == len(words) - 1
                piece: dict[str, Any] = {
                    "candidates": [
                        {
                            "content": {"parts": [{"text": word}], "role": "model"},
                            "index": 0,
                            **({"finishReason": "STOP"} if last else {}),
                        }
                    ],
                    "modelVersion": model,
                }
                if last:
                    piece["usageMetadata"] = {
                        "promptTokenCount": 10,
                        "candidatesTokenCount": len(words),
                        "totalTokenCount": 10 + len(words),
                    }
                pieces.append(piece)
            if sse:
                self._stream("text/event-stream", [_sse(p) for p in pieces])
            else:
                self._stream("application/json", [json.dumps(pieces).encode()])

        def _bedrock(self, words: list[str]) -> None:
            chunks = [_event_stream_message("messageStart", {"role": "assistant"})]
            chunks += [
                _event_stream_message(
                    "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": w}}
                )
                for w in words
            ]
            chunks += [
                _event_stream_message("contentBlockStop", {"contentBlockIndex": 0}),
                _event_stream_message("messageStop", {"stopReason": "end_turn"}),
                _event_stream_message(
                    "metadata",
                    {
                        "usage": {
                            "inputTokens": 10,
                            "outputTokens": len(words),
                            "totalTokens": 10 + len(words),
                        },
                        "metrics": {"latencyMs": 5},
                    },
                ),
            ]
            self._stream("application/vnd.amazon.eventstream", chunks)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    apis.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield apis
    finally:
        server.shutdown()
        server.server_close()
