"""Stand-ins for the LLM providers' streaming APIs, each in its own wire format, on one server.

| path prefix  | wire format                                       | key header           |
|--------------|---------------------------------------------------|----------------------|
| `/openai`    | OpenAI Chat Completions, SSE `chat.completion.chunk` | `Authorization: Bearer` |
| `/anthropic` | Anthropic Messages, SSE `message_start` ... `message_stop` | `x-api-key`     |
| `/gemini`    | Gemini `streamGenerateContent` (`alt=sse` or a JSON array) | `x-goog-api-key` |
| `/bedrock`   | Bedrock `InvokeModelWithResponseStream`, AWS event stream | SigV4, verified |

(The Bedrock route is tests/fakes/bedrock_runtime.py's: Anthropic events in `chunk` events.)

Each answers "<format> says hi (<model>)" when the key is the one expected for that prefix
(`keys`), and 401 in the format's own error shape otherwise; every request is recorded with
its format, model and the key it carried, so a test proves which provider a turn reached.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from botocore.credentials import Credentials

from tests.fakes.bedrock_runtime import BedrockRuntime, answer_bedrock, verify_sigv4


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
    """prefix -> the key that prefix accepts (Bedrock: a SigV4 signature of `bedrock`'s)."""
    bedrock: BedrockRuntime
    """The Bedrock route's checks: the credentials and region its signatures must be for."""
    url: str = ""
    calls: list[Call] = field(default_factory=list)

    def base(self, prefix: str) -> str:
        return f"{self.url}/{prefix}"

    def reply(self, fmt: str, model: str) -> str:
        return f"{fmt} says hi ({model})"


def _sse(data: Any, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


@contextmanager
def provider_apis(
    keys: dict[str, str],
    *,
    aws: Credentials | None = None,
    region: str = "us-east-1",
) -> Iterator[ProviderApis]:
    """`aws`: the credentials Bedrock calls must be signed with (default: moto's `testing`)."""
    credentials = aws or Credentials("testing", "testing")
    apis = ProviderApis(keys=dict(keys), bedrock=BedrockRuntime(credentials, region))

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
            raw = self.rfile.read(length)
            if prefix == "bedrock":
                self._bedrock(parts.path, rest, raw)
                return
            body = json.loads(raw or b"{}")
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
            else:
                self._gemini(model, words, sse="sse" in parse_qs(parts.query).get("alt", []))

        def _bedrock(self, path: str, rest: str, raw: bytes) -> None:
            """Bedrock Runtime as AWS answers it: the signature checked with botocore."""
            headers = {name.lower(): value for name, value in self.headers.items()}
            refusal = verify_sigv4(
                method="POST",
                url=f"http://{headers.get('host')}{self.path}",
                headers=headers,
                body=raw,
                credentials=apis.bedrock.credentials,
                region=apis.bedrock.region,
            )
            model = unquote(rest.split("/")[1]) if rest.count("/") == 2 else ""
            key = "sigv4" if refusal is None else ""
            # Recorded before the answer: a test that saw the answer finds the call.
            apis.calls.append(Call("bedrock", "bedrock", model, key, path))
            answer_bedrock(apis.bedrock, self, raw, rest)

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
            }
            self._send(401, json.dumps(shapes[fmt]).encode(), "application/json")

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
