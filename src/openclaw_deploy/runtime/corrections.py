"""Edited Telegram messages: an edit made before the agent began its answer replaces the text.

One item per chat message in the dedupe table (`tgturn#<chat>#<message>`, expiring like the
rest). The webhook writes the edited text only while the item has no `started`; the bridge
sets `started` as the turn begins and takes the latest text in the same write. DynamoDB applies
the two one after the other, so an edit either reaches the turn or is told it came too late,
never both and never lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from openclaw_deploy.runtime import ddb

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEEP_SECONDS: Final = 2 * 24 * 3600
"""As long as the queue may still hold the message."""


def turn_key(chat_id: int, message_id: int) -> str:
    return f"tgturn#{chat_id}#{message_id}"


class Corrections:
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

    def correct(self, chat_id: int, message_id: int, text: str) -> bool:
        """Replace the text the agent will answer; False when its answer has begun."""
        now = self._clock()
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"pk": ddb.s(turn_key(chat_id, message_id))},
                UpdateExpression="SET #text = :text, edited_at = :now, expires_at = :expires",
                ConditionExpression="attribute_not_exists(started)",
                ExpressionAttributeNames={"#text": "text"},
                ExpressionAttributeValues={
                    ":text": ddb.s(text),
                    ":now": ddb.n(now),
                    ":expires": ddb.n(int(now + KEEP_SECONDS)),
                },
            )
        except ClientError as error:
            if ddb.is_condition_failure(error):
                return False
            raise
        return True

    def start(self, chat_id: int, message_id: int) -> str | None:
        """Mark the answer begun; the corrected text, if the message was edited before."""
        now = self._clock()
        answer: Any = self._db.update_item(
            TableName=self._table,
            Key={"pk": ddb.s(turn_key(chat_id, message_id))},
            UpdateExpression="SET started = :now, expires_at = :expires",
            ExpressionAttributeValues={
                ":now": ddb.n(now),
                ":expires": ddb.n(int(now + KEEP_SECONDS)),
            },
            ReturnValues="ALL_NEW",
        )
        return ddb.get_s(answer.get("Attributes", {}), "text")
