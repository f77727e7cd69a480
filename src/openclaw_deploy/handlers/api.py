"""The HTTP API under `/api/` (behind API Gateway's JWT authorizer) — routes in docs/protocol.md.

Each route imports the runtime store it uses when it runs: an invocation serves one route, so a
cold start loads only what that route needs.

API Gateway has checked the Cognito token before this runs; the handler still refuses a request
without the authorizer's `sub` claim (a misrouted call, or the local emulator misconfigured).
`POST /telegram` is routed to `telegram_webhook.handler`, which this module also answers when
the deployment sends every path to one function.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote

import boto3  # noqa: F401 - imported first, not nested: see bench/handler_imports.py
from botocore.exceptions import BotoCoreError, ClientError

from openclaw_deploy.handlers import _common, _schedules, _skills, _uploads
from openclaw_deploy.handlers._common import BadRequestError, Event, Response
from openclaw_deploy.handlers._tickets import Tickets
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.contract import ID_PATTERN, ascii_int

ENV_WS_URL: Final = "OPENCLAW_WS_URL"
"""The wss:// URL of the WebSocket API, returned with each ticket."""
TELEGRAM_NOTIFY_TIMEOUT: Final = 3.0
PAIRED_NOTICE: Final = "✅ The owner approved you. Write me anything."
STOP_REASON: Final = "stopped by the owner"

Route = Callable[["Request"], Response]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: Mapping[str, str]
    query: Mapping[str, str]
    user: str
    event: Event

    def json(self) -> Any:
        return _common.json_body(self.event)


@_common.logged
def handler(event: Event, context: Any = None) -> Response:
    event = _common.mapping(event)
    http = _common.mapping(_common.request_context(event).get("http"))
    method = http.get("method")
    path = event.get("rawPath") or http.get("path")
    if not isinstance(method, str) or not isinstance(path, str):
        return _common.error(400, "bad_request", "not an HTTP API event")
    try:
        return _dispatch(method.upper(), path, event)
    except BadRequestError as problem:
        return _common.error(problem.status, problem.code, problem.message)
    except (ClientError, BotoCoreError):
        _common.log.exception("AWS call failed: %s %s", method, path)
        return _common.error(503, "internal", "a service the agent needs did not answer")
    except Exception:  # noqa: BLE001 - a bug answers 500 with a log line, never a stack to the client
        _common.log.exception("unexpected error: %s %s", method, path)
        return _common.error(500, "internal", "unexpected error")


def _dispatch(method: str, path: str, event: Event) -> Response:
    index = path.find("/api/")
    if index < 0:
        return _common.error(404, "not_found", "no such route")
    local = path[index + len("/api") :].rstrip("/") or "/"
    allowed: list[str] = []
    for route_method, pattern, route in ROUTES:
        match = pattern.fullmatch(local)
        if match is None:
            continue
        if route_method != method:
            allowed.append(route_method)
            continue
        user = _user(event)
        if user is None:
            return _common.error(401, "unauthorized", "no authenticated user on the request")
        query = {
            key: value
            for key, value in _common.mapping(event.get("queryStringParameters")).items()
            if isinstance(key, str) and isinstance(value, str)
        }
        params = {key: unquote(value) for key, value in match.groupdict().items()}
        request = Request(method, local, params, query, user, event)
        return route(request)
    if allowed:
        answer = _common.error(405, "method_not_allowed", f"use {', '.join(sorted(allowed))}")
        answer["headers"]["Allow"] = ", ".join(sorted(allowed))
        return answer
    return _common.error(404, "not_found", "no such route")


def _user(event: Event) -> str | None:
    authorizer = _common.mapping(_common.request_context(event).get("authorizer"))
    claims = _common.mapping(_common.mapping(authorizer.get("jwt")).get("claims"))
    sub = claims.get("sub")
    return sub if isinstance(sub, str) and sub else None


# -- tickets ----------------------------------------------------------------------------------


def ws_ticket(request: Request) -> Response:
    tickets = Tickets(aws.dynamodb(), resources.table_name(resources.TICKETS))
    ticket, expires_at = tickets.issue(request.user)
    return _common.respond(
        201, {"ticket": ticket, "expiresAt": expires_at, "url": os.environ.get(ENV_WS_URL)}
    )


# -- history ----------------------------------------------------------------------------------


def list_conversations(request: Request) -> Response:
    conversations = _common.history().list_conversations()
    return _common.respond(200, {"conversations": [c.public() for c in conversations]})


def conversation_messages(request: Request) -> Response:
    from openclaw_deploy.runtime.history import DEFAULT_PAGE, MAX_PAGE

    session = request.params["session"]
    if not ID_PATTERN.match(session):
        raise BadRequestError(f"session must match {ID_PATTERN.pattern}")
    limit = ascii_int(request.query.get("limit", str(DEFAULT_PAGE)))
    if limit is None or not 1 <= limit <= MAX_PAGE:
        raise BadRequestError(f"limit must be a whole number from 1 to {MAX_PAGE} (ASCII digits)")
    try:
        page = _common.history().page(session, limit=limit, before=request.query.get("before"))
    except ValueError as problem:
        raise BadRequestError(str(problem)) from None
    messages = [m.public() for m in page.messages]
    for message in messages:
        if message.get("attachments"):
            message["attachments"] = _uploads.with_urls(message["attachments"])
    return _common.respond(200, {"messages": messages, "next": page.next})


MAX_TITLE_CHARS: Final = 200
"""Longest title accepted when renaming (stored shortened to the list's 80 characters)."""


def _session_param(request: Request) -> str:
    session = request.params["session"]
    if not ID_PATTERN.match(session):
        raise BadRequestError(f"session must match {ID_PATTERN.pattern}")
    return session


def rename_conversation(request: Request) -> Response:
    session = _session_param(request)
    body = request.json()
    title = body.get("title") if isinstance(body, dict) else None
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE_CHARS:
        message = f"title must be a non-empty string of at most {MAX_TITLE_CHARS} characters"
        return _common.respond(
            400, {"error": {"code": "bad_request", "message": message, "field": "title"}}
        )
    renamed = _common.history().rename(session, title)
    if renamed is None:
        return _common.error(404, "not_found", "no such conversation")
    return _common.respond(200, {"conversation": renamed.public()})


def delete_conversation(request: Request) -> Response:
    session = _session_param(request)
    _common.history().delete_conversation(session)
    return _common.respond(204)


# -- settings ---------------------------------------------------------------------------------


def get_settings(request: Request) -> Response:
    return _common.respond(200, _common.settings().get().public())


def put_settings(request: Request) -> Response:
    from openclaw_deploy.runtime.keys import missing_key
    from openclaw_deploy.runtime.settings import SettingsError, validate

    changes = request.json()
    if not isinstance(changes, dict):
        raise BadRequestError("the body must be a JSON object of settings")
    settings = _common.settings()
    try:
        chosen = validate(changes, settings.get())
        needs = chosen.provider if "provider" in changes else None
        if needs and (problem := missing_key(needs, _keys().stored_ids())):
            return _common.respond(
                409, {"error": {"code": "no_key", "message": problem, "field": "provider"}}
            )
        if needs and (problem := _missing_grant(needs, chosen.model)):
            return _common.respond(
                409, {"error": {"code": "no_grant", "message": problem, "field": "model"}}
            )
        saved = settings.put(changes)
    except SettingsError as problem:
        return _common.respond(
            400,
            {"error": {"code": "bad_request", "message": str(problem), "field": problem.field}},
        )
    return _common.respond(200, saved.public())


def _missing_grant(provider: str, model: str | None) -> str | None:
    """Why the agent's role could not call `model` (Bedrock: only the model init chose)."""
    from openclaw_deploy.runtime.providers import missing_bedrock_grant

    return missing_bedrock_grant(
        provider,
        model,
        default_provider=os.environ.get("OPENCLAW_LLM_PROVIDER"),
        default_model=os.environ.get("OPENCLAW_LLM_MODEL"),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "",
    )


# -- providers, models and keys ---------------------------------------------------------------

APPLIES: Final = (
    "A change applies to the agent's next turn (a running agent looks at the settings before "
    "each one); no restart."
)


def _keys() -> Any:
    from openclaw_deploy.runtime.keys import ENV_KEYS_PATH, KeyStore

    path = os.environ.get(ENV_KEYS_PATH)
    if not path:
        raise RuntimeError(f"{ENV_KEYS_PATH} is not set")
    return KeyStore(aws.ssm(), path)


def list_providers(request: Request) -> Response:
    from openclaw_deploy.runtime.providers import PROVIDERS, TOOLS

    stored = {key.id: key for key in _keys().list_keys()}

    def key_state(key_id: str) -> dict[str, Any]:
        key = stored.get(key_id)
        return {"hasKey": key is not None, "keyUpdatedAt": key.updated_at if key else None}

    providers = [
        {
            "id": p.id,
            "label": p.label,
            "needsKey": p.needs_key,
            "keyOptional": p.key_optional,
            "needsBaseUrl": p.needs_base_url,
            "defaultModel": p.default_model or None,
            "models": list(p.curated_models),
            "keyPage": p.key_page,
            **key_state(p.id),
        }
        for p in PROVIDERS.values()
        if p.id != "offline" or os.environ.get("OPENCLAW_LLM_PROVIDER") == "offline"
    ]
    tools = [
        {"id": t.id, "label": t.label, "tool": t.tool, "keyPage": t.key_page, **key_state(t.id)}
        for t in TOOLS.values()
    ]
    default = {
        "provider": os.environ.get("OPENCLAW_LLM_PROVIDER"),
        "model": os.environ.get("OPENCLAW_LLM_MODEL"),
    }
    return _common.respond(
        200, {"providers": providers, "tools": tools, "default": default, "applies": APPLIES}
    )


def provider_models(request: Request) -> Response:
    from openclaw_deploy.runtime.catalog import list_models
    from openclaw_deploy.runtime.providers import PROVIDERS

    provider = PROVIDERS.get(request.params["provider"])
    if provider is None:
        return _common.error(404, "not_found", "no such provider")
    key = _keys().get(provider.id) if provider.takes_key else None
    base_url = None
    if provider.needs_base_url:
        saved = _common.settings().get().base_url
        base_url = request.query.get("baseUrl") or saved
        if base_url != saved:
            key = None  # the stored key goes only to the endpoint the owner saved
    return _common.respond(200, list_models(provider, key, base_url=base_url).public())


def put_key(request: Request) -> Response:
    from openclaw_deploy.runtime.keys import InvalidKeyError

    body = request.json()
    value = body.get("key") if isinstance(body, dict) else None
    if not isinstance(value, str):
        raise BadRequestError('the body must be {"key": "..."}')
    try:
        stored = _keys().store_key(request.params["key"], value)
    except InvalidKeyError as problem:
        return _common.respond(
            400, {"error": {"code": "bad_request", "message": str(problem), "field": "key"}}
        )
    # Write-only: the answer says when, never what.
    return _common.respond(200, {**stored.public(), "applies": APPLIES})


def delete_key(request: Request) -> Response:
    from openclaw_deploy.runtime.keys import InvalidKeyError, check_key_id

    key_id = request.params["key"]
    try:
        check_key_id(key_id)
    except InvalidKeyError as problem:
        return _common.error(404, "not_found", str(problem))
    settings = _common.settings().get()
    in_use = settings.provider or os.environ.get("OPENCLAW_LLM_PROVIDER")
    if key_id == in_use and request.query.get("force") != "true":
        return _common.error(
            409,
            "in_use",
            f"the agent uses {key_id}: choose another provider first (or remove it anyway)",
        )
    if not _keys().remove_key(key_id):
        return _common.error(404, "not_found", f"no key is set for {key_id}")
    return _common.respond(204)


# -- the agent --------------------------------------------------------------------------------


def agent_status(request: Request) -> Response:
    return _common.respond(200, _common.lifecycle().get().public())


def agent_start(request: Request) -> Response:
    from openclaw_deploy.runtime.lifecycle import (
        AgentStartBlockedError,
        AgentStartError,
        ensure_agent_running,
    )

    lifecycle = _common.lifecycle()
    # The owner's own start (Start, `openclaw-deploy start`) also starts after repeated failed
    # starts, and clears them; the web chat's wake-up when the owner begins typing
    # (`?reason=typing`) respects them, as a message does, so open tabs do not keep starting a
    # task that fails.
    force = request.query.get("reason") != "typing"
    try:
        status = ensure_agent_running(lifecycle, aws.ecs(), force=force)
    except AgentStartBlockedError as blocked:
        return _common.error(409, "start_blocked", str(blocked))
    except AgentStartError as problem:
        return _common.error(502, "agent_failed", str(problem))
    return _common.respond(202 if status.state != "Running" else 200, status.public())


def agent_stop(request: Request) -> Response:
    from openclaw_deploy.runtime.lifecycle import IDLE, stop_agent

    lifecycle = _common.lifecycle()
    status = lifecycle.get()
    if status.state == IDLE:
        return _common.respond(200, status.public())
    if status.task_arn is None:
        return _common.error(409, "conflict", "the agent is being started; stop it in a moment")
    stop_agent(lifecycle, aws.ecs(), _common.task_config().cluster, STOP_REASON)
    return _common.respond(202, lifecycle.get().public())


# -- pairing ----------------------------------------------------------------------------------


def pairing_code(request: Request) -> Response:
    return _common.respond(201, _common.pairing().create_code().public())


def pairing_list(request: Request) -> Response:
    pairing = _common.pairing()
    return _common.respond(
        200,
        {
            "pending": [p.public() for p in pairing.list_pending()],
            "paired": [u.public() for u in pairing.list_paired()],
        },
    )


def channels_list(request: Request) -> Response:
    """The chat channels: Telegram (set up with the deployment), Slack and Discord (connected
    with `channels add`), each with how many people are paired on it."""
    pairing = _common.pairing()
    people: dict[str, int] = {}
    for user in pairing.list_paired():
        people[user.channel] = people.get(user.channel, 0) + 1
    connected = {c.channel: c for c in pairing.list_channels()}
    channels = [
        {
            "channel": "telegram",
            "connected": bool(os.environ.get(resources.TELEGRAM_BOT_TOKEN.env_var)),
            "identity": None,
            "connectedAt": None,
        }
    ]
    for name in ("slack", "discord"):
        found = connected.get(name)
        entry = (
            found.public() if found else {"channel": name, "identity": None, "connectedAt": None}
        )
        channels.append({**entry, "connected": found is not None})
    for channel in channels:
        channel["paired"] = people.get(str(channel["channel"]), 0)
    return _common.respond(200, {"channels": channels})


def pairing_approve(request: Request) -> Response:
    from openclaw_deploy.runtime.pairing import PairingError, normalize_code

    code = normalize_code(request.params["code"])
    if code is None:
        raise BadRequestError("that is not a pairing code")
    try:
        user = _common.pairing().approve(code)
    except PairingError as problem:
        return _common.error(404, "not_found", str(problem))
    if user.channel == "telegram":  # Slack and Discord users learn it from their next answer
        _notify_paired(user.chat_id)
    return _common.respond(200, user.public())


def pairing_revoke(request: Request) -> Response:
    user_id = request.params["user"]
    if not _common.pairing().revoke(user_id):
        return _common.error(404, "not_found", f"user {user_id} is not paired")
    return _common.respond(204)


def _notify_paired(chat_id: int) -> None:
    """Tell the newly paired user on Telegram; best effort (approval stands either way)."""
    parameter = os.environ.get(resources.TELEGRAM_BOT_TOKEN.env_var)
    if not parameter:
        return
    from openclaw_deploy.runtime.telegram import TelegramBot, TelegramError

    try:
        bot = TelegramBot(
            aws.secret(parameter),
            api_url=os.environ.get(resources.ENV_TELEGRAM_API_URL),
            timeout=TELEGRAM_NOTIFY_TIMEOUT,
        )
        bot.send_message(chat_id, PAIRED_NOTICE)
    except (TelegramError, ClientError, BotoCoreError) as problem:
        _common.log.warning("could not tell the paired user: %s", problem)


ROUTES: Final[tuple[tuple[str, re.Pattern[str], Route], ...]] = (
    ("POST", re.compile(r"/ws-ticket"), ws_ticket),
    ("GET", re.compile(r"/conversations"), list_conversations),
    ("POST", re.compile(r"/uploads"), _uploads.create_upload),
    ("GET", re.compile(r"/conversations/(?P<session>[^/]+)/messages"), conversation_messages),
    ("PUT", re.compile(r"/conversations/(?P<session>[^/]+)"), rename_conversation),
    ("DELETE", re.compile(r"/conversations/(?P<session>[^/]+)"), delete_conversation),
    ("GET", re.compile(r"/settings"), get_settings),
    ("PUT", re.compile(r"/settings"), put_settings),
    ("GET", re.compile(r"/providers"), list_providers),
    ("GET", re.compile(r"/providers/(?P<provider>[a-z0-9-]{1,40})/models"), provider_models),
    ("PUT", re.compile(r"/keys/(?P<key>[a-z0-9-]{1,40})"), put_key),
    ("DELETE", re.compile(r"/keys/(?P<key>[a-z0-9-]{1,40})"), delete_key),
    ("GET", re.compile(r"/schedules"), _schedules.list_schedules),
    ("POST", re.compile(r"/schedules"), _schedules.create_schedule),
    ("POST", re.compile(r"/schedules/(?P<id>[a-z0-9-]{1,64})/pause"), _schedules.pause_schedule),
    ("POST", re.compile(r"/schedules/(?P<id>[a-z0-9-]{1,64})/resume"), _schedules.resume_schedule),
    ("POST", re.compile(r"/schedules/(?P<id>[a-z0-9-]{1,64})/run"), _schedules.run_schedule),
    ("DELETE", re.compile(r"/schedules/(?P<id>[a-z0-9-]{1,64})"), _schedules.remove_schedule),
    ("GET", re.compile(r"/skills"), _skills.list_skills),
    ("POST", re.compile(r"/skills"), _skills.add_skill),
    ("PUT", re.compile(r"/skills/(?P<name>[a-z0-9-]{1,64})"), _skills.set_skill),
    ("DELETE", re.compile(r"/skills/(?P<name>[a-z0-9-]{1,64})"), _skills.remove_skill),
    ("GET", re.compile(r"/agent"), agent_status),
    ("POST", re.compile(r"/agent/start"), agent_start),
    ("POST", re.compile(r"/agent/stop"), agent_stop),
    ("POST", re.compile(r"/pairing/code"), pairing_code),
    ("GET", re.compile(r"/pairing"), pairing_list),
    ("GET", re.compile(r"/channels"), channels_list),
    ("POST", re.compile(r"/pairing/(?P<code>[^/]+)/approve"), pairing_approve),
    # A Telegram user id, or `slack:U…` / `discord:…` (the colon may come encoded).
    (
        "DELETE",
        re.compile(r"/pairing/(?P<user>-?[0-9]{1,20}|(?:slack|discord)(?::|%3[Aa])[A-Z0-9]{1,24})"),
        pairing_revoke,
    ),
)
