"""Conversation history: both sides of every session, for the web UI and for idempotent replies.

Layout (the conversations table, string keys pk/sk):

* a message: pk=`S#<session>`, sk=`<received_at ms, 13 digits>#<message_id>#u` for the user's
  message, `...#a` for the assistant's reply; attributes role, text, channel, message_id, at.
  The key derives from the queue message alone, so the handler (at enqueue time) and the bridge
  (again, when it takes the message) write the same item: recording twice is harmless, and
  `is_answered` is one read.
* the index: pk=`CONVERSATIONS`, sk=`<session>`, attributes title (the first user message,
  shortened) and updated_at.
* a Telegram reply being written: pk=`D#<session>`, sk as the user's message, attribute
  message_ids (the chat messages its preview occupies), removed once the reply is delivered.
  A task that dies mid-reply leaves it, so the task that answers the redelivered message edits
  that preview instead of leaving it half-written beside a second reply.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from openclaw_deploy.runtime import ddb
from openclaw_deploy.runtime.contract import ID_PATTERN, QueueMessage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

INDEX_KEY: Final = "CONVERSATIONS"
DRAFT_PREFIX: Final = "D#"
TITLE_CHARS: Final = 80
MAX_PAGE: Final = 200
DEFAULT_PAGE: Final = 50
MAX_STORED_CHARS: Final = 100_000
"""DynamoDB items stop at 400 KB; a longer reply is stored shortened (the user saw it whole)."""
CURSOR_PATTERN: Final = re.compile(r"^\d{13}#[A-Za-z0-9_.:-]{1,128}#[ua]$")

USER: Final = "user"
ASSISTANT: Final = "assistant"


@dataclass(frozen=True, kw_only=True)
class Conversation:
    session: str
    title: str
    updated_at: float
    channel: str | None = None

    def public(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "title": self.title,
            "updatedAt": self.updated_at,
            "channel": self.channel,
        }


@dataclass(frozen=True, kw_only=True)
class HistoryMessage:
    id: str
    role: str
    text: str
    at: float
    channel: str
    cursor: str
    stopped: bool = False
    """A reply the owner stopped (its text is what was written until then)."""
    attachments: tuple[dict[str, Any], ...] = ()
    """Files with the message: `{key, name, contentType, size}` (the API adds fresh URLs)."""

    def public(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "id": self.id,
            "role": self.role,
            "text": self.text,
            "at": self.at,
            "channel": self.channel,
        }
        if self.stopped:
            shown["stopped"] = True
        if self.attachments:
            shown["attachments"] = [dict(a) for a in self.attachments]
        return shown


@dataclass(frozen=True, kw_only=True)
class Page:
    messages: list[HistoryMessage]
    """Oldest first."""
    next: str | None
    """Pass as `before` for the page of older messages; None when this page reaches the start."""


def session_key(session: str) -> str:
    return f"S#{session}"


def message_key(msg: QueueMessage, role: str) -> str:
    millis = max(0, min(int(msg.received_at * 1000), 9_999_999_999_999))
    return f"{millis:013d}#{msg.message_id}#{'u' if role == USER else 'a'}"


def title_of(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


class History:
    def __init__(
        self,
        dynamodb_client: DynamoDBClient,
        table_name: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = dynamodb_client
        self._table = table_name
        self._clock = clock

    def record_user(self, msg: QueueMessage) -> None:
        files = [
            {k: v for k, v in a.public().items() if k in ("key", "name", "contentType", "size")}
            for a in msg.attachments
        ]
        self._put(msg, USER, msg.text, msg.received_at, attachments=files)
        self._touch(msg, msg.received_at)

    def name_conversation(self, session: str, title: str) -> None:
        """Give a conversation its title before its first message (a schedule's, named after
        it); a conversation that has one keeps it."""
        self._db.update_item(
            TableName=self._table,
            Key={"pk": ddb.s(INDEX_KEY), "sk": ddb.s(session)},
            UpdateExpression="SET title = if_not_exists(title, :title)",
            ExpressionAttributeValues={":title": ddb.s(title_of(title))},
        )

    def rename(self, session: str, title: str) -> Conversation | None:
        """Give a conversation the owner's title (kept: later messages never replace a title);
        None when there is no such conversation."""
        try:
            answer = self._db.update_item(
                TableName=self._table,
                Key={"pk": ddb.s(INDEX_KEY), "sk": ddb.s(session)},
                UpdateExpression="SET title = :title",
                ConditionExpression="attribute_exists(sk)",
                ExpressionAttributeValues={":title": ddb.s(title_of(title))},
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if ddb.is_condition_failure(error):
                return None
            raise
        item = answer.get("Attributes", {})
        return Conversation(
            session=session,
            title=ddb.get_s(item, "title") or "",
            updated_at=ddb.get_n(item, "updated_at") or 0.0,
            channel=ddb.get_s(item, "channel"),
        )

    def delete_conversation(self, session: str) -> int:
        """Remove a conversation: its messages, any reply draft, then its entry in the list;
        return how many rows went. A message still on its way may record itself again."""
        removed = 0
        for prefix in (session_key(session), DRAFT_PREFIX + session):
            start: dict[str, Any] | None = None
            while True:
                query: dict[str, Any] = {
                    "TableName": self._table,
                    "KeyConditionExpression": "pk = :pk",
                    "ExpressionAttributeValues": {":pk": ddb.s(prefix)},
                    "ProjectionExpression": "pk, sk",
                }
                if start:
                    query["ExclusiveStartKey"] = start
                answer = self._db.query(**query)
                keys = [{"pk": item["pk"], "sk": item["sk"]} for item in answer.get("Items", [])]
                for index in range(0, len(keys), 25):
                    self._delete_keys(keys[index : index + 25])
                removed += len(keys)
                start = answer.get("LastEvaluatedKey")
                if not start:
                    break
        self._db.delete_item(
            TableName=self._table, Key={"pk": ddb.s(INDEX_KEY), "sk": ddb.s(session)}
        )
        return removed + 1

    def _delete_keys(self, keys: list[dict[str, Any]]) -> None:
        requests: list[Any] = [{"DeleteRequest": {"Key": key}} for key in keys]
        for _ in range(8):
            answer = self._db.batch_write_item(RequestItems={self._table: requests})
            requests = answer.get("UnprocessedItems", {}).get(self._table, [])
            if not requests:
                return
            time.sleep(0.1)
        raise RuntimeError("DynamoDB left some history rows undeleted; try again")

    def record_reply(
        self,
        msg: QueueMessage,
        text: str,
        *,
        stopped: bool = False,
        attachments: list[dict[str, Any]] | None = None,
    ) -> None:
        """The reply to `msg`; `attachments` are the files the agent produced
        (`{key, name, contentType, size}`, keys in the state bucket)."""
        at = self._clock()
        self._put(msg, ASSISTANT, text, at, stopped=stopped, attachments=attachments)
        self._touch(msg, at)

    def remember_draft(self, msg: QueueMessage, message_ids: list[int]) -> None:
        """The Telegram messages the reply to `msg` occupies so far."""
        self._db.put_item(
            TableName=self._table,
            Item={
                "pk": ddb.s(DRAFT_PREFIX + msg.session),
                "sk": ddb.s(message_key(msg, USER)),
                "message_ids": {"L": [ddb.n(i) for i in message_ids]},
            },
        )

    def draft(self, msg: QueueMessage) -> list[int]:
        """The Telegram messages an interrupted reply to `msg` left (empty: none)."""
        answer = self._db.get_item(
            TableName=self._table,
            Key={"pk": ddb.s(DRAFT_PREFIX + msg.session), "sk": ddb.s(message_key(msg, USER))},
            ConsistentRead=True,
        )
        listed = answer.get("Item", {}).get("message_ids", {}).get("L", [])
        return [int(value["N"]) for value in listed if "N" in value]

    def forget_draft(self, msg: QueueMessage) -> None:
        self._db.delete_item(
            TableName=self._table,
            Key={"pk": ddb.s(DRAFT_PREFIX + msg.session), "sk": ddb.s(message_key(msg, USER))},
        )

    def is_answered(self, msg: QueueMessage) -> bool:
        answer = self._db.get_item(
            TableName=self._table,
            Key={"pk": ddb.s(session_key(msg.session)), "sk": ddb.s(message_key(msg, ASSISTANT))},
            ProjectionExpression="pk",
            ConsistentRead=True,
        )
        return "Item" in answer

    def list_conversations(self) -> list[Conversation]:
        """Every conversation, most recently active first."""
        found: list[Conversation] = []
        start: dict[str, Any] | None = None
        while True:
            query: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": ddb.s(INDEX_KEY)},
            }
            if start:
                query["ExclusiveStartKey"] = start
            answer = self._db.query(**query)
            for item in answer.get("Items", []):
                found.append(
                    Conversation(
                        session=ddb.get_s(item, "sk") or "",
                        title=ddb.get_s(item, "title") or "",
                        updated_at=ddb.get_n(item, "updated_at") or 0.0,
                        channel=ddb.get_s(item, "channel"),
                    )
                )
            start = answer.get("LastEvaluatedKey")
            if not start:
                break
        found.sort(key=lambda c: c.updated_at, reverse=True)
        return found

    def page(self, session: str, *, limit: int = DEFAULT_PAGE, before: str | None = None) -> Page:
        """About `limit` messages older than the cursor `before` (the newest when None), oldest
        first, a question before its answer. A page never separates a message from its reply
        (it may then hold `limit + 1`): the keys sort `...#a` before `...#u`, so a cut between
        them would show the reply a page before its question.
        """
        if not ID_PATTERN.match(session):
            raise ValueError("session must match the id pattern")
        if before is not None and not CURSOR_PATTERN.match(before):
            raise ValueError("before is not a cursor this API returned")
        limit = max(1, min(limit, MAX_PAGE))
        condition = "pk = :pk"
        values: dict[str, Any] = {":pk": ddb.s(session_key(session))}
        if before is not None:
            condition += " AND sk < :before"
            values[":before"] = ddb.s(before)
        answer = self._db.query(
            TableName=self._table,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values,
            ScanIndexForward=False,
            Limit=limit + 2,
        )
        items = answer.get("Items", [])
        messages = [_message(item) for item in items[:limit]]
        if len(items) > limit and _group(_message(items[limit])) == _group(messages[-1]):
            messages.append(_message(items[limit]))
        more = len(items) > len(messages) or (
            "LastEvaluatedKey" in answer and len(items) < limit + 2
        )
        oldest = messages[-1].cursor if messages else None
        messages.sort(key=lambda m: (_group(m), m.role != USER))
        return Page(messages=messages, next=oldest if more else None)

    def _put(
        self,
        msg: QueueMessage,
        role: str,
        text: str,
        at: float,
        *,
        stopped: bool = False,
        attachments: list[dict[str, Any]] | None = None,
    ) -> None:
        item: dict[str, Any] = {
            "pk": ddb.s(session_key(msg.session)),
            "sk": ddb.s(message_key(msg, role)),
            "role": ddb.s(role),
            "text": ddb.s(text[:MAX_STORED_CHARS]),
            "channel": ddb.s(msg.channel),
            "message_id": ddb.s(msg.message_id),
            "at": ddb.n(at),
        }
        if stopped:
            item["stopped"] = {"BOOL": True}
        if attachments:
            item["attachments"] = ddb.s(json.dumps(attachments, separators=(",", ":")))
        self._db.put_item(TableName=self._table, Item=item)

    def _touch(self, msg: QueueMessage, at: float) -> None:
        # Only ever forward: the bridge re-recording an old user message must not move the
        # conversation back in the list. The title is the first user message, set once.
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"pk": ddb.s(INDEX_KEY), "sk": ddb.s(msg.session)},
                UpdateExpression=(
                    "SET updated_at = :at, channel = if_not_exists(channel, :channel), "
                    "title = if_not_exists(title, :title)"
                ),
                ConditionExpression="attribute_not_exists(updated_at) OR updated_at < :at",
                ExpressionAttributeValues={
                    ":at": ddb.n(at),
                    ":channel": ddb.s(msg.channel),
                    ":title": ddb.s(title_of(msg.text)),
                },
            )
        except ClientError as error:
            if not ddb.is_condition_failure(error):
                raise


def _group(message: HistoryMessage) -> str:
    """The key shared by a message and its reply (`<received ms>#<message id>`)."""
    return message.cursor[:-2]


def _message(item: dict[str, Any]) -> HistoryMessage:
    return HistoryMessage(
        id=ddb.get_s(item, "message_id") or "",
        role=ddb.get_s(item, "role") or USER,
        text=ddb.get_s(item, "text") or "",
        at=ddb.get_n(item, "at") or 0.0,
        channel=ddb.get_s(item, "channel") or "web",
        cursor=ddb.get_s(item, "sk") or "",
        stopped=item.get("stopped", {}).get("BOOL") is True,
        attachments=_attachments(ddb.get_s(item, "attachments")),
    )


def _attachments(stored: str | None) -> tuple[dict[str, Any], ...]:
    if not stored:
        return ()
    try:
        found = json.loads(stored)
    except ValueError:
        return ()
    return tuple(a for a in found if isinstance(a, dict)) if isinstance(found, list) else ()
