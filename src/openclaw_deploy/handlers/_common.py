"""What every handler shares: API Gateway responses and request parsing, logging, and the
runtime objects built from the environment (table and queue names from `resources`)."""

from __future__ import annotations

import base64
import binascii
import contextvars
import functools
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.contract import ContractError, loads

if TYPE_CHECKING:
    from openclaw_deploy.runtime.connections import Connections
    from openclaw_deploy.runtime.history import History
    from openclaw_deploy.runtime.lifecycle import Lifecycle, TaskConfig
    from openclaw_deploy.runtime.pairing import Pairing
    from openclaw_deploy.runtime.settings import Settings

log = logging.getLogger("openclaw_deploy.handlers")
log.setLevel(logging.INFO)

MAX_BODY_BYTES: Final = 256 * 1024
"""Nothing we accept is bigger (a chat message is at most 32,000 characters)."""
JSON_HEADERS: Final = {"Content-Type": "application/json", "Cache-Control": "no-store"}

Event = Mapping[str, Any]
Response = dict[str, Any]


class BadRequestError(Exception):
    """Input we refuse: the handler answers `status` with `{"error": {code, message}}`."""

    def __init__(self, message: str, *, status: int = 400, code: str = "bad_request") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


# -- responses --------------------------------------------------------------------------------


def respond(status: int, body: Any = None, *, headers: Mapping[str, str] | None = None) -> Response:
    answer: Response = {"statusCode": status, "headers": dict(headers or JSON_HEADERS)}
    answer["body"] = (
        "" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    )
    return answer


def error(status: int, code: str, message: str) -> Response:
    return respond(status, {"error": {"code": code, "message": message}})


# -- requests ---------------------------------------------------------------------------------


def mapping(value: Any) -> Mapping[str, Any]:
    """`value` if it is a mapping, else an empty one: events from the outside are untrusted."""
    return value if isinstance(value, Mapping) else {}


def body_text(event: Event) -> str:
    """The request body as text (API Gateway base64-encodes binary bodies)."""
    raw = event.get("body")
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise BadRequestError("the body must be text")
    if event.get("isBase64Encoded") is True:
        try:
            data = base64.b64decode(raw, validate=True)
            raw = data.decode("utf-8")
        except (binascii.Error, ValueError):
            raise BadRequestError("the body is not valid base64 UTF-8") from None
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequestError("the body is too large", status=413, code="too_long")
    return raw


def json_body(event: Event) -> Any:
    """The body as JSON, within the size and nesting limits, with lone surrogates replaced."""
    text = body_text(event)
    if not text.strip():
        raise BadRequestError("a JSON body is required")
    try:
        return loads(text, max_bytes=MAX_BODY_BYTES)
    except ContractError as problem:
        status = 413 if problem.code == "too_long" else 400
        raise BadRequestError(f"the body: {problem}", status=status, code=problem.code) from None


def header(event: Event, name: str) -> str | None:
    """A request header, case-insensitively (HTTP API lower-cases them; tests may not)."""
    wanted = name.lower()
    for key, value in mapping(event.get("headers")).items():
        if isinstance(key, str) and key.lower() == wanted and isinstance(value, str):
            return value
    return None


def request_context(event: Event) -> Mapping[str, Any]:
    return mapping(event.get("requestContext"))


# -- configuration and runtime objects --------------------------------------------------------


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set")
    return value


def queue_url() -> str:
    return env(resources.INBOUND.env_var)


# The stores are imported where they are first used: each handler loads only the ones its
# routes need (the watchdog never loads pairing or history, the WebSocket handler no settings).


def lifecycle() -> Lifecycle:
    from openclaw_deploy.runtime.lifecycle import Lifecycle

    return Lifecycle(aws.dynamodb(), resources.table_name(resources.TASK_STATE))


def history() -> History:
    from openclaw_deploy.runtime.history import History

    return History(aws.dynamodb(), resources.table_name(resources.CONVERSATIONS))


def pairing() -> Pairing:
    from openclaw_deploy.runtime.pairing import Pairing

    return Pairing(aws.dynamodb(), resources.table_name(resources.PAIRING))


def settings() -> Settings:
    from openclaw_deploy.runtime.settings import Settings

    return Settings(aws.dynamodb(), resources.table_name(resources.SETTINGS))


def connections() -> Connections:
    from openclaw_deploy.runtime.connections import Connections

    return Connections(aws.dynamodb(), resources.table_name(resources.CONNECTIONS))


def task_config() -> TaskConfig:
    from openclaw_deploy.runtime.lifecycle import TaskConfig

    return TaskConfig.from_env()


# -- one log line per request ----------------------------------------------------------------

_LOGGING_REQUEST: contextvars.ContextVar[bool] = contextvars.ContextVar("logging", default=False)


def _describe(event: Event) -> str:
    """Method and path (HTTP) or route (WebSocket): never the query, headers or body, which can
    carry tickets, tokens and messages."""
    event = mapping(event)
    context = request_context(event)
    http = mapping(context.get("http"))
    if http:
        return f"{http.get('method', '?')} {http.get('path', '?')}"
    route = context.get("routeKey") or context.get("eventType") or "?"
    return f"ws {route}"


def logged(handler: Callable[[Event, Any], Response]) -> Callable[[Event, Any], Response]:
    """Wrap a Lambda handler so each request leaves one line: what, the status, how long.
    A handler called from another logged one (the API routing /telegram) adds no second line."""

    @functools.wraps(handler)
    def wrapper(event: Event, context: Any = None) -> Response:
        if _LOGGING_REQUEST.get():
            return handler(event, context)
        token = _LOGGING_REQUEST.set(True)
        started = time.monotonic()
        status: object = "error"
        try:
            answer = handler(event, context)
            status = mapping(answer).get("statusCode", "-")
            return answer
        finally:
            _LOGGING_REQUEST.reset(token)
            took = (time.monotonic() - started) * 1000
            log.info("%s %s %.0fms", _describe(event), status, took)

    return wrapper
