"""A stand-in for Amazon Bedrock Runtime's InvokeModel APIs with Anthropic models.

It checks what AWS checks and answers what AWS answers:

* the SigV4 signature, recomputed with botocore over the signed headers and the body, for the
  expected credentials, region and service (`bedrock`): anything else is a 403
  `InvalidSignatureException` / `UnrecognizedClientException`;
* the body, as Bedrock's Anthropic schema does: `anthropic_version` must be
  `bedrock-2023-05-31`, `max_tokens` and `messages` present, and no field outside the schema
  (`model`, `stream`, ... are "extraneous keys": 400 `ValidationException`);
* `POST /model/<id>/invoke-with-response-stream` answers an AWS event stream
  (`application/vnd.amazon.eventstream`, prelude and message CRCs) of `chunk` events whose
  `bytes` are the base64 JSON of Anthropic's stream events; `POST /model/<id>/invoke` the
  message as JSON.

Models can script failures: an id containing `denied` is refused (403 AccessDeniedException),
`no-access` has no model access (403), `throttled` is throttled (429), `broken` fails mid-stream
(an exception message in the event stream).
"""

from __future__ import annotations

import base64
import json
import struct
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ANTHROPIC_VERSION: Final = "bedrock-2023-05-31"
ALLOWED_FIELDS: Final = frozenset(
    {
        "anthropic_version",
        "anthropic_beta",
        "max_tokens",
        "messages",
        "system",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "tools",
        "tool_choice",
        "thinking",
        "metadata",
    }
)


@dataclass(frozen=True)
class Invocation:
    model: str
    """The model id of the path, unquoted (e.g. `us.anthropic.claude-...:0`)."""
    action: str
    """`invoke` or `invoke-with-response-stream`."""
    body: dict[str, Any]
    access_key: str
    region: str
    service: str


@dataclass
class BedrockRuntime:
    credentials: Credentials
    region: str
    url: str = ""
    invocations: list[Invocation] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    """The error code of each request refused before reaching a model."""

    def reply(self, model: str) -> str:
        return f"bedrock says hi ({model})"


def event_stream_message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One message of the AWS event stream encoding: prelude (total and headers length, CRC32
    of those 8 bytes), string headers, payload, CRC32 of everything before it."""
    encoded = b""
    for name, value in headers.items():
        raw = value.encode()
        encoded += bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(raw)) + raw
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def chunk_event(event: Mapping[str, Any]) -> bytes:
    """A `chunk` event carrying one Anthropic stream event, as Bedrock sends it."""
    payload = json.dumps({"bytes": base64.b64encode(json.dumps(event).encode()).decode()})
    return event_stream_message(
        {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"},
        payload.encode(),
    )


def exception_event(code: str, message: str) -> bytes:
    return event_stream_message(
        {
            ":exception-type": code,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        json.dumps({"message": message}).encode(),
    )


def anthropic_events(model: str, words: list[str]) -> list[dict[str, Any]]:
    """Anthropic's stream events for a text answer of `words`."""
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_bdrk_fake",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 1},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    events += [
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}}
        for w in words
    ]
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": len(words)},
        },
        {
            "type": "message_stop",
            "amazon-bedrock-invocationMetrics": {"inputTokenCount": 10, "outputTokenCount": 3},
        },
    ]
    return events


def verify_sigv4(  # noqa: PLR0911 - one answer per check AWS makes
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
    service: str = "bedrock",
) -> str | None:
    """None when the request is signed as AWS requires for `credentials` in `region` for
    `service`, else the error code AWS answers. `url` is the URL as received (its path is
    signed as sent); `headers` have lower-case names."""
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 Credential="):
        return "MissingAuthenticationTokenException"
    try:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        signed = auth.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
        given = auth.split("Signature=", 1)[1].strip()
        access_key, _date, scope_region, scope_service, _terminal = scope
    except (IndexError, ValueError):
        return "IncompleteSignatureException"
    if access_key != credentials.access_key:
        return "UnrecognizedClientException"
    if (scope_region, scope_service) != (region, service) or "x-amz-date" not in headers:
        return "InvalidSignatureException"
    if credentials.token and headers.get("x-amz-security-token") != credentials.token:
        return "UnrecognizedClientException"
    if any(name not in headers for name in signed) or "host" not in signed:
        return "InvalidSignatureException"
    request = AWSRequest(
        method=method, url=url, data=body, headers={name: headers[name] for name in signed}
    )
    request.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(credentials, service, region)
    expected = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    return None if expected == given else "InvalidSignatureException"


def check_body(body: Any) -> str | None:
    """Bedrock's schema check of an Anthropic request body (None when it passes)."""
    if not isinstance(body, dict):
        return "Malformed input request: the body is not a JSON object"
    extra = sorted(set(body) - ALLOWED_FIELDS)
    if extra:
        return f"Malformed input request: #: extraneous key [{extra[0]}] is not permitted"
    if body.get("anthropic_version") != ANTHROPIC_VERSION:
        return "Malformed input request: #: required key [anthropic_version] not found"
    for name in ("max_tokens", "messages"):
        if name not in body:
            return f"Malformed input request: #: required key [{name}] not found"
    metadata = body.get("metadata")
    if metadata is not None and (not isinstance(metadata, dict) or set(metadata) - {"user_id"}):
        return "metadata: Extra inputs are not permitted"
    return None


@contextmanager
def bedrock_runtime(
    credentials: Credentials, region: str = "us-east-1"
) -> Iterator[BedrockRuntime]:
    """The stand-in on a loopback port; its `url` is the `bedrock-runtime` endpoint."""
    runtime = BedrockRuntime(credentials=credentials, region=region)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            answer_bedrock(runtime, self, raw, self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    runtime.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield runtime
    finally:
        server.shutdown()
        server.server_close()


def _send_error(handler: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
    body = json.dumps({"message": message}).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header(
        "x-amzn-ErrorType", f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/"
    )
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def answer_bedrock(
    runtime: BedrockRuntime, handler: BaseHTTPRequestHandler, raw: bytes, path: str
) -> Invocation | None:
    """Answer one request as Bedrock Runtime would (`path` relative to the endpoint's root,
    as received). Shared with the multi-provider stand-in (tests/fakes/provider_apis.py)."""
    headers = {name.lower(): value for name, value in handler.headers.items()}
    host = headers.get("host", "localhost")
    full_path = handler.path
    refusal = verify_sigv4(
        method="POST",
        url=f"http://{host}{full_path}",
        headers=headers,
        body=raw,
        credentials=runtime.credentials,
        region=runtime.region,
    )
    if refusal is not None:
        runtime.refusals.append(refusal)
        _send_error(handler, 403, refusal, "The request signature we calculated does not match")
        return None
    parts = urlsplit(path).path.strip("/").split("/")
    if (
        len(parts) != 3
        or parts[0] != "model"
        or parts[2]
        not in (
            "invoke",
            "invoke-with-response-stream",
        )
    ):
        runtime.refusals.append("UnknownOperationException")
        _send_error(handler, 404, "UnknownOperationException", "not an operation")
        return None
    model, action = unquote(parts[1]), parts[2]
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if problem := check_body(body):
        runtime.refusals.append("ValidationException")
        _send_error(handler, 400, "ValidationException", problem)
        return None
    scope = headers["authorization"].split("Credential=", 1)[1].split("/")
    invocation = Invocation(model, action, body, scope[0], scope[2], scope[3])
    runtime.invocations.append(invocation)
    if "no-access" in model:
        _send_error(
            handler,
            403,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
        )
    elif "denied" in model:
        _send_error(
            handler,
            403,
            "AccessDeniedException",
            "User: arn:aws:sts::123456789012:assumed-role/agent/task is not authorized to "
            f"perform: bedrock:InvokeModelWithResponseStream on resource: {model}",
        )
    elif "throttled" in model:
        _send_error(handler, 429, "ThrottlingException", "Too many requests, please wait.")
    elif action == "invoke":
        message = anthropic_events(model, [runtime.reply(model)])[0]["message"]
        message["content"] = [{"type": "text", "text": runtime.reply(model)}]
        message["stop_reason"] = "end_turn"
        encoded = json.dumps(message).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(encoded)))
        handler.end_headers()
        handler.wfile.write(encoded)
    else:
        words = [w + " " for w in runtime.reply(model).split(" ")]
        words[-1] = words[-1].rstrip()
        chunks = [chunk_event(e) for e in anthropic_events(model, words)]
        if "broken" in model:
            broke = exception_event("modelStreamErrorException", "The model stopped mid-answer.")
            chunks = [*chunks[:3], broke]
        handler.send_response(200)
        handler.send_header("Content-Type", "application/vnd.amazon.eventstream")
        handler.send_header("x-amzn-RequestId", "req-fake")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for chunk in chunks:
            handler.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            handler.wfile.flush()
            time.sleep(0.01)
        handler.wfile.write(b"0\r\n\r\n")
    return invocation
