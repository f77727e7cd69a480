"""Discord's interactions endpoint (`POST /discord/interactions` on the HTTP API, no JWT).

Discord sends slash commands here and needs an answer within 3 seconds, so this handler:

* verifies the Ed25519 signature of timestamp + body with the application's public key (401
  otherwise; Discord itself probes the endpoint with bad signatures and expects that), and
  refuses timestamps more than 5 minutes off, so a recorded request cannot be replayed later;
* answers PING with PONG;
* `/ask`: claims the interaction id (a repeat is answered once), enqueues the text, wakes the
  agent and answers with a deferred response ("thinking…"). The bridge completes it through the
  interaction's follow-up webhook, whose token lives 15 minutes: long enough for a cold start;
* `/status` and `/new` are answered at once, privately.

Only paired users reach the agent: a stranger gets a pairing code, privately, and never starts
a task.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final

import boto3  # noqa: F401 - imported first, not nested: see bench/handler_imports.py
from botocore.exceptions import BotoCoreError, ClientError

from openclaw_deploy.handlers import _channel, _common, _inbound
from openclaw_deploy.handlers._common import BadRequestError, Event, Response
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.contract import (
    MAX_TEXT_CHARS,
    ContractError,
    QueueMessage,
    ReplyTarget,
)
from openclaw_deploy.runtime.contract import loads as json_loads
from openclaw_deploy.runtime.discord import (
    APPLICATION_COMMAND,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    EPHEMERAL,
    PING,
    PONG,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DiscordApp,
    verify_request,
)

SECRET_RECHECK_SECONDS: Final = 300
NO_DISCORD: Final = "this deployment has no Discord app (openclaw-deploy channels add discord)"
UNKNOWN_COMMAND: Final = "I don't know that command: try /ask, /new or /status."
ALREADY_ANSWERED: Final = "This request was already taken."
CHANNEL: Final = "discord"


@_common.logged
def handler(event: Event, context: Any = None) -> Response:
    event = _common.mapping(event)
    try:
        body = _common.body_text(event)
        app = _verified_app(event, body)
        interaction = _common.mapping(json_loads(body, max_bytes=_common.MAX_BODY_BYTES))
    except BadRequestError as problem:
        return _common.error(problem.status, problem.code, problem.message)
    except ContractError as problem:
        return _common.error(400, problem.code, str(problem))
    except (ClientError, BotoCoreError, RuntimeError, ValueError, KeyError) as problem:
        if _channel.not_set_up(problem):
            return _common.error(404, "not_found", NO_DISCORD)
        _common.log.exception("cannot read the Discord application")
        return _common.error(503, "internal", "the endpoint is not ready")
    if interaction.get("type") == PING:
        return _common.respond(200, {"type": PONG})
    return _command(app, interaction)


def _command(app: DiscordApp, interaction: Mapping[str, Any]) -> Response:
    interaction_id = interaction.get("id")
    if interaction.get("type") != APPLICATION_COMMAND or not isinstance(interaction_id, str):
        return _say(UNKNOWN_COMMAND)
    try:
        claim, answer = _inbound.handle_once(
            f"discord#{interaction_id}", lambda: _on_command(app, interaction_id, interaction)
        )
    except (ClientError, BotoCoreError):
        return _common.error(503, "internal", "try again later")
    if claim != "new":
        return _say(ALREADY_ANSWERED)
    return answer or _say(UNKNOWN_COMMAND)


def _verified_app(event: Event, body: str) -> DiscordApp:
    """The application, if the request carries its signature (401 otherwise)."""
    parameter = _common.env(resources.DISCORD_APP.env_var)
    signature = _common.header(event, SIGNATURE_HEADER)
    timestamp = _common.header(event, TIMESTAMP_HEADER)
    now = time.time()
    app = DiscordApp.from_json(aws.secret(parameter))

    def check(candidate: DiscordApp) -> bool:
        return verify_request(
            candidate.public_key, signature_hex=signature, timestamp=timestamp, body=body, now=now
        )

    if check(app):
        return app
    if signature and timestamp:
        # `channels add` may have replaced the application under this warm container.
        fresh = DiscordApp.from_json(aws.secret(parameter, max_age=SECRET_RECHECK_SECONDS))
        if fresh != app and check(fresh):
            return fresh
    raise BadRequestError("invalid request signature", status=401, code="unauthorized")


def _say(text: str, *, private: bool = True) -> Response:
    data: dict[str, Any] = {"content": text[:2000], "allowed_mentions": {"parse": []}}
    if private:
        data["flags"] = EPHEMERAL
    return _common.respond(200, {"type": CHANNEL_MESSAGE, "data": data})


def _sender(interaction: Mapping[str, Any]) -> _channel.Sender | None:
    member = _common.mapping(interaction.get("member"))
    user = _common.mapping(member.get("user") or interaction.get("user"))
    user_id = user.get("id")
    if not isinstance(user_id, str) or not user_id.isdigit():
        return None
    name = user.get("global_name") or user.get("username") or user_id
    return _channel.Sender(channel=CHANNEL, user_id=user_id, name=str(name)[:64])


def _option(data: Mapping[str, Any], name: str) -> str:
    for item in data.get("options") or []:
        option = _common.mapping(item)
        if option.get("name") == name and isinstance(option.get("value"), str):
            return str(option["value"])
    return ""


def _on_command(  # noqa: PLR0911 - one answer per command reads best flat
    app: DiscordApp, interaction_id: str, interaction: Mapping[str, Any]
) -> Response:
    sender = _sender(interaction)
    data = _common.mapping(interaction.get("data"))
    command = data.get("name")
    token = interaction.get("token")
    if sender is None or not isinstance(token, str) or not token:
        return _say(UNKNOWN_COMMAND)
    pairing = _common.pairing()
    user = _channel.paired_user(pairing, sender)
    text = _option(data, "text").strip()
    if user is None:
        answer = _channel.stranger(pairing, sender, text if command == "ask" else None)
        return _say(answer or "Your request is with the owner: ask them to approve your code.")
    if command == "status":
        return _say(_channel.current_status())
    if command == "new":
        pairing.new_session(user.user_id)
        return _say(_channel.NEW_SESSION)
    if command != "ask" or not text:
        return _say(UNKNOWN_COMMAND)
    if len(text) > MAX_TEXT_CHARS:
        return _say(_channel.TOO_LONG.format(limit=MAX_TEXT_CHARS))
    _inbound.enqueue_message(
        QueueMessage(
            channel=CHANNEL,
            session=user.session,
            message_id=f"dc-{interaction_id}",
            text=text,
            received_at=time.time(),
            reply=ReplyTarget(conversation=app.application_id, thread=token),
            sender=sender.key,
        )
    )
    wake = _inbound.wake()
    notice = _channel.wake_notice(wake, f"discord#{sender.user_id}") if wake.error else None
    if notice is not None:
        return _say(notice, private=False)
    # Discord shows "thinking…" until the bridge edits this response into the answer.
    return _common.respond(200, {"type": DEFERRED_CHANNEL_MESSAGE})
