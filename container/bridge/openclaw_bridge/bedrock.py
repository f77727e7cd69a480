"""Amazon Bedrock behind the model proxy, spoken to as the Anthropic Messages API.

The pinned OpenClaw has no Bedrock wire format of its own (its `bedrock-converse-stream` API
lives in a plugin that is not published), so it is told that Bedrock is an `anthropic-messages`
provider whose base URL is the proxy's `/bedrock` route, and the proxy translates, the way
Anthropic's own SDK (`AnthropicBedrock`) does:

* `POST v1/messages` becomes `POST /model/<model id>/invoke-with-response-stream` (or `invoke`
  without `stream`), the body the same Messages body without `model` and `stream`, with
  `"anthropic_version": "bedrock-2023-05-31"`, the `anthropic-beta` header as `anthropic_beta`,
  and without the fields Bedrock refuses. The proxy then signs it with SigV4 (service `bedrock`)
  using the task role, which is granted `bedrock:InvokeModelWithResponseStream` on that model.
* The answer, an AWS event stream whose `chunk` events carry the Anthropic SSE events as base64
  JSON, goes back as `event: <type>\\ndata: <json>\\n\\n`, each event as soon as it is decoded.
* Bedrock's errors (`x-amzn-ErrorType`) become Anthropic-shaped ones with a fitting status; a
  403 says what the owner can do about it (grant the model, or enable its access).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Final, cast
from urllib.parse import quote

import httpx
from botocore.eventstream import EventStreamBuffer, EventStreamMessage, ParserError

from openclaw_bridge.proxy import ProxyError, Upstream
from openclaw_deploy.runtime.providers import bedrock_grant_command, resolve_model

log = logging.getLogger("openclaw_bridge.bedrock")

ANTHROPIC_VERSION: Final = "bedrock-2023-05-31"
MESSAGES_PATH: Final = "v1/messages"
MESSAGES_PATHS: Final = (("POST", MESSAGES_PATH), ("POST", "v1/messages/count_tokens"))
"""The Anthropic endpoints the Bedrock route answers (token counting with a clear 404)."""
DROPPED_FIELDS: Final = frozenset({"model", "stream", "service_tier", "container", "mcp_servers"})
"""Top-level Messages fields Bedrock's schema refuses ("extraneous key ... is not permitted")."""
METADATA_KEPT: Final = frozenset({"user_id"})
"""Bedrock accepts `metadata.user_id` only."""
BEDROCK_BETAS: Final = frozenset(
    {
        "computer-use-2024-10-22",
        "computer-use-2025-01-24",
        "computer-use-2025-11-24",
        "token-efficient-tools-2025-02-19",
        "interleaved-thinking-2025-05-14",
        "output-128k-2025-02-19",
        "dev-full-thinking-2025-05-14",
        "context-1m-2025-08-07",
        "context-management-2025-06-27",
        "effort-2025-11-24",
        "tool-search-tool-2025-10-19",
        "tool-examples-2025-10-29",
    }
)
"""The `anthropic-beta` values Bedrock takes; others (e.g. first-party-only features) are
dropped rather than failing the whole request with a ValidationException."""
MAX_ERROR_BYTES: Final = 64 * 1024
ERROR_TYPES: Final = {
    # Bedrock's error code -> (status sent to OpenClaw, Anthropic error type)
    "AccessDeniedException": (403, "permission_error"),
    "UnrecognizedClientException": (403, "permission_error"),
    "InvalidSignatureException": (403, "permission_error"),
    "ExpiredTokenException": (403, "permission_error"),
    "ValidationException": (400, "invalid_request_error"),
    "ResourceNotFoundException": (404, "not_found_error"),
    "ThrottlingException": (429, "rate_limit_error"),
    "ServiceQuotaExceededException": (429, "rate_limit_error"),
    "ModelTimeoutException": (408, "timeout_error"),
    "ModelNotReadyException": (503, "overloaded_error"),
    "ServiceUnavailableException": (503, "overloaded_error"),
    "ModelErrorException": (500, "api_error"),
    "ModelStreamErrorException": (500, "api_error"),
    "InternalServerException": (500, "api_error"),
}
STATUS_TYPES: Final = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    429: "rate_limit_error",
    503: "overloaded_error",
}
NO_MODEL_ACCESS: Final = "access to the model"
"""In Bedrock's AccessDenied message when the account has not enabled the model (not IAM)."""


class BedrockRequestError(Exception):
    """A request the proxy answers itself, in the Anthropic error shape."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


@dataclass(frozen=True, kw_only=True)
class BedrockCall:
    """One Messages request as Bedrock's InvokeModel(WithResponseStream)."""

    url: str
    body: bytes
    model: str
    """The model id called (an inference profile for current Claude models)."""
    stream: bool

    @property
    def headers(self) -> list[tuple[str, str]]:
        # What AnthropicBedrock sends: a JSON body, a JSON answer (or its event stream).
        return [("content-type", "application/json"), ("accept", "application/json")]

    def relay(self, response: httpx.Response, handler: BaseHTTPRequestHandler) -> None:
        """Bedrock's answer as the Anthropic Messages API gives it."""
        if response.status_code != 200:
            relay_error(response, handler, model=self.model)
        elif self.stream:
            relay_stream(response, handler)
        else:
            body = response.read()
            _send(handler, 200, "application/json", body)


def messages_call(
    *,
    base_url: str,
    region: str,
    path: str,
    incoming: Iterable[tuple[str, str]],
    body: bytes,
) -> BedrockCall:
    """The Bedrock request for an Anthropic Messages request to `path` (`v1/messages`)."""
    if path != MESSAGES_PATH:
        raise BedrockRequestError(
            404, "not_found_error", "Amazon Bedrock does not count tokens through this API"
        )
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        raise BedrockRequestError(400, "invalid_request_error", "the body is not JSON") from None
    if not isinstance(request, dict):
        raise BedrockRequestError(400, "invalid_request_error", "the body is not a JSON object")
    model = request.get("model")
    if not isinstance(model, str) or not model.strip() or model in (".", ".."):
        raise BedrockRequestError(400, "invalid_request_error", "model: a model id is required")
    model = resolve_model("bedrock", model.strip(), region)
    stream = bool(request.get("stream"))
    translated = {k: v for k, v in request.items() if k not in DROPPED_FIELDS}
    metadata = translated.pop("metadata", None)
    if isinstance(metadata, dict) and (
        kept := {k: metadata[k] for k in metadata if k in METADATA_KEPT}
    ):
        translated["metadata"] = kept
    translated["anthropic_version"] = ANTHROPIC_VERSION
    betas = _betas(incoming, translated.pop("anthropic_beta", None))
    if betas:
        translated["anthropic_beta"] = betas
    action = "invoke-with-response-stream" if stream else "invoke"
    # As the SDK does: the id is one path segment (an ARN's slashes escaped; `:` kept).
    url = f"{base_url.rstrip('/')}/model/{quote(model, safe=':')}/{action}"
    return BedrockCall(url=url, body=json.dumps(translated).encode(), model=model, stream=stream)


def _betas(incoming: Iterable[tuple[str, str]], in_body: Any) -> list[str]:
    wanted: list[str] = []
    for name, value in incoming:
        if name.lower() == "anthropic-beta":
            wanted += [b.strip() for b in value.split(",") if b.strip()]
    if isinstance(in_body, list):
        wanted += [b for b in in_body if isinstance(b, str)]
    kept = [b for b in dict.fromkeys(wanted) if b in BEDROCK_BETAS]
    dropped = tuple(b for b in dict.fromkeys(wanted) if b not in BEDROCK_BETAS)
    if dropped and dropped not in _LOGGED_DROPS:  # once per set, not at every call
        _LOGGED_DROPS.add(dropped)
        log.info("Bedrock: not sending the betas it does not take: %s", ", ".join(dropped))
    return kept


_LOGGED_DROPS: set[tuple[str, ...]] = set()


# -- the answer ---------------------------------------------------------------------------------


def _send(handler: BaseHTTPRequestHandler, status: int, content_type: str, body: bytes) -> None:
    handler.send_response_only(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()


def anthropic_error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def sse_event(data: Mapping[str, Any]) -> bytes:
    """One Anthropic SSE event (`event:` named after the JSON's `type`)."""
    kind = str(data.get("type") or "message")
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def error_code(response: httpx.Response, payload: Mapping[str, Any]) -> str:
    """Bedrock's error code: `x-amzn-ErrorType` (`Code:namespace`), else the body's `__type`."""
    raw = response.headers.get("x-amzn-errortype") or str(payload.get("__type") or "")
    return raw.split(":", 1)[0].rsplit("#", 1)[-1]


def describe_error(status: int, code: str, message: str, *, model: str) -> tuple[int, str, str]:
    """(status, Anthropic error type, message for the owner) for one Bedrock error."""
    sent, kind = ERROR_TYPES.get(code, (status, STATUS_TYPES.get(status, "api_error")))
    if sent == 403 and code == "AccessDeniedException" and NO_MODEL_ACCESS in message.lower():
        message = (
            f"Amazon Bedrock has not enabled {model} for this AWS account ({message}): "
            "enable it in the Bedrock console's model access page of the deployment's region"
        )
    elif sent == 403 and code in ("AccessDeniedException", ""):
        message = (
            f"the agent's task role may not invoke {model} on Amazon Bedrock ({message}); "
            f"grant it with: {bedrock_grant_command(model)}"
        )
    elif code:
        message = f"Amazon Bedrock: {code}: {message}"
    else:
        message = f"Amazon Bedrock: {message}"
    return sent, kind, message


def relay_error(response: httpx.Response, handler: BaseHTTPRequestHandler, *, model: str) -> None:
    raw = b""
    for chunk in response.iter_bytes():
        raw += chunk
        if len(raw) > MAX_ERROR_BYTES:
            break
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    text = str(payload.get("message") or payload.get("Message") or response.reason_phrase or "")
    code = error_code(response, payload)
    status, kind, message = describe_error(response.status_code, code, text, model=model)
    log.warning("Bedrock answered %d %s for %s", response.status_code, code or "-", model)
    _send(handler, status, "application/json", json.dumps(anthropic_error(kind, message)).encode())


def stream_events(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The SSE bytes of each Anthropic event in a Bedrock event stream, as each is complete.
    An exception message of the stream ends it with an Anthropic `error` event."""
    buffer = EventStreamBuffer()
    for chunk in chunks:
        buffer.add_data(chunk)
        for message in buffer:
            event = _event(message)
            if event is not None:
                yield sse_event(event)
                if event.get("type") == "error":
                    return


def _event(message: EventStreamMessage) -> dict[str, Any] | None:
    headers = cast("Mapping[str, Any]", message.headers)  # the stubs say int
    try:
        payload = json.loads(message.payload or b"{}")
    except ValueError:
        payload = {}
    kind = headers.get(":message-type")
    if kind in ("exception", "error"):
        code = str(headers.get(":exception-type") or headers.get(":error-code") or "")
        code = code[:1].upper() + code[1:]
        text = str(payload.get("message") or headers.get(":error-message") or code)
        _, error_kind, described = describe_error(500, code, text, model="the model")
        return anthropic_error(error_kind, described)
    if kind != "event" or headers.get(":event-type") != "chunk":
        return None
    try:
        data = json.loads(base64.b64decode(payload.get("bytes") or ""))
    except (ValueError, binascii.Error):
        log.warning("Bedrock sent a chunk that is not an Anthropic event; skipped")
        return None
    return data if isinstance(data, dict) else None


def relay_stream(response: httpx.Response, handler: BaseHTTPRequestHandler) -> None:
    handler.send_response_only(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Cache-Control", "no-cache")
    handler.send_header("Transfer-Encoding", "chunked")
    request_id = response.headers.get("x-amzn-requestid")
    if request_id:
        handler.send_header("request-id", request_id)
    handler.end_headers()
    out = handler.wfile
    try:
        try:
            for event in stream_events(response.iter_bytes()):
                out.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
                out.flush()
        except (httpx.HTTPError, ParserError) as error:
            log.warning("Bedrock's answer broke off: %s", type(error).__name__)
            broke = sse_event(anthropic_error("api_error", "Amazon Bedrock's answer broke off"))
            out.write(f"{len(broke):x}\r\n".encode() + broke + b"\r\n")
        out.write(b"0\r\n\r\n")
        out.flush()
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True  # OpenClaw closed its side (a cancelled turn)


def bedrock_call(
    upstream: Upstream, url: str, incoming: Iterable[tuple[str, str]], body: bytes
) -> BedrockCall | None:
    """The proxy's hook: the Bedrock request for an Anthropic Messages request on the Bedrock
    route (None for Bedrock's own endpoints, which pass through signed as they are)."""
    path = url[len(upstream.base_url.rstrip("/")) + 1 :].partition("?")[0]
    if ("POST", path) not in MESSAGES_PATHS or upstream.region is None:
        return None
    try:
        return messages_call(
            base_url=upstream.base_url,
            region=upstream.region,
            path=path,
            incoming=incoming,
            body=body,
        )
    except BedrockRequestError as error:
        raise ProxyError(error.status, str(error), error.kind) from None
