"""The Telegram webhook (`POST /telegram` on the HTTP API, no JWT).

Telegram retries every non-2xx answer and holds back that chat's later updates meanwhile, and
drops slow answers, so this handler:

* checks `X-Telegram-Bot-Api-Secret-Token` in constant time (401 otherwise, before reading on);
* claims `update_id` in the dedupe table with a conditional write: a redelivered update is
  answered 200 and nothing else;
* answers 200 fast: its own replies (waking notice, pairing code, command answers) travel in
  the body of the 200 as a Bot API call (`{"method": "sendMessage", ...}`) that Telegram makes
  for us, so no reply waits on the Bot API. The one slow call is RunTask, when the agent sleeps;
* answers 503 only when an AWS service failed before the message was queued (the claim is given
  back, Telegram's retry does the work), and 200 on anything it does not understand.

Only paired users reach the agent. A stranger gets a pairing code, once per period, and
never starts a task. Only private chats are served; other update kinds are ignored.
"""

from __future__ import annotations

import contextlib
import hmac
import time
from collections.abc import Mapping
from typing import Any, Final

import boto3  # noqa: F401 - imported first, not nested: see bench/handler_imports.py
from botocore.exceptions import BotoCoreError, ClientError

from openclaw_deploy.handlers import _channel, _common, _inbound
from openclaw_deploy.handlers._channel import (
    NEW_SESSION,
    PAIR_FAILED,
    PAIRED,
    TOO_LONG,
)
from openclaw_deploy.handlers._common import BadRequestError, Event, Response
from openclaw_deploy.runtime import aws
from openclaw_deploy.runtime.contract import MAX_TEXT_CHARS, QueueMessage, ReplyTarget
from openclaw_deploy.runtime.lifecycle import PHASE_LABELS, RUNNING, AgentStatus
from openclaw_deploy.runtime.pairing import PairedUser, Pairing
from openclaw_deploy.runtime.resources import TELEGRAM_WEBHOOK_SECRET
from openclaw_deploy.runtime.telegram import escape_html, parse_command, webhook_reply

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
SECRET_RECHECK_SECONDS: Final = 300

# Replies (HTML; anything interpolated is escaped).
WELCOME: Final = "Hi {name}! I'm your OpenClaw agent. Just write to me — /help lists commands."
HELP: Final = (
    "Write anything and your agent answers.\n\n"
    "/status — is the agent awake?\n"
    "/new — start a fresh conversation\n"
    "/help — this list"
)
STATUS: Final = "Agent: <b>{state}</b>{detail}"
ONLY_TEXT: Final = "I can only read text messages for now."
EDITED: Final = "Edits don't reach the agent — send the corrected message as a new one."
PAIRING_CODE: Final = (
    "This is a private assistant.\n\n"
    "To ask its owner for access, give them this code: <code>{code}</code>\n"
    "They approve it in the web UI or with <code>openclaw-deploy pair approve {code}</code>."
)
PAIR_USAGE: Final = "Send <code>/pair CODE</code> with the code shown in the web UI."
ALREADY_PAIRED: Final = "You're already paired — just write."
NO_TELEGRAM: Final = "this deployment has no Telegram bot (set one up with `openclaw-deploy init`)"


@_common.logged
def handler(event: Event, context: Any = None) -> Response:
    event = _common.mapping(event)
    refused = _refusal(event)
    if refused is not None:
        return refused
    try:
        update = _common.json_body(event)
    except BadRequestError as problem:
        return _common.error(problem.status, problem.code, problem.message)
    update_id = update.get("update_id") if isinstance(update, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool) or update_id < 0:
        return _common.error(400, "bad_request", "not a Telegram update (no update_id)")
    try:
        reply = _handle(update_id, update)
    except _RetryLaterError:
        return _common.error(503, "internal", "try again later")
    return _common.respond(200, reply) if reply else _common.respond(200)


def _refusal(event: Event) -> Response | None:
    """Why the request is not let in (None: it carries the webhook's secret)."""
    try:
        if not _authentic(event):
            return _common.error(401, "unauthorized", "missing or wrong secret token")
    except (ClientError, BotoCoreError, RuntimeError) as problem:
        if _not_set_up(problem):
            return _common.error(404, "not_found", NO_TELEGRAM)
        _common.log.exception("cannot read the webhook secret")
        return _common.error(503, "internal", "the webhook is not ready")
    return None


def _not_set_up(problem: Exception) -> bool:
    """The deployment has no Telegram bot: no secret is named, or none was ever stored. Not a
    failure to retry (a 5xx would make whoever sent it retry for a day)."""
    if isinstance(problem, RuntimeError):
        return True
    if isinstance(problem, ClientError):
        return problem.response.get("Error", {}).get("Code") == "ParameterNotFound"
    return False


class _RetryLaterError(Exception):
    """Answer 503: Telegram redelivers the update later."""


def _authentic(event: Event) -> bool:
    given = _common.header(event, SECRET_HEADER)
    if not given:
        return False
    parameter = _common.env(TELEGRAM_WEBHOOK_SECRET.env_var)
    if _matches(given, aws.secret(parameter)):
        return True
    # A redeploy may have rotated the secret under this warm container: read it again, at most
    # every few minutes, so forged requests cannot turn into a stream of SSM calls.
    return _matches(given, aws.secret(parameter, max_age=SECRET_RECHECK_SECONDS))


def _matches(given: str, expected: str) -> bool:
    if not expected:
        return False
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def _say(chat_id: int, html: str, *, reply_to: int | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "chat_id": chat_id,
        "text": html,
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    if reply_to is not None:
        payload["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
    return webhook_reply("sendMessage", **payload)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _handle(update_id: int, update: Mapping[str, Any]) -> dict[str, Any] | None:
    edited = "message" not in update and isinstance(update.get("edited_message"), dict)
    message = _common.mapping(update.get("edited_message" if edited else "message"))
    chat = _common.mapping(message.get("chat"))
    sender = _common.mapping(message.get("from"))
    chat_id, user_id = _int(chat.get("id")), _int(sender.get("id"))
    if chat_id is None or user_id is None or chat.get("type") != "private" or sender.get("is_bot"):
        # Channel posts, groups, member updates, callbacks, bots: nothing to do.
        return None
    store = _inbound.dedupe()
    key = f"tg#{update_id}"
    try:
        claim = store.claim(key)
    except (ClientError, BotoCoreError):
        _common.log.exception("dedupe claim failed for update %s", update_id)
        raise _RetryLaterError from None
    if claim == "done":
        return None
    if claim == "busy":
        raise _RetryLaterError  # another invocation has it; if that one dies, the retry takes over
    try:
        reply = _on_message(update_id, message, chat_id, user_id, edited=edited)
    except (ClientError, BotoCoreError):
        _common.log.exception("AWS call failed for update %s", update_id)
        # If even this fails, the claim goes stale in a minute and a retry takes it over then.
        with contextlib.suppress(ClientError, BotoCoreError):
            store.release(key)
        raise _RetryLaterError from None
    except Exception:  # noqa: BLE001
        # A bug must not block this chat: Telegram would redeliver the update for a day.
        _common.log.exception("unexpected error for update %s", update_id)
        reply = None
    try:
        store.done(key)
    except (ClientError, BotoCoreError):
        _common.log.exception("could not mark update %s done", update_id)
    return reply


def _display_name(sender: Mapping[str, Any]) -> str:
    parts = [sender.get("first_name"), sender.get("last_name")]
    name = " ".join(p for p in parts if isinstance(p, str) and p.strip())
    username = sender.get("username")
    if not name and isinstance(username, str):
        name = "@" + username
    return name.strip()[:64]


def _on_message(
    update_id: int, message: Mapping[str, Any], chat_id: int, user_id: int, *, edited: bool
) -> dict[str, Any] | None:
    pairing = _common.pairing()
    user = pairing.get_user(user_id)
    text = message.get("text")
    text = text if isinstance(text, str) else None
    message_id = _int(message.get("message_id"))
    if user is None:
        if edited:
            return None  # a stranger's edit gets nothing, not even a second pairing code
        name = _display_name(_common.mapping(message.get("from"))) or str(user_id)
        return _stranger(pairing, user_id, name, chat_id, text)
    answer: str | None = None
    if edited:
        answer = EDITED
    elif text is None or not text.strip():
        answer = ONLY_TEXT
    elif len(text) > MAX_TEXT_CHARS:
        answer = TOO_LONG.format(limit=MAX_TEXT_CHARS)
    else:
        command = parse_command(text)
        if command is not None:
            # None: not one of ours, so the agent gets it (OpenClaw has commands of its own).
            answer = _command(pairing, user, command)
    if answer is not None or text is None:
        return _say(chat_id, answer or ONLY_TEXT, reply_to=message_id)
    msg = QueueMessage(
        channel="telegram",
        session=user.session,
        message_id=f"tg-{update_id}",
        text=text,
        received_at=time.time(),
        reply=ReplyTarget(chat_id=chat_id, reply_to_message_id=message_id),
        sender=str(user_id),
    )
    _inbound.enqueue_message(msg)
    return _wake_reply(chat_id)


def _wake_reply(chat_id: int) -> dict[str, Any] | None:
    """Wake the agent; say it is waking (once per wake), or show "typing" if it is up."""
    wake = _inbound.wake()
    notice = _channel.wake_notice(wake, str(chat_id))
    if notice is not None:
        return _say(chat_id, escape_html(notice))
    if wake.error is None and (wake.status is None or wake.status.state == RUNNING):
        return webhook_reply("sendChatAction", chat_id=chat_id, action="typing")
    return None


def _stranger(
    pairing: Pairing, user_id: int, name: str, chat_id: int, text: str | None
) -> dict[str, Any] | None:
    command = parse_command(text) if text else None
    if command is not None and command[0] == "pair":
        if not command[1]:
            return _say(chat_id, PAIR_USAGE)
        paired = pairing.redeem(command[1], user_id, name, chat_id)
        return _say(chat_id, PAIRED if paired else PAIR_FAILED)
    request = pairing.request(user_id, name, chat_id)
    if request is None:
        return None  # they already have a code this period: stay quiet
    return _say(chat_id, PAIRING_CODE.format(code=escape_html(request.code)))


def _command(pairing: Pairing, user: PairedUser, command: tuple[str, str]) -> str | None:
    """The answer to one of our bot commands; None for any other command."""
    verb = command[0]
    if verb == "start":
        return WELCOME.format(name=escape_html(user.name))
    if verb == "help":
        return HELP
    if verb == "status":
        return _status_text(_common.lifecycle().get())
    if verb == "new":
        pairing.new_session(user.user_id)
        return NEW_SESSION
    if verb == "pair":
        return ALREADY_PAIRED
    return None


def _status_text(status: AgentStatus) -> str:
    detail = ""
    if status.state == "Starting":
        detail = f" — {PHASE_LABELS.get(status.phase or 'starting', 'starting')}"
    elif status.start_blocked(time.time()):
        detail = " (it cannot start: messages no longer wake it)"
        if status.failure_reason:
            detail += f"\nLast failed start: {escape_html(status.failure_reason[:200])}"
    elif status.state == "Idle":
        detail = " (asleep; your next message wakes it)"
        if status.last_stop_reason:
            detail += f"\nLast stop: {escape_html(status.last_stop_reason[:200])}"
    elif status.since:
        minutes = max(0, int((time.time() - status.since) // 60))
        detail = f" for {minutes} min"
    return STATUS.format(state=escape_html(status.state), detail=detail)
