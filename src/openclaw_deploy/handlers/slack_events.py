"""Slack's Events API (`POST /slack/events` on the HTTP API, no JWT).

Slack waits 3 seconds for a 2xx and then retries (with `X-Slack-Retry-Num`) up to three times,
so this handler:

* checks the v0 signature (HMAC-SHA256 with the app's signing secret) and refuses a timestamp
  more than 5 minutes off (401), before reading on; a replayed request is refused as stale, or
  found done by its `event_id`;
* answers `url_verification` with its challenge (Slack's check of the request URL);
* claims `event_id` in the dedupe table, so a retry is answered 200 and nothing else;
* enqueues the message and wakes the agent, then answers: the reply comes from the bridge,
  in the message's thread. The one Web API call here (a pairing code, or "waking up" once per
  wake) has a short timeout, so the acknowledgement stays within Slack's 3 seconds.

DMs to the app and mentions of it reach the agent; only paired users do. A stranger gets a
pairing code (once per period) and never starts a task. Bots, edits and other events are
acknowledged and ignored.
"""

from __future__ import annotations

import os
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
from openclaw_deploy.runtime.slack import (
    RETRY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SlackClient,
    SlackError,
    escape,
    signed_recently,
    without_mentions,
)

SECRET_RECHECK_SECONDS: Final = 300
POST_TIMEOUT_SECONDS: Final = 1.5
"""A notice that cannot be posted this fast is dropped: the acknowledgement must not wait."""
NO_SLACK: Final = "this deployment has no Slack app (openclaw-deploy channels add slack)"
CHANNEL: Final = "slack"


@_common.logged
def handler(event: Event, context: Any = None) -> Response:
    event = _common.mapping(event)
    try:
        body = _common.body_text(event)
    except BadRequestError as problem:
        return _common.error(problem.status, problem.code, problem.message)
    refused = _refusal(event, body)
    if refused is not None:
        return refused
    try:
        payload = _common.mapping(json_loads(body, max_bytes=_common.MAX_BODY_BYTES))
    except ContractError as problem:
        return _common.error(400, problem.code, str(problem))
    if payload.get("type") == "url_verification":
        return _common.respond(200, {"challenge": str(payload.get("challenge", ""))})
    return _callback(event, payload)


def _callback(event: Event, payload: Mapping[str, Any]) -> Response:
    event_id = payload.get("event_id")
    if payload.get("type") != "event_callback" or not isinstance(event_id, str) or not event_id:
        return _common.respond(200)
    inner = _common.mapping(payload.get("event"))
    try:
        claim, _ = _inbound.handle_once(f"slack#{event_id}", lambda: _on_event(event_id, inner))
    except (ClientError, BotoCoreError):
        return _common.error(503, "internal", "try again later")  # Slack retries
    if claim != "new":
        _common.log.info(
            "event %s was %s (retry %s)", event_id, claim, _common.header(event, RETRY_HEADER)
        )
    # "busy": the first delivery is being handled now; a 2xx stops Slack from retrying.
    return _common.respond(200)


def _refusal(event: Event, body: str) -> Response | None:
    """Why the request is not let in (None: Slack signed it, recently)."""
    try:
        if not _authentic(event, body):
            return _common.error(401, "unauthorized", "missing, wrong or stale signature")
    except (ClientError, BotoCoreError, RuntimeError) as problem:
        if _channel.not_set_up(problem):
            return _common.error(404, "not_found", NO_SLACK)
        _common.log.exception("cannot read the Slack signing secret")
        return _common.error(503, "internal", "the endpoint is not ready")
    return None


def _authentic(event: Event, body: str) -> bool:
    timestamp = _common.header(event, TIMESTAMP_HEADER)
    given = _common.header(event, SIGNATURE_HEADER)
    parameter = _common.env(resources.SLACK_SIGNING_SECRET.env_var)
    now = time.time()

    def check(secret: str) -> bool:
        return signed_recently(secret, timestamp=timestamp, body=body, given=given, now=now)

    if check(aws.secret(parameter)):
        return True
    if not given or not timestamp:
        return False
    # `channels add` may have replaced the secret under this warm container: read it again,
    # at most every few minutes, so forged requests cannot turn into a stream of SSM calls.
    return check(aws.secret(parameter, max_age=SECRET_RECHECK_SECONDS))


def _client() -> SlackClient:
    token = aws.secret(_common.env(resources.SLACK_BOT_TOKEN.env_var))
    return SlackClient(
        token, api_url=os.environ.get(resources.ENV_SLACK_API_URL), timeout=POST_TIMEOUT_SECONDS
    )


def _post(channel: str, text: str, thread: str) -> None:
    """Say `text` in the thread; best effort (the message itself is safe in the queue)."""
    try:
        _client().post_message(channel, escape(text), thread=thread)
    except (SlackError, ClientError, BotoCoreError, RuntimeError) as problem:
        _common.log.warning("could not post to Slack: %s", problem)


def _is_for_us(event: Mapping[str, Any]) -> bool:
    if event.get("bot_id") or event.get("subtype"):
        return False  # our own replies, other bots, edits, joins: never the agent's business
    if event.get("type") == "app_mention":
        return True
    return event.get("type") == "message" and event.get("channel_type") == "im"


def _on_event(event_id: str, event: Mapping[str, Any]) -> None:
    user, channel, ts = (str(event.get(key) or "") for key in ("user", "channel", "ts"))
    if not _is_for_us(event) or not (user and channel and ts):
        return
    thread = event.get("thread_ts")
    thread = thread if isinstance(thread, str) and thread else ts
    text = event.get("text")
    text = text if isinstance(text, str) else ""
    if event.get("type") == "app_mention":
        text = without_mentions(text)
    sender = _channel.Sender(channel=CHANNEL, user_id=user, name=user)
    pairing = _common.pairing()
    paired = _channel.paired_user(pairing, sender)
    if paired is None:
        answer = _channel.stranger(pairing, sender, text)
        if answer is not None:
            _post(channel, answer, thread)
        return
    if not text.strip():
        return
    if len(text) > MAX_TEXT_CHARS:
        _post(channel, _channel.TOO_LONG.format(limit=MAX_TEXT_CHARS), thread)
        return
    _inbound.enqueue_message(
        QueueMessage(
            channel=CHANNEL,
            session=paired.session,
            message_id=f"sl-{event_id}",
            text=text,
            received_at=time.time(),
            reply=ReplyTarget(conversation=channel, thread=thread),
            sender=sender.key,
        )
    )
    notice = _channel.wake_notice(_inbound.wake(), f"slack#{channel}")
    if notice is not None:
        _post(channel, notice, thread)
