"""The bridge's side of the inbound FIFO queue: receive, keep invisible, delete, hand back.

A message stays on the queue until its reply is delivered: the bridge deletes it only then. A
crash or SIGKILL therefore means redelivery once the visibility timeout runs out (and
`History.is_answered` stops a message that was answered from being answered twice). While a
turn runs, its message's visibility is extended; on shutdown, messages not answered are handed
back at once (visibility 0) so the next task takes them without waiting.

A body that does not follow the contract goes to the dead-letter queue (found through the
queue's redrive policy) with a log line; the bridge keeps serving.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from openclaw_deploy.runtime.contract import ContractError, QueueMessage

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger("openclaw_bridge.inbound")


@dataclass(eq=False)
class Received:
    """One received SQS message and what the bridge made of it."""

    body: str
    receipt: str
    sqs_id: str
    group_id: str | None
    dedup_id: str | None
    receive_count: int
    received_at: float = field(default_factory=time.monotonic)
    extended_at: float = field(default_factory=time.monotonic)
    message: QueueMessage | None = None


class InboundQueue:
    def __init__(self, sqs_client: SQSClient, queue_url: str) -> None:
        self._sqs = sqs_client
        self.url = queue_url
        self.visibility_timeout = 300
        self._dlq_url: str | None = None

    def discover(self) -> None:
        """Read the queue's visibility timeout and find its dead-letter queue."""
        answer = self._sqs.get_queue_attributes(
            QueueUrl=self.url, AttributeNames=["VisibilityTimeout", "RedrivePolicy"]
        )
        attributes = answer.get("Attributes", {})
        self.visibility_timeout = int(attributes.get("VisibilityTimeout") or 300)
        policy = attributes.get("RedrivePolicy")
        if policy:
            arn = json.loads(policy).get("deadLetterTargetArn", "")
            name = arn.rsplit(":", 1)[-1]
            if name:
                self._dlq_url = self._sqs.get_queue_url(QueueName=name)["QueueUrl"]

    def waiting(self) -> int:
        """About how many messages wait in the queue or are in flight (SQS's approximate
        counts; the same GetQueueAttributes `discover` uses)."""
        answer = self._sqs.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )
        attributes = answer.get("Attributes", {})
        return int(attributes.get("ApproximateNumberOfMessages") or 0) + int(
            attributes.get("ApproximateNumberOfMessagesNotVisible") or 0
        )

    def receive(self, wait_seconds: int, max_messages: int = 10) -> list[Received]:
        answer = self._sqs.receive_message(
            QueueUrl=self.url,
            MaxNumberOfMessages=max_messages,
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=[
                "ApproximateReceiveCount",
                "MessageGroupId",
                "MessageDeduplicationId",
            ],
        )
        found: list[Received] = []
        for raw in answer.get("Messages", []):
            attributes = raw.get("Attributes", {})
            found.append(
                Received(
                    body=raw.get("Body", ""),
                    receipt=raw["ReceiptHandle"],
                    sqs_id=raw.get("MessageId", ""),
                    group_id=attributes.get("MessageGroupId"),
                    dedup_id=attributes.get("MessageDeduplicationId"),
                    receive_count=int(attributes.get("ApproximateReceiveCount") or 1),
                )
            )
        return found

    @staticmethod
    def parse(item: Received) -> QueueMessage:
        """The queue message in `item`; ContractError when it is malformed."""
        if item.message is None:
            item.message = QueueMessage.from_json(item.body)
        return item.message

    def delete(self, item: Received) -> None:
        self._sqs.delete_message(QueueUrl=self.url, ReceiptHandle=item.receipt)

    def extend(self, item: Received, seconds: int | None = None) -> None:
        self._sqs.change_message_visibility(
            QueueUrl=self.url,
            ReceiptHandle=item.receipt,
            VisibilityTimeout=seconds if seconds is not None else self.visibility_timeout,
        )
        item.extended_at = time.monotonic()

    def release(self, item: Received) -> None:
        """Hand the message back: visible again at once, for the next task to take."""
        try:
            self._sqs.change_message_visibility(
                QueueUrl=self.url, ReceiptHandle=item.receipt, VisibilityTimeout=0
            )
        except (ClientError, BotoCoreError) as error:
            # It comes back by itself when its visibility timeout ends.
            log.warning("could not hand back message %s: %s", item.sqs_id, error)

    def dead_letter(self, item: Received, error: ContractError) -> None:
        """Move a malformed message to the dead-letter queue (or drop it if there is none)."""
        log.error(
            "malformed queue message %s (%s: %s); moving it to the dead-letter queue",
            item.sqs_id,
            error.code,
            error,
        )
        if self._dlq_url is not None:
            send: dict[str, Any] = {
                "QueueUrl": self._dlq_url,
                "MessageBody": item.body or "(empty)",
                "MessageAttributes": {
                    "error": {"DataType": "String", "StringValue": str(error)[:256]},
                },
            }
            if self._dlq_url.endswith(".fifo"):
                send["MessageGroupId"] = item.group_id or "malformed"
                send["MessageDeduplicationId"] = item.dedup_id or item.sqs_id
            self._sqs.send_message(**send)
        else:
            log.error("the queue has no dead-letter queue: message %s is dropped", item.sqs_id)
        self.delete(item)
