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
never starts a task. In a group the bot answers only a message that mentions it or replies to
it, and only from a paired member (strangers there get nothing, not even a code); the group is
a conversation of its own. Photos (the largest size), documents and voice notes go to the agent
as attachments the bridge fetches with the bot token (this function holds no bot token); a
file over Telegram's 20 MB download limit for bots is refused with the limit said. An edit made
before the agent began its answer replaces the text it answers (`runtime.corrections`); a later
one is told it came too late.
"""

from __future__ import annotations

import contextlib
import hmac
import os
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
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.contract import (
    IMAGE_TYPES,
    MAX_TEXT_CHARS,
    Attachment,
    QueueMessage,
    ReplyTarget,
    safe_file_name,
)
from openclaw_deploy.runtime.lifecycle import PHASE_LABELS, RUNNING, AgentStatus
from openclaw_deploy.runtime.pairing import PairedUser, Pairing
from openclaw_deploy.runtime.resources import TELEGRAM_WEBHOOK_SECRET
from openclaw_deploy.runtime.telegram import (
    DOWNLOAD_LIMIT_BYTES,
    escape_html,
    parse_command,
    webhook_reply,
)

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
ONLY_TEXT: Final = "I can read text, photos, documents and voice notes — not this kind of message."
EDITED: Final = (
    "Your agent had already started on that message, so the edit doesn't reach it — send the "
    "correction as a new message."
)
TOO_BIG: Final = (
    "That file is {size} MB: Telegram lets bots download files up to {limit} MB. "
    "Send a smaller one (or a link)."
)
ENV_BOT_USERNAME: Final = "OPENCLAW_TELEGRAM_BOT_USERNAME"
"""The bot's @username (set at deploy), to tell a mention of it from one of another bot."""
GROUP_TYPES: Final = ("group", "supergroup")
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
    chat_type = chat.get("type")
    if chat_id is None or user_id is None or sender.get("is_bot"):
        # Channel posts, member updates, callbacks, bots: nothing to do.
        return None
    if chat_type != "private" and (chat_type not in GROUP_TYPES or not _addressed(message)):
        return None  # group chatter not meant for the bot: not even a dedupe write
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
    group = _common.mapping(message.get("chat")).get("type") in GROUP_TYPES
    text = message.get("text")
    text = text if isinstance(text, str) else None
    caption = message.get("caption")
    words = text if text is not None else (caption if isinstance(caption, str) else "")
    if group:
        words = _without_mention(words)
    message_id = _int(message.get("message_id"))
    if user is None:
        if edited or group:
            return None  # a stranger's edit, or a stranger in a group: no code, nothing
        name = _display_name(_common.mapping(message.get("from"))) or str(user_id)
        return _stranger(pairing, user_id, name, chat_id, text)
    attachments, refusal = _files(message)
    answer: str | None = refusal
    if answer is not None:
        pass
    elif edited:
        return _edited(chat_id, message_id, words)
    elif not words.strip() and not attachments:
        answer = ONLY_TEXT
    elif len(words) > MAX_TEXT_CHARS:
        answer = TOO_LONG.format(limit=MAX_TEXT_CHARS)
    elif text is not None:
        command = parse_command(words)
        if command is not None:
            # None: not one of ours, so the agent gets it (OpenClaw has commands of its own).
            answer = _command(pairing, user, command)
    if answer is not None:
        return _say(chat_id, answer, reply_to=message_id)
    if group:
        # Who speaks, so the agent can tell the members apart.
        name = _display_name(_common.mapping(message.get("from"))) or str(user_id)
        words = f"{name}: {words}" if words.strip() else words
    msg = QueueMessage(
        channel="telegram",
        session=f"tg-group{chat_id}" if group else user.session,
        message_id=f"tg-{update_id}",
        text=words,
        received_at=time.time(),
        reply=ReplyTarget(chat_id=chat_id, reply_to_message_id=message_id),
        sender=str(user_id),
        attachments=attachments,
    )
    _inbound.enqueue_message(msg)
    return _wake_reply(chat_id)


def _edited(chat_id: int, message_id: int | None, words: str) -> dict[str, Any] | None:
    """An edit replaces the text of a message whose answer has not begun; else it is late."""
    from openclaw_deploy.runtime.corrections import Corrections

    if message_id is None or not words.strip() or len(words) > MAX_TEXT_CHARS:
        return None
    corrections = Corrections(aws.dynamodb(), resources.table_name(resources.DEDUPE))
    if corrections.correct(chat_id, message_id, words):
        return None  # the agent answers the edited text
    return _say(chat_id, EDITED, reply_to=message_id)


def _files(message: Mapping[str, Any]) -> tuple[tuple[Attachment, ...], str | None]:
    """The message's photo (its largest size), document or voice note as attachments; or why
    it is refused (over Telegram's download limit for bots)."""
    found: list[Attachment] = []
    number = _int(message.get("message_id")) or 0
    photos = message.get("photo")
    if isinstance(photos, list) and photos:
        sizes = [_common.mapping(p) for p in photos]
        largest = max(
            sizes,
            key=lambda p: (_int(p.get("file_size")) or 0, (_int(p.get("width")) or 0)),
        )
        found.append(_attachment(largest, f"photo-{number}.jpg", "image/jpeg", "image"))
    for field in ("document", "audio", "video"):
        item = _common.mapping(message.get(field))
        if item:
            mime = item.get("mime_type")
            content_type = mime if isinstance(mime, str) and mime else "application/octet-stream"
            name = item.get("file_name")
            fallback = f"{field}-{number}"
            name = safe_file_name(name, fallback) if isinstance(name, str) else fallback
            kind = "image" if content_type in IMAGE_TYPES else "file"
            found.append(_attachment(item, name, content_type, kind))
    voice = _common.mapping(message.get("voice"))
    if voice:
        found.append(_attachment(voice, f"voice-{number}.ogg", "audio/ogg", "voice"))
    attachments = tuple(a for a in found if a.file_id)
    for attachment in attachments:
        if attachment.size > DOWNLOAD_LIMIT_BYTES:
            size = f"{attachment.size / (1024 * 1024):.1f}"
            return (), TOO_BIG.format(size=size, limit=DOWNLOAD_LIMIT_BYTES // (1024 * 1024))
    return attachments, None


def _attachment(item: Mapping[str, Any], name: str, content_type: str, kind: str) -> Attachment:
    file_id = item.get("file_id")
    return Attachment(
        file_id=file_id if isinstance(file_id, str) and len(file_id) <= 512 else "",
        name=name,
        content_type=content_type[:128],
        size=_int(item.get("file_size")) or 0,
        kind=kind,
    )


def _bot_username() -> str | None:
    name = os.environ.get(ENV_BOT_USERNAME, "").lstrip("@").strip()
    return name.lower() or None


def _is_ours(username: object) -> bool:
    """Whether `username` is this bot's (any bot's when its name is not configured: with
    Telegram's default privacy mode a bot in a group only sees what is addressed to it)."""
    if not isinstance(username, str) or not username:
        return False
    ours = _bot_username()
    return username.lower() == ours if ours else username.lower().endswith("bot")


def _entity_texts(message: Mapping[str, Any], kind: str) -> list[str]:
    """The pieces of the text (or caption) marked as entities of `kind` (offsets count UTF-16
    code units, as Telegram's do)."""
    for text_field, entities_field in (("text", "entities"), ("caption", "caption_entities")):
        text = message.get(text_field)
        entities = message.get(entities_field)
        if not isinstance(text, str) or not isinstance(entities, list):
            continue
        units = text.encode("utf-16-le")
        found = []
        for raw in entities:
            entity = _common.mapping(raw)
            offset, length = _int(entity.get("offset")), _int(entity.get("length"))
            if entity.get("type") == kind and offset is not None and length is not None:
                found.append(
                    units[offset * 2 : (offset + length) * 2].decode("utf-16-le", "replace")
                )
        return found
    return []


def _addressed(message: Mapping[str, Any]) -> bool:
    """A group message meant for the bot: it mentions it or replies to one of its messages."""
    replied = _common.mapping(_common.mapping(message.get("reply_to_message")).get("from"))
    if replied.get("is_bot") and _is_ours(replied.get("username")):
        return True
    if any(_is_ours(m.lstrip("@")) for m in _entity_texts(message, "mention")):
        return True
    return any(
        "@" in c and _is_ours(c.split("@", 1)[1]) for c in _entity_texts(message, "bot_command")
    )


def _without_mention(text: str) -> str:
    """The words without the bot's @mention (it addressed the message, it is not its content)."""
    words = [w for w in text.split(" ") if not (w.startswith("@") and _is_ours(w[1:].rstrip(",:")))]
    return " ".join(words).strip()


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
