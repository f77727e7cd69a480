"""One-time WebSocket tickets: the HTTP API issues one (behind the JWT authorizer), `$connect`
consumes it. Browsers cannot set headers on a WebSocket, and a long-lived token must not sit in a
URL (logs, history), so the URL carries a ticket that works once, for `TICKET_TTL_SECONDS`.

The table holds the SHA-256 of the ticket, never the ticket: reading the table gives no way in.
Consuming is one conditional delete, so two connections racing with one ticket get one socket.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from openclaw_deploy.runtime import ddb
from openclaw_deploy.runtime.contract import TICKET_TTL_SECONDS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TICKET_PATTERN: Final = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


def _key(ticket: str) -> str:
    return hashlib.sha256(ticket.encode("ascii")).hexdigest()


class Tickets:
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

    def issue(self, user: str) -> tuple[str, float]:
        """A new ticket for `user` (the Cognito `sub`) and when it expires."""
        ticket = secrets.token_urlsafe(32)
        expires_at = self._clock() + TICKET_TTL_SECONDS
        self._db.put_item(
            TableName=self._table,
            Item={"pk": ddb.s(_key(ticket)), "user": ddb.s(user), "expires_at": ddb.n(expires_at)},
        )
        return ticket, expires_at

    def consume(self, ticket: object) -> str | None:
        """The user the ticket was issued to, or None when it is missing, malformed, used or
        expired. A ticket works once, even if two requests present it at the same moment."""
        if not isinstance(ticket, str) or not TICKET_PATTERN.match(ticket):
            return None
        try:
            answer = self._db.delete_item(
                TableName=self._table,
                Key={"pk": ddb.s(_key(ticket))},
                ConditionExpression="attribute_exists(pk) AND expires_at > :now",
                ExpressionAttributeValues={":now": ddb.n(self._clock())},
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if ddb.is_condition_failure(error):
                return None
            raise
        return ddb.get_s(answer.get("Attributes") or {}, "user")
