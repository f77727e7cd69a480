"""Putting a message on the inbound FIFO queue: ordered per session, deduplicated per channel id.

SQS FIFO deduplicates for five minutes only; the handlers' dedupe table covers the rest of the
24 hours Telegram may redeliver, and the bridge's `History.is_answered` covers everything else.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Final

from openclaw_deploy.runtime.contract import QueueMessage, StopRequest

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# SQS allows 1-128 characters of alphanumerics and punctuation in group and dedup ids.
_SQS_ID: Final = re.compile(r"^[A-Za-z0-9!-/:-@\[-`{-~]{1,128}$")


def sqs_id(value: str) -> str:
    """`value` if SQS accepts it as a group/dedup id, else its SHA-256 (64 hex characters)."""
    if _SQS_ID.match(value):
        return value
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def enqueue(sqs_client: SQSClient, queue_url: str, msg: QueueMessage) -> str:
    """Send `msg` (group = session, dedup id = the channel's own id); return the SQS message id."""
    answer = sqs_client.send_message(
        QueueUrl=queue_url,
        MessageBody=msg.to_json(),
        MessageGroupId=sqs_id(msg.session),
        MessageDeduplicationId=sqs_id(msg.message_id),
    )
    return answer["MessageId"]


def enqueue_stop(sqs_client: SQSClient, queue_url: str, stop: StopRequest) -> str:
    """Ask the bridge to stop a reply: a group of its own, so it is not held behind the turn."""
    answer = sqs_client.send_message(
        QueueUrl=queue_url,
        MessageBody=stop.to_json(),
        MessageGroupId=sqs_id(stop.group),
        MessageDeduplicationId=sqs_id(stop.dedup_id),
    )
    return answer["MessageId"]
