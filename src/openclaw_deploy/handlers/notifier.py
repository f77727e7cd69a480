"""The notifier (SNS subscription): tells the owner on Telegram what an alarm or the budget says.

The deployment's alarm topic carries CloudWatch alarm state changes (JSON) and AWS Budgets
alerts (plain text). Email reaches the owner through the topic's own subscription; this sends the
same news, short and with the command to run, from the owner's own bot to every paired Telegram
chat (pairing is the owner's act, so those are the owner's chats).

Not a flood: each alarm's last state is kept in the dedupe table, so an alarm is told once when
it fires and once when it recovers (SNS's repeated deliveries and OK-after-OK say nothing), and
at most `MAX_PER_HOUR` messages go out in an hour — the next one says that more were held back.
Without Telegram set up this does nothing (email still arrives).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import boto3  # noqa: F401 - imported first, not nested: see bench/handler_imports.py
from botocore.exceptions import BotoCoreError, ClientError

from openclaw_deploy.handlers import _common
from openclaw_deploy.runtime import aws, ddb, resources
from openclaw_deploy.runtime.contract import ContractError, loads
from openclaw_deploy.runtime.telegram import TelegramBot, TelegramError, escape_html

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_PER_HOUR: Final = 6
STATE_KEEP_SECONDS: Final = 90 * 24 * 3600
"""An alarm's remembered state outlives any plausible outage; the dedupe table's TTL cleans up."""
ALARM: Final = "ALARM"
OK: Final = "OK"
HELD_BACK: Final = (
    "🔕 More alarms fired this hour; they are not sent here one by one. "
    "Run <code>openclaw-deploy status</code> to see them all."
)
BUDGET_HINT: Final = (
    "Run <code>openclaw-deploy budget show</code> and <code>openclaw-deploy cost</code>."
)
TELEGRAM_TIMEOUT_SECONDS: Final = 8.0


@dataclass(frozen=True, kw_only=True)
class Notice:
    """One piece of news for the owner."""

    kind: str
    """"alarm", "recovered" or "budget"."""
    key: str
    """The alarm's name (or the budget alert's subject): what the state is kept under."""
    text: str
    """HTML for Telegram."""


@dataclass
class Outcome:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"sent": list(self.sent), "skipped": list(self.skipped)}


def parse_record(record: Mapping[str, Any]) -> tuple[str, str] | None:
    """(subject, message) of one SNS record, or None if it is not one."""
    sns = _common.mapping(record.get("Sns"))
    message = sns.get("Message")
    if not isinstance(message, str):
        return None
    subject = sns.get("Subject")
    return (subject if isinstance(subject, str) else ""), message


def alarm_change(message: str) -> dict[str, Any] | None:
    """The CloudWatch alarm state change in an SNS message, or None (a budget alert)."""
    try:
        data = loads(message)
    except ContractError:
        return None
    if isinstance(data, dict) and isinstance(data.get("AlarmName"), str):
        return data
    return None


def title_of(description: str, fallback: str) -> str:
    """Our alarm descriptions start `Title: what it means. Run ...`."""
    head, separator, _ = description.partition(":")
    return head.strip() if separator and head.strip() else fallback


class Notifier:
    def __init__(
        self,
        db: DynamoDBClient,
        table: str,
        send: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._table = table
        self._send = send
        self._clock = clock

    def handle(self, records: Iterable[Mapping[str, Any]]) -> Outcome:
        outcome = Outcome()
        for record in records:
            parsed = parse_record(record)
            if parsed is None:
                continue
            notice = self.notice(*parsed)
            if notice is None:
                outcome.skipped.append("no change")
                continue
            if not self._within_hourly_limit():
                outcome.skipped.append(f"held back: {notice.key}")
                continue
            self._send(notice.text)
            outcome.sent.append(f"{notice.kind}: {notice.key}")
        return outcome

    def notice(self, subject: str, message: str) -> Notice | None:
        change = alarm_change(message)
        if change is None:
            lines = message.strip().splitlines()
            headline = subject or (lines[0] if lines else "")
            return Notice(
                kind="budget",
                key=headline,
                text=f"💸 <b>{escape_html(headline or 'AWS Budgets alert')}</b>\n{BUDGET_HINT}",
            )
        name = str(change["AlarmName"])
        description = str(change.get("AlarmDescription") or name)
        title = title_of(description, name)
        state = str(change.get("NewStateValue", ""))
        if state == ALARM and self._moved(name, to=ALARM):
            return Notice(kind="alarm", key=name, text=f"🚨 {_describe(description, title)}")
        if state == OK and self._moved(name, to=OK):
            return Notice(
                kind="recovered",
                key=name,
                text=f"✅ <b>{escape_html(title)}</b>: back to normal.",
            )
        return None

    def _moved(self, name: str, *, to: str) -> bool:
        """Record the alarm's new state; False when it was already told (or OK was never
        preceded by an ALARM we told)."""
        condition = (
            "attribute_not_exists(alarm_state) OR alarm_state <> :to"
            if to == ALARM
            else "alarm_state = :alarm"
        )
        values: dict[str, Any] = {
            ":to": ddb.s(to),
            ":expires": ddb.n(int(self._clock() + STATE_KEEP_SECONDS)),
        }
        if to == OK:
            values[":alarm"] = ddb.s(ALARM)
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"pk": ddb.s(f"alarm#{name}")},
                UpdateExpression="SET alarm_state = :to, expires_at = :expires",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if ddb.is_condition_failure(error):
                return False
            raise
        return True

    def _within_hourly_limit(self) -> bool:
        now = self._clock()
        hour = int(now // 3600)
        answer = self._db.update_item(
            TableName=self._table,
            Key={"pk": ddb.s(f"notify-hour#{hour}")},
            UpdateExpression="ADD sent :one SET expires_at = :expires",
            ExpressionAttributeValues={
                ":one": ddb.n(1),
                ":expires": ddb.n(int(now + 2 * 3600)),
            },
            ReturnValues="UPDATED_NEW",
        )
        count = ddb.get_int(answer.get("Attributes", {}), "sent")
        if count == MAX_PER_HOUR + 1:
            self._send(HELD_BACK)
        return count <= MAX_PER_HOUR


def _describe(description: str, title: str) -> str:
    rest = description.partition(":")[2].strip() if title != description else ""
    text = f"<b>{escape_html(title)}</b>"
    return f"{text}\n{escape_html(rest)}" if rest else text


def telegram_sender(bot: TelegramBot, chat_ids: Iterable[int]) -> Callable[[str], None]:
    """Send each text to every chat; one chat failing does not stop the others."""
    chats = list(chat_ids)

    def send(text: str) -> None:
        for chat_id in chats:
            try:
                bot.send_message(chat_id, text)
            except TelegramError as error:
                _common.log.warning("could not tell chat %s: %s", chat_id, error)

    return send


def handler(event: Any = None, context: Any = None) -> dict[str, Any]:
    parameter = os.environ.get(resources.TELEGRAM_BOT_TOKEN.env_var)
    if not parameter:
        return {"sent": [], "skipped": ["Telegram is not set up"]}
    try:
        paired = _common.pairing().list_paired()
        bot = TelegramBot(
            aws.secret(parameter),
            api_url=os.environ.get(resources.ENV_TELEGRAM_API_URL),
            timeout=TELEGRAM_TIMEOUT_SECONDS,
        )
    except (ClientError, BotoCoreError) as error:
        _common.log.error("cannot reach the pairing table or the bot token: %s", error)
        raise
    if not paired:
        return {"sent": [], "skipped": ["no paired Telegram chat"]}
    notifier = Notifier(
        aws.dynamodb(),
        resources.table_name(resources.DEDUPE),
        telegram_sender(bot, {user.chat_id for user in paired if user.channel == "telegram"}),
    )
    records = event.get("Records", []) if isinstance(event, Mapping) else []
    outcome = notifier.handle(r for r in records if isinstance(r, Mapping))
    _common.log.info("notifier: %s", outcome.as_dict())
    return outcome.as_dict()
