"""The target of every schedule (EventBridge Scheduler invokes it with the schedule's input).

An owner's schedule (`openclaw-deploy schedule add`) is a chat message the owner did not have to
type: its prompt goes through the same path as a Telegram or web message (recorded, queued in
its own session `sched-<name>`, the agent woken), and the bridge delivers the answer to the
chosen channel — the owner's Telegram chat, or a web conversation named after the schedule.

The agent's own wake-up (left by the bridge before the task slept, ahead of OpenClaw's earliest
pending cron job) only wakes the agent: OpenClaw runs the job itself once it is up. So does the
owner's warm window (`config set warm`): its daily firing wakes the agent at the window's start,
and the bridge stays awake until the window ends.

Each firing is taken once (the dedupe table, keyed by schedule and scheduled time), so
Scheduler's retries never ask twice. The last run and its outcome go to the schedules table
(`schedule list` shows them). A firing that cannot be read is logged and dropped (a retry would
not help); an AWS failure raises, so Scheduler retries and finally dead-letters it.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Final

import boto3  # noqa: F401 - imported first, not nested: see bench/handler_imports.py
from botocore.exceptions import BotoCoreError, ClientError

from openclaw_deploy.handlers import _common, _inbound
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.contract import ID_PATTERN, ContractError, QueueMessage, ReplyTarget
from openclaw_deploy.runtime.schedules import SCHEDULED_TIME, Firing, Runs

log = logging.getLogger("openclaw_deploy.handlers.schedule")
log.setLevel(logging.INFO)

SENDER: Final = "schedule"
NO_TELEGRAM_CHAT: Final = (
    "no Telegram chat is paired, so there is nobody to tell: pair with the bot "
    "(openclaw-deploy pair) or send this schedule to the web (--to web)"
)
TITLE_MARK: Final = "⏰ "


class RetryError(Exception):
    """The firing was not taken: raised so that Scheduler tries again (then dead-letters it)."""


def runs() -> Runs:
    return Runs(aws.dynamodb(), resources.table_name(resources.SCHEDULES))


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    try:
        firing = Firing.from_event(event)
    except ContractError as problem:
        log.error("schedule firing dropped: %s", problem)
        return {"status": "dropped", "reason": str(problem)}
    started = time.monotonic()
    try:
        answer = _fire(firing)
    except (ClientError, BotoCoreError) as error:
        log.exception("schedule %s: AWS call failed", firing.schedule)
        raise RetryError(str(error)) from None
    log.info(
        "schedule %s (%s) fired: %s %.0fms",
        firing.schedule,
        firing.owner,
        answer["status"],
        (time.monotonic() - started) * 1000,
    )
    return answer


def _stamp(firing: Firing) -> str:
    """The firing's own id: its scheduled time (`schedule run` invokes it without one)."""
    when = firing.scheduled_time
    if when != SCHEDULED_TIME and ID_PATTERN.match(when) and len(when) <= 40:
        return when
    return f"run-{int(time.time())}"


def _fire(firing: Firing) -> dict[str, Any]:
    record = runs()
    if firing.owner in ("agent", "warm"):
        wake = _inbound.wake()
        outcome = "failed" if wake.error else "woken"
        record.record(firing.schedule, outcome, wake.error or "")
        return {"status": outcome, "error": wake.error}
    reply = ReplyTarget()
    if firing.to == "telegram":
        chat_id = firing.chat_id
        if chat_id is None:
            paired = _common.pairing().list_paired()
            chat_id = paired[0].chat_id if paired else None
        if chat_id is None:
            record.record(firing.schedule, "failed", NO_TELEGRAM_CHAT)
            return {"status": "failed", "error": NO_TELEGRAM_CHAT}
        reply = ReplyTarget(chat_id=chat_id)
    stamp = _stamp(firing)
    msg = QueueMessage(
        channel=firing.to,
        session=firing.session_key,
        message_id=f"{firing.schedule}.{stamp}"[:128],
        text=firing.text,
        received_at=time.time(),
        reply=reply,
        sender=SENDER,
    )
    _common.history().name_conversation(msg.session, TITLE_MARK + firing.title)
    claim = _inbound.accept(msg, dedupe_key=f"sched#{firing.schedule}#{stamp}")
    if claim == "busy":
        raise RetryError(f"firing {stamp} of {firing.schedule} is being taken right now")
    if claim == "done":
        return {"status": "duplicate"}
    wake = _inbound.wake()
    outcome, detail = ("queued", "") if wake.error is None else ("waiting", wake.error)
    record.record(firing.schedule, outcome, detail)
    return {"status": outcome, "session": msg.session, "error": wake.error}
