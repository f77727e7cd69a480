"""Who may talk to the agent on a chat channel: paired users, pending requests, one-time codes.

Telegram users are stored by their numeric id; users of the other channels by `<channel>:<id>`
(`slack:U0123`, `discord:8123...`), so ids of different channels never meet.

Two ways in, both ending in a paired user:

* a stranger writes to the bot and gets a short code (at most once per `REQUEST_PERIOD`, so
  nobody can make the bot spam); the owner approves it (`openclaw-deploy pair approve CODE`, or
  the web UI) — `request` then `approve`;
* the owner makes a code (web UI or CLI) and sends `/pair CODE` to the bot from their own
  Telegram account — `create_code` then `redeem`.

Layout (the pairing table, string keys pk/sk, TTL on `expires_at`; DynamoDB's TTL deletes late,
so every read and condition also checks `expires_at` itself):

* `CODE` / `<code>`: an owner's code for `/pair` (10 minutes, single use);
* `PENDING` / `<code>`: a stranger's request (user_id, name, chat_id, channel, requested_at);
* `REQUEST` / `<user_id>`: when that user may get a new code (the rate limit);
* `PAIRED` / `<user_id>`: name, chat_id, channel, paired_at, and the session key in use;
* `CHANNEL` / `<channel>`: a connected Slack or Discord app (`channels add`): who it is, since
  when (the web app lists them; the secrets themselves are in SSM).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from openclaw_deploy.runtime import ddb

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CODE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""No 0/O or 1/I: codes are read off one screen and typed on another."""
CODE_LENGTH: Final = 8
CODE_PATTERN: Final = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
OWNER_CODE_SECONDS: Final = 10 * 60
REQUEST_PERIOD: Final = 60 * 60
"""A stranger gets at most one code per hour; their request stays approvable that long."""
NAME_CHARS: Final = 64

TELEGRAM: Final = "telegram"
_CODE = "CODE"
_PENDING = "PENDING"
_REQUEST = "REQUEST"
_PAIRED = "PAIRED"
_CHANNEL = "CHANNEL"


@dataclass(frozen=True, kw_only=True)
class ConnectedChannel:
    channel: str
    identity: str
    connected_at: float

    def public(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "identity": self.identity,
            "connectedAt": self.connected_at,
        }


class PairingError(Exception):
    """A code that is unknown, used or expired; a user that is not paired."""


@dataclass(frozen=True, kw_only=True)
class PairingCode:
    code: str
    expires_at: float

    def public(self) -> dict[str, Any]:
        return {"code": self.code, "expiresAt": self.expires_at}


@dataclass(frozen=True, kw_only=True)
class PendingRequest:
    code: str
    user_id: str
    name: str
    chat_id: int
    requested_at: float
    expires_at: float
    channel: str = TELEGRAM

    def public(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "userId": self.user_id,
            "name": self.name,
            "channel": self.channel,
            "requestedAt": self.requested_at,
            "expiresAt": self.expires_at,
        }


@dataclass(frozen=True, kw_only=True)
class PairedUser:
    user_id: str
    name: str
    chat_id: int
    paired_at: float
    session: str
    channel: str = TELEGRAM

    def public(self) -> dict[str, Any]:
        return {
            "userId": self.user_id,
            "name": self.name,
            "pairedAt": self.paired_at,
            "channel": self.channel,
        }


def normalize_code(text: str) -> str | None:
    """The code in `text` as stored (upper case, no spaces or dashes), or None if it is not one."""
    code = re.sub(r"[\s-]", "", text).upper()
    return code if CODE_PATTERN.match(code) else None


def default_session(chat_id: int) -> str:
    return f"tg-{chat_id}"


def channel_user(channel: str, user_id: str) -> str:
    """The pairing table's id of a user of `channel` (Telegram ids stay as they are)."""
    return user_id if channel == TELEGRAM else f"{channel}:{user_id}"


def base_session(channel: str, user_id: str, chat_id: int) -> str:
    """The session a newly paired user talks in: per chat on Telegram, per user elsewhere."""
    if channel == TELEGRAM:
        return default_session(chat_id)
    return f"{channel}-{user_id.rpartition(':')[2]}"


class Pairing:
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

    # -- the owner's side -------------------------------------------------------------------

    def create_code(self) -> PairingCode:
        """A code the owner sends to the bot as `/pair CODE` from their Telegram account."""
        now = self._clock()
        code = PairingCode(code=_new_code(), expires_at=now + OWNER_CODE_SECONDS)
        self._db.put_item(
            TableName=self._table,
            Item={
                "pk": ddb.s(_CODE),
                "sk": ddb.s(code.code),
                "created_at": ddb.n(now),
                "expires_at": ddb.n(int(code.expires_at)),
            },
        )
        return code

    def list_pending(self) -> list[PendingRequest]:
        now = self._clock()
        pending = [_pending(item) for item in self._query(_PENDING)]
        return sorted((p for p in pending if p.expires_at > now), key=lambda p: p.requested_at)

    def approve(self, code: str) -> PairedUser:
        """Pair the stranger who was given `code`. PairingError if it is unknown or expired."""
        normal = normalize_code(code)
        if normal is None:
            raise PairingError("that is not a pairing code")
        old = self._take(_PENDING, normal)
        if old is None:
            raise PairingError(f"no pending request has the code {normal} (or it expired)")
        request = _pending(old)
        user = self._pair(request.user_id, request.name, request.chat_id, request.channel)
        self._db.delete_item(
            TableName=self._table, Key={"pk": ddb.s(_REQUEST), "sk": ddb.s(request.user_id)}
        )
        return user

    def revoke(self, user_id: str | int) -> bool:
        """Unpair a user; False if they were not paired."""
        answer = self._db.delete_item(
            TableName=self._table,
            Key={"pk": ddb.s(_PAIRED), "sk": ddb.s(str(user_id))},
            ReturnValues="ALL_OLD",
        )
        return bool(answer.get("Attributes"))

    def list_paired(self) -> list[PairedUser]:
        return sorted((_paired(item) for item in self._query(_PAIRED)), key=lambda u: u.paired_at)

    # -- connected channels (`channels add`) -------------------------------------------------

    def connect_channel(self, channel: str, identity: str) -> None:
        self._db.put_item(
            TableName=self._table,
            Item={
                "pk": ddb.s(_CHANNEL),
                "sk": ddb.s(channel),
                "identity": ddb.s(identity[:200]),
                "connected_at": ddb.n(self._clock()),
            },
        )

    def disconnect_channel(self, channel: str) -> None:
        self._db.delete_item(
            TableName=self._table, Key={"pk": ddb.s(_CHANNEL), "sk": ddb.s(channel)}
        )

    def list_channels(self) -> list[ConnectedChannel]:
        return [
            ConnectedChannel(
                channel=ddb.get_s(item, "sk") or "",
                identity=ddb.get_s(item, "identity") or "",
                connected_at=ddb.get_n(item, "connected_at") or 0.0,
            )
            for item in self._query(_CHANNEL)
        ]

    # -- the chat side ----------------------------------------------------------------------

    def get_user(self, user_id: str | int) -> PairedUser | None:
        answer = self._db.get_item(
            TableName=self._table,
            Key={"pk": ddb.s(_PAIRED), "sk": ddb.s(str(user_id))},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return _paired(item) if item else None

    def is_paired(self, user_id: str | int) -> bool:
        return self.get_user(user_id) is not None

    def request(
        self, user_id: str | int, name: str, chat_id: int, *, channel: str = TELEGRAM
    ) -> PendingRequest | None:
        """A stranger wrote to the bot: a new pending request with its code, or None when this
        user already got one within `REQUEST_PERIOD` (say nothing then)."""
        now = self._clock()
        expires = now + REQUEST_PERIOD
        user = str(user_id)
        code = _new_code()
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "pk": ddb.s(_REQUEST),
                    "sk": ddb.s(user),
                    "code": ddb.s(code),
                    "expires_at": ddb.n(int(expires)),
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": ddb.n(now)},
            )
        except ClientError as error:
            if ddb.is_condition_failure(error):
                return None
            raise
        request = PendingRequest(
            code=code,
            user_id=user,
            name=name[:NAME_CHARS] or user,
            chat_id=chat_id,
            requested_at=now,
            expires_at=expires,
            channel=channel,
        )
        self._db.put_item(
            TableName=self._table,
            Item={
                "pk": ddb.s(_PENDING),
                "sk": ddb.s(code),
                "user_id": ddb.s(user),
                "name": ddb.s(request.name),
                "chat_id": ddb.n(chat_id),
                "channel": ddb.s(channel),
                "requested_at": ddb.n(now),
                "expires_at": ddb.n(int(expires)),
            },
        )
        return request

    def redeem(
        self, code: str, user_id: str | int, name: str, chat_id: int, *, channel: str = TELEGRAM
    ) -> PairedUser | None:
        """`/pair CODE` from a chat: pair this user if the owner made that code (single use)."""
        normal = normalize_code(code)
        if normal is None or self._take(_CODE, normal) is None:
            return None
        return self._pair(str(user_id), name[:NAME_CHARS] or str(user_id), chat_id, channel)

    def new_session(self, user_id: str | int) -> str | None:
        """`/new`: a fresh session key for this paired user (None if they are not paired)."""
        user = self.get_user(user_id)
        if user is None:
            return None
        base = base_session(user.channel, user.user_id, user.chat_id)
        session = f"{base}-{int(self._clock() * 1000):x}"
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"pk": ddb.s(_PAIRED), "sk": ddb.s(user.user_id)},
                UpdateExpression="SET #session = :session",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#session": "session"},
                ExpressionAttributeValues={":session": ddb.s(session)},
            )
        except ClientError as error:
            if ddb.is_condition_failure(error):
                return None
            raise
        return session

    # -- internals --------------------------------------------------------------------------

    def _pair(self, user_id: str, name: str, chat_id: int, channel: str = TELEGRAM) -> PairedUser:
        user = PairedUser(
            user_id=user_id,
            name=name,
            chat_id=chat_id,
            paired_at=self._clock(),
            session=base_session(channel, user_id, chat_id),
            channel=channel,
        )
        self._db.put_item(
            TableName=self._table,
            Item={
                "pk": ddb.s(_PAIRED),
                "sk": ddb.s(user_id),
                "name": ddb.s(name),
                "chat_id": ddb.n(chat_id),
                "channel": ddb.s(channel),
                "paired_at": ddb.n(user.paired_at),
                "session": ddb.s(user.session),
            },
        )
        return user

    def _take(self, kind: str, code: str) -> dict[str, Any] | None:
        """Delete a live code item and return it; None if absent, used or expired."""
        try:
            answer = self._db.delete_item(
                TableName=self._table,
                Key={"pk": ddb.s(kind), "sk": ddb.s(code)},
                ConditionExpression="attribute_exists(pk) AND expires_at > :now",
                ExpressionAttributeValues={":now": ddb.n(self._clock())},
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if ddb.is_condition_failure(error):
                return None
            raise
        return answer.get("Attributes")

    def _query(self, kind: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": ddb.s(kind)},
            "ConsistentRead": True,
        }
        while True:
            answer = self._db.query(**query)
            items.extend(answer.get("Items", []))
            if not answer.get("LastEvaluatedKey"):
                return items
            query["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _pending(item: dict[str, Any]) -> PendingRequest:
    return PendingRequest(
        code=ddb.get_s(item, "sk") or "",
        user_id=ddb.get_s(item, "user_id") or "",
        name=ddb.get_s(item, "name") or "",
        chat_id=ddb.get_int(item, "chat_id"),
        requested_at=ddb.get_n(item, "requested_at") or 0.0,
        expires_at=ddb.get_n(item, "expires_at") or 0.0,
        channel=ddb.get_s(item, "channel") or TELEGRAM,
    )


def _paired(item: dict[str, Any]) -> PairedUser:
    chat_id = ddb.get_int(item, "chat_id")
    user_id = ddb.get_s(item, "sk") or ""
    channel = ddb.get_s(item, "channel") or TELEGRAM
    return PairedUser(
        user_id=user_id,
        name=ddb.get_s(item, "name") or "",
        chat_id=chat_id,
        paired_at=ddb.get_n(item, "paired_at") or 0.0,
        session=ddb.get_s(item, "session") or base_session(channel, user_id, chat_id),
        channel=channel,
    )
