"""Attachments on the server side: `POST /api/uploads` presigns a POST to the state bucket under
the owner's and conversation's prefix, refuses hostile requests with nothing stored, and
`chat.send` carries only the owner's own uploads of that conversation into the queue."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from openclaw_deploy.handlers import api, ws
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.contract import MAX_UPLOAD_BYTES, QueueMessage
from openclaw_deploy.runtime.history import History
from tests.conftest import ACCOUNT, REGION
from tests.handlers.conftest import DEPLOYMENT, Stack
from tests.handlers.events import OWNER_SUB, body, http_event, ws_event

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 56


@pytest.fixture
def bucket(stack: Stack) -> str:
    name = resources.STATE_BUCKET.physical_name(DEPLOYMENT, ACCOUNT, REGION)
    stack.client("s3").create_bucket(Bucket=name)
    return name


def stored(stack: Stack, bucket: str) -> list[str]:
    answer = stack.client("s3").list_objects_v2(Bucket=bucket)
    return [item["Key"] for item in answer.get("Contents", [])]


def ask(**fields: Any) -> dict[str, Any]:
    request = {"session": "web-1", "name": "cat.png", "contentType": "image/png", "size": len(PNG)}
    request.update(fields)
    return api.handler(http_event("POST", "/api/uploads", body=request))


def post_file(answer: dict[str, Any], data: bytes, content_type: str = "image/png") -> int:
    upload = body(answer)["upload"]
    response = httpx.post(
        upload["url"],
        data=upload["fields"],
        files={"file": ("cat.png", data, content_type)},
        timeout=10,
    )
    return response.status_code


def test_an_upload_is_presigned_under_the_owners_conversation_and_lands_there(
    stack: Stack, bucket: str
) -> None:
    answer = ask()
    assert answer["statusCode"] == 201
    found = body(answer)
    attachment = found["attachment"]
    assert attachment["key"].startswith(f"uploads/{OWNER_SUB}/web-1/")
    assert attachment["key"].endswith("/cat.png")
    assert (attachment["name"], attachment["contentType"], attachment["size"]) == (
        "cat.png",
        "image/png",
        len(PNG),
    )
    policy = json.loads(base64.b64decode(found["upload"]["fields"]["policy"]).decode())
    conditions = policy["conditions"]
    assert ["content-length-range", len(PNG), len(PNG)] in conditions
    assert {"Content-Type": "image/png"} in conditions
    assert found["upload"]["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"
    assert found["expiresAt"] > 0

    assert post_file(answer, PNG) in (200, 201, 204)
    assert stored(stack, bucket) == [attachment["key"]]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"contentType": "application/x-msdownload"}, "contentType"),
        ({"contentType": "text/html"}, "contentType"),
        ({"size": MAX_UPLOAD_BYTES + 1}, "size"),
        ({"size": 0}, "size"),
        ({"size": "12"}, "size"),
        ({"name": "../../state/openclaw.json"}, "name"),
        ({"name": "..\\evil.png"}, "name"),
        ({"name": "a/b.png"}, "name"),
        ({"name": ".."}, "name"),
        ({"name": "x" * 200 + ".png"}, "name"),
        ({"name": "bell\x07.png"}, "name"),
        ({"session": "../other"}, "session"),
    ],
)
def test_hostile_upload_requests_are_refused_and_store_nothing(
    stack: Stack, bucket: str, fields: dict[str, Any], field: str
) -> None:
    answer = ask(**fields)
    assert answer["statusCode"] == 400
    assert body(answer)["error"]["field"] == field
    assert "upload" not in body(answer)
    assert stored(stack, bucket) == []


def connect(connection: str) -> None:
    ticket = body(api.handler(http_event("POST", "/api/ws-ticket")))["ticket"]
    assert (
        ws.handler(ws_event("$connect", connection, query={"ticket": ticket}))["statusCode"] == 200
    )


def test_chat_send_carries_the_owners_upload_to_the_queue_and_history(
    stack: Stack, bucket: str
) -> None:
    connect("c1")
    attachment = body(ask())["attachment"]
    frame = {
        "type": "chat.send",
        "id": "m1",
        "session": "web-1",
        "text": "what is in this picture?",
        "attachments": [attachment],
    }
    assert ws.handler(ws_event("$default", "c1", body=frame))["statusCode"] == 200
    assert stack.frames["c1"][0] == {"type": "ack", "id": "m1"}
    [queued] = stack.drain()
    assert isinstance(queued, QueueMessage)
    [carried] = queued.attachments
    assert (carried.key, carried.name, carried.content_type, carried.size, carried.kind) == (
        attachment["key"],
        "cat.png",
        "image/png",
        len(PNG),
        "image",
    )
    history = History(aws.dynamodb(), resources.CONVERSATIONS.physical_name(DEPLOYMENT))
    [message] = history.page("web-1").messages
    assert message.attachments[0]["key"] == attachment["key"]

    # The messages API hands out a fresh URL in place of the key.
    answer = api.handler(http_event("GET", "/api/conversations/web-1/messages"))
    [listed] = body(answer)["messages"]
    [shown] = listed["attachments"]
    assert "key" not in shown
    assert shown["name"] == "cat.png"
    assert "X-Amz-Signature=" in shown["url"]


def test_an_image_only_message_needs_no_text(stack: Stack, bucket: str) -> None:
    connect("c1")
    attachment = body(ask())["attachment"]
    frame = {"type": "chat.send", "id": "m2", "session": "web-1", "attachments": [attachment]}
    assert ws.handler(ws_event("$default", "c1", body=frame))["statusCode"] == 200
    [queued] = stack.drain()
    assert queued.text == ""
    assert len(queued.attachments) == 1


@pytest.mark.parametrize(
    "key",
    [
        # Another conversation's upload, another owner's, a folder climb, a made-up key.
        "uploads/{owner}/web-2/0123456789abcdef/cat.png",
        "uploads/someone-else/web-1/0123456789abcdef/cat.png",
        "uploads/{owner}/web-1/0123456789abcdef/../../web-2/x/cat.png",
        "uploads/{owner}/web-1/cat.png",
        "state/openclaw-backup.tar.gz",
    ],
)
def test_chat_send_refuses_a_key_outside_the_owners_conversation(
    stack: Stack, bucket: str, key: str
) -> None:
    connect("c1")
    attachment = {
        "key": key.format(owner=OWNER_SUB),
        "name": "cat.png",
        "contentType": "image/png",
        "size": 10,
    }
    frame = {
        "type": "chat.send",
        "id": "m3",
        "session": "web-1",
        "text": "look",
        "attachments": [attachment],
    }
    assert ws.handler(ws_event("$default", "c1", body=frame))["statusCode"] == 400
    [error] = stack.frames["c1"]
    assert (error["type"], error["code"], error["id"]) == ("error", "bad_request", "m3")
    assert stack.drain() == []
