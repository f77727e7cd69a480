"""The local target's Amazon Bedrock Runtime: a deployment made with `--provider bedrock` runs
here without an AWS account, and its model calls are authorized as AWS would authorize them.

The agent's bridge signs each call with the task role's local credentials and sends Bedrock's
`InvokeModelWithResponseStream` (or `InvokeModel`) here instead of to AWS. Each call is checked
against the task role of the synthesized template (the same IAM evaluator as every other call
of the local cloud): the inference profile in this region and its model, as AWS checks a
cross-region profile. An allowed call is answered by a demo model in Bedrock's own format (the
Anthropic events inside an AWS event stream); a refused one with Bedrock's AccessDenied, so the
owner sees what they would see on AWS. Stdlib and botocore only.
"""

from __future__ import annotations

import base64
import json
import logging
import struct
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import unquote

from openclaw_deploy.offline_model import INTERNAL_BEGIN, message_text, user_words
from openclaw_deploy.runtime.providers import bedrock_foundation_model, is_bedrock_profile

log = logging.getLogger("openclaw_deploy.local.bedrock")

Authorize = Callable[[Mapping[str, str], str, str], "tuple[int, dict[str, str], bytes] | None"]
"""(headers, action, resource) -> None when allowed, else AWS's refusal (status, headers, body)."""
ACTIONS: Final = {
    "invoke-with-response-stream": "bedrock:InvokeModelWithResponseStream",
    "invoke": "bedrock:InvokeModel",
}
REPLY: Final = "Amazon Bedrock (the local target's demo model, {model}) heard you: {text}"


def event_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One message of the AWS event stream encoding (prelude, string headers, payload, CRCs)."""
    encoded = b""
    for name, value in headers.items():
        raw = value.encode()
        encoded += bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(raw)) + raw
    prelude = struct.pack(">II", 12 + len(encoded) + len(payload) + 4, len(encoded))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def chunk(event: Mapping[str, Any]) -> bytes:
    """A `chunk` event carrying one Anthropic stream event, as Bedrock sends it."""
    data = base64.b64encode(json.dumps(event).encode()).decode()
    return event_message(
        {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"},
        json.dumps({"bytes": data}).encode(),
    )


def last_user_text(body: Mapping[str, Any]) -> str:
    """What the person last typed (OpenClaw's envelope and internal context messages left out,
    as the offline model does)."""
    for message in reversed(body.get("messages") or []):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        text = message_text(message)
        if text.lstrip().startswith(INTERNAL_BEGIN):
            continue
        return user_words(text)
    return ""


def answer_events(model: str, text: str) -> Iterator[dict[str, Any]]:
    words = text.split(" ")
    yield {
        "type": "message_start",
        "message": {
            "id": "msg_bdrk_local",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        },
    }
    yield {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    for index, word in enumerate(words):
        piece = word if index == len(words) - 1 else word + " "
        yield {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": piece},
        }
    yield {"type": "content_block_stop", "index": 0}
    yield {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {"output_tokens": len(words)},
    }
    yield {"type": "message_stop"}


class LocalBedrock:
    """The stand-in on a loopback port; `url` is what the task's bridge sends Bedrock calls to."""

    def __init__(self, *, region: str, account: str, authorize: Authorize) -> None:
        self.region = region
        self.account = account
        self._authorize = authorize
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: refusals are in the IAM audit."""

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                runtime.handle(self, self.rfile.read(length))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="local-bedrock", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> LocalBedrock:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def resources(self, model: str) -> list[str]:
        """What AWS checks for a call to `model`: a cross-region profile in this region and
        account, then its model; a bare model in this region; an ARN as given."""
        if model.startswith("arn:"):
            return [model]
        foundation = f"arn:aws:bedrock:{self.region}::foundation-model/"
        if not is_bedrock_profile(model):
            return [foundation + model]
        return [
            f"arn:aws:bedrock:{self.region}:{self.account}:inference-profile/{model}",
            foundation + bedrock_foundation_model(model),
        ]

    def handle(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        parts = handler.path.split("?", 1)[0].strip("/").split("/")
        if len(parts) != 3 or parts[0] != "model" or parts[2] not in ACTIONS:
            self._error(handler, 404, "UnknownOperationException", "not a Bedrock operation")
            return
        model, action = unquote(parts[1]), ACTIONS[parts[2]]
        headers = {name.lower(): value for name, value in handler.headers.items()}
        for resource in self.resources(model):
            refused = self._authorize(headers, action, resource)
            if refused is not None:
                _status, extra, denied = refused
                log.warning("Bedrock refused %s on %s", action, resource)
                self._send(
                    handler, 403, {**extra, "x-amzn-ErrorType": "AccessDeniedException"}, denied
                )
                return
        try:
            body: Any = json.loads(raw or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict) or "messages" not in body:
            self._error(handler, 400, "ValidationException", "Malformed input request")
            return
        text = REPLY.format(model=model, text=last_user_text(body).strip() or "(nothing)")
        if parts[2] == "invoke":
            message = next(answer_events(model, text))["message"]
            message.update(content=[{"type": "text", "text": text}], stop_reason="end_turn")
            self._send(
                handler, 200, {"Content-Type": "application/json"}, json.dumps(message).encode()
            )
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "application/vnd.amazon.eventstream")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for event in answer_events(model, text):
            frame = chunk(event)
            handler.wfile.write(f"{len(frame):x}\r\n".encode() + frame + b"\r\n")
            handler.wfile.flush()
        handler.wfile.write(b"0\r\n\r\n")

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, headers: Mapping[str, str], body: bytes
    ) -> None:
        handler.send_response(status)
        for name, value in headers.items():
            if name.lower() != "content-length":
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def _error(self, handler: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
        body = json.dumps({"message": message}).encode()
        self._send(
            handler, status, {"Content-Type": "application/json", "x-amzn-ErrorType": code}, body
        )
