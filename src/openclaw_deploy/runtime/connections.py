"""Open WebSocket connections of the web UI, and posting frames to them.

The ws handler adds a connection at `$connect` and forgets it at `$disconnect`; the bridge
lists them to send replies, and both post with `post`, which forgets a connection API Gateway
says is gone (HTTP 410: the browser left without a `$disconnect` we saw).

Layout (the connections table, key pk = connection id, TTL on `expires_at`): user (the Cognito
`sub` that opened it), connected_at. API Gateway closes a connection after two hours at most, so
the TTL is a little longer than that.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from openclaw_deploy.runtime import ddb

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_CONNECTION_SECONDS: Final = 2 * 3600
TTL_SECONDS: Final = MAX_CONNECTION_SECONDS + 600


def is_gone(error: ClientError) -> bool:
    info = error.response.get("Error", {})
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return info.get("Code") == "GoneException" or status == 410


class Connections:
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

    def add(self, connection_id: str, *, user: str) -> None:
        now = self._clock()
        self._db.put_item(
            TableName=self._table,
            Item={
                "pk": ddb.s(connection_id),
                "user": ddb.s(user),
                "connected_at": ddb.n(now),
                "expires_at": ddb.n(int(now + TTL_SECONDS)),
            },
        )

    def user_of(self, connection_id: str) -> str | None:
        """The signed-in user who opened the connection (None: not known here)."""
        answer = self._db.get_item(
            TableName=self._table, Key={"pk": ddb.s(connection_id)}, ConsistentRead=True
        )
        return ddb.get_s(answer.get("Item", {}), "user")

    def remove(self, connection_id: str) -> None:
        self._db.delete_item(TableName=self._table, Key={"pk": ddb.s(connection_id)})

    def list(self) -> list[str]:
        """Ids of the connections that may still be open (a small table: one owner's tabs)."""
        now = self._clock()
        ids: list[str] = []
        scan: dict[str, Any] = {"TableName": self._table, "ConsistentRead": True}
        while True:
            answer = self._db.scan(**scan)
            for item in answer.get("Items", []):
                if (ddb.get_n(item, "expires_at") or 0) > now:
                    ids.append(ddb.get_s(item, "pk") or "")
            if not answer.get("LastEvaluatedKey"):
                return [i for i in ids if i]
            scan["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def post(self, api: ApiGatewayManagementApiClient, connection_id: str, frame: str) -> bool:
        """Send one frame; False (and the connection forgotten) when it is gone."""
        try:
            api.post_to_connection(ConnectionId=connection_id, Data=frame.encode("utf-8"))
        except ClientError as error:
            if not is_gone(error):
                raise
            self.remove(connection_id)
            return False
        return True
