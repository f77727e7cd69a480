"""The one path a chat message takes in, from either channel: claim → record → enqueue → wake.

Nothing is lost and nothing is answered twice, in layers:

1. the dedupe table claims the channel's own id with a conditional write (kept 48 h: Telegram
   redelivers for up to 24 h). A claim left `pending` by an invocation that died is taken over
   after `CLAIM_STALE_SECONDS`, so a retry finishes the job instead of being dropped;
2. the message is recorded in history (idempotent key) and sent to the FIFO queue with the
   same id as its deduplication id, which collapses a retry that overlaps the first attempt;
3. the bridge checks `History.is_answered` before it answers.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from openclaw_deploy.handlers import _common
from openclaw_deploy.runtime import aws, ddb, metrics, resources
from openclaw_deploy.runtime.lifecycle import (
    AgentStartBlockedError,
    AgentStartError,
    AgentStatus,
    ensure_agent_running,
)
from openclaw_deploy.runtime.queue import enqueue

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from openclaw_deploy.runtime.contract import QueueMessage

DEDUPE_SECONDS: Final = 48 * 3600
CLAIM_STALE_SECONDS: Final = 60
"""Longer than any handler runs (API Gateway gives up after 30 s)."""

Claim = Literal["new", "done", "busy"]
Reply = TypeVar("Reply")


class Dedupe:
    """Ids already accepted, and "say this once" markers, in the dedupe table."""

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

    def claim(self, key: str) -> Claim:
        """Claim `key`: `new` (go ahead, then call `done`), `done` (handled before) or `busy`
        (another invocation is handling it right now)."""
        now = self._clock()
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "pk": ddb.s(key),
                    "state": ddb.s("pending"),
                    "claimed_at": ddb.n(now),
                    "expires_at": ddb.n(int(now + DEDUPE_SECONDS)),
                },
                ConditionExpression=(
                    "attribute_not_exists(pk) OR (#st = :pending AND claimed_at < :stale)"
                ),
                ExpressionAttributeNames={"#st": "state"},
                ExpressionAttributeValues={
                    ":pending": ddb.s("pending"),
                    ":stale": ddb.n(now - CLAIM_STALE_SECONDS),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not ddb.is_condition_failure(error):
                raise
            old = _common.mapping(error.response.get("Item"))
            return "busy" if ddb.get_s(old, "state") == "pending" else "done"
        return "new"

    def release(self, key: str) -> None:
        """Give a claim back after a failure, so the channel's retry is processed afresh."""
        try:
            self._db.delete_item(
                TableName=self._table,
                Key={"pk": ddb.s(key)},
                ConditionExpression="#st = :pending",
                ExpressionAttributeNames={"#st": "state"},
                ExpressionAttributeValues={":pending": ddb.s("pending")},
            )
        except ClientError as error:
            if not ddb.is_condition_failure(error):
                raise

    def done(self, key: str) -> None:
        self._db.update_item(
            TableName=self._table,
            Key={"pk": ddb.s(key)},
            UpdateExpression="SET #st = :done",
            ExpressionAttributeNames={"#st": "state"},
            ExpressionAttributeValues={":done": ddb.s("done")},
        )

    def once(self, key: str, *, seconds: float) -> bool:
        """True for the first caller with `key` within `seconds`, False for the rest."""
        now = self._clock()
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "pk": ddb.s(key),
                    "state": ddb.s("done"),
                    "expires_at": ddb.n(int(now + seconds)),
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": ddb.n(now)},
            )
        except ClientError as error:
            if ddb.is_condition_failure(error):
                return False
            raise
        return True


def dedupe() -> Dedupe:
    return Dedupe(aws.dynamodb(), resources.table_name(resources.DEDUPE))


@dataclass(frozen=True, kw_only=True)
class Wake:
    status: AgentStatus | None
    """The agent's status after the wake-up call (None if even that could not be read)."""
    error: str | None = None
    """Why the agent could not be woken (queued messages wait for the next wake)."""
    blocked: bool = False
    """The agent failed to start the same way too often: `error` says so, and what to do."""


def enqueue_message(msg: QueueMessage) -> None:
    """Record the user's message in history and put it on the queue (both idempotent)."""
    _common.history().record_user(msg)
    enqueue(aws.sqs(), _common.queue_url(), msg)


def accept(msg: QueueMessage, *, dedupe_key: str, store: Dedupe | None = None) -> Claim:
    """Take one chat message in: "new" once it is recorded and queued, "done" if it was before,
    "busy" while another invocation handles it. Raises (ClientError, ...) only when the message
    is not queued, with the claim given back, so the sender's retry starts afresh."""
    store = store or dedupe()
    claim = store.claim(dedupe_key)
    if claim == "new":
        try:
            enqueue_message(msg)
        except Exception:
            with contextlib.suppress(ClientError, BotoCoreError):
                store.release(dedupe_key)
            raise
        store.done(dedupe_key)
        metrics.record(metrics.MESSAGES_RECEIVED, 1, Channel=msg.channel)
    return claim


def handle_once(
    key: str, work: Callable[[], Reply], *, store: Dedupe | None = None
) -> tuple[Claim, Reply | None]:
    """Run `work` for the delivery `key` unless it ran before ("done") or runs now ("busy").

    Raises (ClientError, BotoCoreError) when the claim cannot be made, or when `work` failed on
    AWS (the claim is then given back, so the sender's retry starts afresh). Any other error of
    `work` is logged and the delivery counts as handled: a bug must not make a channel redeliver
    one message for a day."""
    store = store or dedupe()
    claim = store.claim(key)
    if claim != "new":
        return claim, None
    result: Reply | None
    try:
        result = work()
    except (ClientError, BotoCoreError):
        _common.log.exception("AWS call failed for %s", key)
        with contextlib.suppress(ClientError, BotoCoreError):
            store.release(key)
        raise
    except Exception:  # noqa: BLE001
        _common.log.exception("unexpected error for %s", key)
        result = None
    try:
        store.done(key)
    except (ClientError, BotoCoreError):
        _common.log.exception("could not mark %s done", key)
    return claim, result


def wake() -> Wake:
    """Start the agent if it sleeps. Never raises: the message is already safe, and a retry
    would find its id done and wake nothing (the watchdog starts the agent for messages that
    are left waiting)."""
    lifecycle = _common.lifecycle()
    try:
        return Wake(status=ensure_agent_running(lifecycle, aws.ecs()))
    except AgentStartBlockedError as error:
        return Wake(status=error.status, error=str(error), blocked=True)
    except AgentStartError as error:
        reason = str(error)
    except (ClientError, BotoCoreError) as error:
        reason = f"the agent could not be woken: {error}"
    _common.log.warning("wake-up failed: %s", reason)
    try:
        status: AgentStatus | None = lifecycle.get()
    except (ClientError, BotoCoreError):
        status = None
    return Wake(status=status, error=reason)
