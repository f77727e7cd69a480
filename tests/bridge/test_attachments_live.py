"""Files in and out of the agent, through the bridge process and a real pinned OpenClaw: the
offline model reports what the turn carried (image parts, the lines naming files), and writes a
file with OpenClaw's own `write` tool that the reply attaches with a `MEDIA:` line.

One bridge (one OpenClaw) serves every test in this module.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from openclaw_deploy.offline_model import OfflineModel
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.contract import Attachment, QueueMessage, ReplyTarget
from openclaw_deploy.runtime.history import History
from tests.bridge.harness import (
    BridgeProcess,
    ConnectionsEndpoint,
    Deployment,
    provision,
    running_bridge,
    wait_for,
)
from tests.fakes.telegram_api import FakeTelegram

pytestmark = pytest.mark.slow

TURN_TIMEOUT = 90
CHAT = 5151
# A real 1x1 PNG: OpenClaw decodes images before it hands them to the model.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005fe02fea35d2ea60000000049454e44ae426082"
)
REPORT = '<<offline:{"report_input": true}>>'


@dataclass
class Served:
    deployment: Deployment
    bridge: BridgeProcess
    home: Path


@pytest.fixture(scope="module")
def served(
    bridge_moto: str,
    openclaw_command: list[str],
    model: OfflineModel,
    connections: ConnectionsEndpoint,
    telegram: FakeTelegram,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    deployment = provision(bridge_moto)
    home = tmp_path_factory.mktemp("agent-home")
    with running_bridge(
        deployment,
        home,
        openclaw=openclaw_command,
        model_url=model.base_url,
        connections_url=connections.url,
        telegram_url=telegram.url,
        telegram_token=telegram.token,
    ) as (bridge, _):
        yield Served(deployment=deployment, bridge=bridge, home=home)


def upload(served: Served, session: str, name: str, data: bytes, content_type: str) -> Attachment:
    key = f"uploads/owner/{session}/{uuid.uuid4().hex[:16]}/{name}"
    served.deployment.client("s3").put_object(
        Bucket=served.deployment.bucket, Key=key, Body=data, ContentType=content_type
    )
    return Attachment(key=key, name=name, content_type=content_type, size=len(data))


def send(
    served: Served,
    text: str,
    attachments: tuple[Attachment, ...],
    *,
    session: str,
    chat_id: int | None = None,
) -> QueueMessage:
    msg = QueueMessage(
        channel="telegram" if chat_id is not None else "web",
        session=session,
        message_id=f"m-{uuid.uuid4().hex[:12]}",
        text=text,
        received_at=time.time(),
        reply=ReplyTarget(chat_id=chat_id),
        attachments=attachments,
    )
    return served.deployment.put(msg)


def final_of(connections: ConnectionsEndpoint, msg: QueueMessage) -> dict[str, Any]:
    frames = wait_for(
        lambda: connections.frames("conn-live", kind="chat.final", message_id=msg.message_id),
        TURN_TIMEOUT,
        what=f"the reply to {msg.message_id}",
    )
    return dict(frames[0])


def test_an_uploaded_image_reaches_the_model_as_an_image_part(
    served: Served, connections: ConnectionsEndpoint
) -> None:
    image = upload(served, "web-img", "cat.png", PNG, "image/png")
    msg = send(served, "what is this? " + REPORT, (image,), session="web-img")
    text = final_of(connections, msg)["text"]
    assert text.startswith("images: 1 [image/png"), text
    assert "what is this?" in text
    assert "cat.png" in text


def test_a_document_is_saved_in_the_workspace_and_named_to_the_agent(
    served: Served, connections: ConnectionsEndpoint
) -> None:
    pdf = b"%PDF-1.4\n% a test document\n"
    document = upload(served, "web-doc", "report.pdf", pdf, "application/pdf")
    msg = send(served, REPORT, (document,), session="web-doc")
    text = final_of(connections, msg)["text"]
    assert text.startswith("images: 0 []"), text
    relative = f"attachments/{msg.message_id}/report.pdf"
    assert "report.pdf (application/pdf" in text
    assert relative in text
    saved = served.home / "state" / "workspace" / relative
    assert saved.read_bytes() == pdf


def test_an_upload_stored_with_another_type_is_refused_and_removed(
    served: Served, connections: ConnectionsEndpoint
) -> None:
    # What the presigned policy prevents on AWS; the bridge checks the object as stored anyway.
    # Declared as a PDF, stored as a web page.
    stored = upload(served, "web-bad", "page.pdf", b"<script>x</script>", "text/html")
    hostile = Attachment(
        key=stored.key, name="page.pdf", content_type="application/pdf", size=stored.size
    )
    msg = send(served, "read this " + REPORT, (hostile,), session="web-bad")
    text = final_of(connections, msg)["text"]
    assert "(I could not take page.pdf: files of type text/html are not accepted.)" in text
    assert "page.pdf (" not in text.split("text:", 1)[1]
    s3 = served.deployment.client("s3")
    listed = s3.list_objects_v2(Bucket=served.deployment.bucket, Prefix=hostile.key or "")
    assert listed.get("KeyCount") == 0


def test_a_telegram_photo_is_fetched_with_the_bot_token(
    served: Served, telegram: FakeTelegram
) -> None:
    largest = telegram.photo_sizes(PNG)[-1]
    photo = Attachment(
        file_id=largest["file_id"],
        name="photo.jpg",
        content_type="image/png",
        size=largest["file_size"],
        kind="image",
    )
    msg = send(served, "a caption " + REPORT, (photo,), session="tg-photo", chat_id=CHAT)
    history = History(
        served.deployment.client("dynamodb"), served.deployment.table(resources.CONVERSATIONS)
    )
    [reply] = wait_for(
        lambda: [m for m in history.page("tg-photo").messages if m.role == "assistant"],
        TURN_TIMEOUT,
        what="the Telegram reply",
    )
    assert reply.text.startswith("images: 1 [image/png"), reply.text
    assert "a caption" in reply.text
    assert [c.params["file_id"] for c in telegram.calls_to("getFile")][-1] == largest["file_id"]
    assert msg.message_id


def test_a_file_the_agent_writes_reaches_the_web_and_telegram(
    served: Served, connections: ConnectionsEndpoint, telegram: FakeTelegram
) -> None:
    directive = {
        "tool": {
            "name": "write",
            "arguments": {"path": "notes.txt", "content": "made by the agent"},
        },
        "reply": "Here is the file.\n\nMEDIA:notes.txt",
    }
    prompt = f"write a file <<offline:{json.dumps(directive)}>>"
    msg = send(served, prompt, (), session="web-out")
    final = final_of(connections, msg)
    assert final["text"] == "Here is the file."
    [attachment] = final["attachments"]
    assert (attachment["name"], attachment["contentType"]) == ("notes.txt", "text/plain")
    assert httpx.get(attachment["url"], timeout=10).content == b"made by the agent"

    history = History(
        served.deployment.client("dynamodb"), served.deployment.table(resources.CONVERSATIONS)
    )
    [reply] = [m for m in history.page("web-out").messages if m.role == "assistant"]
    assert reply.attachments[0]["key"].startswith("outbound/web-out/")

    sent = send(served, prompt, (), session="tg-out", chat_id=CHAT)
    files = wait_for(
        lambda: [f for f in telegram.sent_files if f["chat_id"] == CHAT],
        TURN_TIMEOUT,
        what="the file in Telegram",
    )
    assert (files[-1]["method"], files[-1]["name"], files[-1]["data"]) == (
        "document",
        "notes.txt",
        b"made by the agent",
    )
    assert sent.message_id
