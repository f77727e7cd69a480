"""`dlq`: the messages that never got an answer (the inbound queue's dead-letter queue).

A message lands there after the agent took it `max_receive_count` times without settling it
(a crash while answering, a body it could not read). `list` shows them without consuming them,
`retry` puts them back on the inbound queue (the watchdog wakes the agent for waiting messages
within a minute) and `drop` deletes them. Works the same on both targets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from openclaw_deploy.aws.errors import translate_boto_errors
from openclaw_deploy.config import Deployment
from openclaw_deploy.context import AppContext
from openclaw_deploy.errors import NotFoundError
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.contract import ContractError, QueueMessage
from openclaw_deploy.services.target import connect

PEEK_SECONDS: Final = 30
"""How long listed messages stay hidden while we look (they are made visible again after)."""
MAX_MESSAGES: Final = 100
PREVIEW_CHARS: Final = 80


@dataclass(frozen=True, kw_only=True)
class DeadLetter:
    id: str
    """SQS's message id: what `retry` and `drop` take."""
    channel: str | None
    session: str | None
    message_id: str | None
    preview: str
    sent_at: float | None
    receive_count: int


@dataclass(frozen=True, kw_only=True)
class DeadLetters:
    deployment: str
    queue: str
    messages: list[DeadLetter]


@dataclass(frozen=True, kw_only=True)
class DlqAction:
    deployment: str
    action: str
    """"retried" or "dropped"."""
    ids: list[str]
    not_found: list[str]


def _urls(app: AppContext, deployment: Deployment) -> tuple[Any, str, str]:
    connect(app, deployment)
    sqs = app.client("sqs", deployment.region)
    queue = resources.INBOUND
    with translate_boto_errors("find the dead-letter queue"):
        try:
            dead = sqs.get_queue_url(QueueName=queue.dead_letter_name(deployment.name))["QueueUrl"]
            inbound = sqs.get_queue_url(QueueName=queue.physical_name(deployment.name))["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            raise NotFoundError(
                f"The deployment {deployment.name!r} has no queues (is it deployed?).",
                hint="openclaw-deploy status",
            ) from None
    return sqs, dead, inbound


def _receive_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    while len(found) < MAX_MESSAGES:
        answer = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=PEEK_SECONDS,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
        )
        batch = answer.get("Messages", [])
        if not batch:
            break
        found.extend(batch)
    return found


def _release(sqs: Any, url: str, messages: Iterable[dict[str, Any]]) -> None:
    for message in messages:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )


def _describe(message: dict[str, Any]) -> DeadLetter:
    attributes = message.get("Attributes", {})
    body = message.get("Body", "")
    try:
        parsed: QueueMessage | None = QueueMessage.from_json(body)
    except ContractError:
        parsed = None
    text = parsed.text if parsed else body
    preview = text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
    sent = attributes.get("SentTimestamp")
    return DeadLetter(
        id=message["MessageId"],
        channel=parsed.channel if parsed else None,
        session=parsed.session if parsed else None,
        message_id=parsed.message_id if parsed else None,
        preview=preview,
        sent_at=int(sent) / 1000 if sent else None,
        receive_count=int(attributes.get("ApproximateReceiveCount", "0") or 0),
    )


def list_dead_letters(app: AppContext, deployment: Deployment) -> DeadLetters:
    sqs, dead, _ = _urls(app, deployment)
    with translate_boto_errors("read the dead-letter queue"):
        messages = _receive_all(sqs, dead)
        _release(sqs, dead, messages)
    return DeadLetters(
        deployment=deployment.name,
        queue=resources.INBOUND.dead_letter_name(deployment.name),
        messages=[_describe(m) for m in messages],
    )


def _act(
    app: AppContext,
    deployment: Deployment,
    ids: list[str],
    *,
    every: bool,
    action: str,
    each: Callable[[Any, str, str, dict[str, Any]], None],
) -> DlqAction:
    sqs, dead, inbound = _urls(app, deployment)
    done: list[str] = []
    with translate_boto_errors(f"{action.removesuffix('ed')} dead letters"):
        messages = _receive_all(sqs, dead)
        chosen = [m for m in messages if every or m["MessageId"] in ids]
        _release(sqs, dead, [m for m in messages if m not in chosen])
        for message in chosen:
            each(sqs, dead, inbound, message)
            done.append(message["MessageId"])
    return DlqAction(
        deployment=deployment.name,
        action=action,
        ids=done,
        not_found=[i for i in ids if i not in done],
    )


def _retry_one(sqs: Any, dead: str, inbound: str, message: dict[str, Any]) -> None:
    attributes = message.get("Attributes", {})
    original = attributes.get("MessageDeduplicationId") or message["MessageId"]
    # FIFO drops a repeat of a deduplication id for 5 minutes: a retry needs its own. The
    # bridge still answers the message once (it checks history by the channel's message id).
    dedupe = f"{original[:90]}-retry-{message['MessageId'][:30]}"
    sqs.send_message(
        QueueUrl=inbound,
        MessageBody=message["Body"],
        MessageGroupId=attributes.get("MessageGroupId") or "dead-letters",
        MessageDeduplicationId=dedupe,
    )
    sqs.delete_message(QueueUrl=dead, ReceiptHandle=message["ReceiptHandle"])


def _drop_one(sqs: Any, dead: str, inbound: str, message: dict[str, Any]) -> None:
    sqs.delete_message(QueueUrl=dead, ReceiptHandle=message["ReceiptHandle"])


def retry(app: AppContext, deployment: Deployment, ids: list[str], *, every: bool) -> DlqAction:
    return _act(app, deployment, ids, every=every, action="retried", each=_retry_one)


def drop(app: AppContext, deployment: Deployment, ids: list[str], *, every: bool) -> DlqAction:
    return _act(app, deployment, ids, every=every, action="dropped", each=_drop_one)
