"""Pictures and files end to end through the local target (IAM enforced), with a stand-in Bot API.

The web chat's way: `POST /api/uploads`, the file posted straight to the (local) state bucket
with the presigned form, then `chat.send` naming it; the real OpenClaw's offline model reports
what the turn carried (image parts, the lines naming files). A hostile upload is refused and
stores nothing. A file the agent writes comes back as a `chat.final` attachment and, asked from
Telegram, as a Telegram document. A Telegram photo reaches the model as an image.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import httpx
import pytest

from tests.e2e.drills import token as id_token
from tests.e2e.local import Local, cli, running_with_telegram, webhook_secret
from tests.fakes.telegram_api import FakeTelegram, fake_telegram, html_to_text

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

USER = 778001
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005fe02fea35d2ea60000000049454e44ae426082"
)
REPORT = '<<offline:{"report_input": true}>>'


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegram]:
    with fake_telegram() as api:
        yield api


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory, telegram: FakeTelegram) -> Iterator[Local]:
    workdir: Path = tmp_path_factory.mktemp("local-media")
    with running_with_telegram(workdir, telegram) as (deployment, _):
        yield deployment


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


async def _api(local: Local, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        token = await id_token(http, local.api_url)
        answer = await http.request(
            method,
            f"{local.api_url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        return answer.status, await answer.json(content_type=None)


async def _chat(local: Local, frame: dict[str, Any]) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http:
        token = await id_token(http, local.api_url)
        ticket = await (
            await http.post(
                f"{local.api_url}/api/ws-ticket", headers={"Authorization": f"Bearer {token}"}
            )
        ).json()
        async with http.ws_connect(f"{local.ws_url}?ticket={ticket['ticket']}") as socket:
            await socket.send_str(json.dumps(frame))
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                message = await socket.receive(timeout=deadline - time.monotonic())
                found = json.loads(message.data)
                frames.append(found)
                if found["type"] in ("chat.final", "error") and found.get("id") == frame["id"]:
                    break
    return frames


def _uploaded(local: Local, session: str, name: str, data: bytes, content_type: str) -> Any:
    status, answer = asyncio.run(
        _api(
            local,
            "POST",
            "/api/uploads",
            {"session": session, "name": name, "contentType": content_type, "size": len(data)},
        )
    )
    assert status == 201, answer
    form = answer["upload"]
    posted = httpx.post(
        form["url"], data=form["fields"], files={"file": (name, data, content_type)}, timeout=30
    )
    assert posted.status_code in (200, 201, 204), posted.text
    return answer["attachment"]


def _bucket_keys(local: Local, prefix: str) -> list[str]:
    s3 = boto3.client(
        "s3",
        endpoint_url=local.state()["moto_url"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    found: list[str] = []
    for bucket in s3.list_buckets()["Buckets"]:
        if "-state-" in bucket["Name"]:
            listed = s3.list_objects_v2(Bucket=bucket["Name"], Prefix=prefix)
            found += [item["Key"] for item in listed.get("Contents", [])]
    return found


def test_an_image_uploaded_in_the_web_chat_reaches_the_model(local: Local) -> None:
    attachment = _uploaded(local, "web-media", "cat.png", PNG, "image/png")
    frames = asyncio.run(
        _chat(
            local,
            {
                "type": "chat.send",
                "id": "m-img",
                "session": "web-media",
                "text": f"what is in the picture? {REPORT}",
                "attachments": [attachment],
            },
        )
    )
    final = frames[-1]
    assert final["type"] == "chat.final", frames[-3:]
    assert final["text"].startswith("images: 1 [image/png"), final["text"]
    assert "cat.png" in final["text"]

    status, page = asyncio.run(_api(local, "GET", "/api/conversations/web-media/messages"))
    assert status == 200
    [sent] = [m for m in page["messages"] if m["role"] == "user"]
    [shown] = sent["attachments"]
    assert shown["name"] == "cat.png"
    assert httpx.get(shown["url"], timeout=30).content == PNG


def test_hostile_uploads_are_refused_and_store_nothing(local: Local) -> None:
    for body, field in (
        ({"name": "run.exe", "contentType": "application/x-msdownload", "size": 10}, "contentType"),
        ({"name": "big.pdf", "contentType": "application/pdf", "size": 21 * 1024 * 1024}, "size"),
        (
            {"name": "../../agent/openclaw-state.tar.gz", "contentType": "text/plain", "size": 5},
            "name",
        ),
    ):
        status, answer = asyncio.run(
            _api(local, "POST", "/api/uploads", {"session": "web-hostile", **body})
        )
        assert status == 400, answer
        assert answer["error"]["field"] == field
    # A form that breaks its policy (a bigger file, another type) is refused by the bucket.
    status, answer = asyncio.run(
        _api(
            local,
            "POST",
            "/api/uploads",
            {"session": "web-hostile", "name": "a.txt", "contentType": "text/plain", "size": 10},
        )
    )
    assert status == 201, answer
    form = answer["upload"]
    for data, content_type in ((b"x" * 11, "text/plain"), (b"x" * 10, "text/html")):
        fields = {**form["fields"], "Content-Type": content_type}
        posted = httpx.post(
            form["url"], data=fields, files={"file": ("a.txt", data, content_type)}, timeout=30
        )
        assert posted.status_code in (400, 403), posted.text
    assert not [k for k in _bucket_keys(local, "") if "web-hostile" in k]


def test_a_file_the_agent_writes_comes_back_as_an_attachment(local: Local) -> None:
    directive = {
        "tool": {"name": "write", "arguments": {"path": "report.md", "content": "# Done\n"}},
        "reply": "Your report is ready.\n\nMEDIA:report.md",
    }
    frames = asyncio.run(
        _chat(
            local,
            {
                "type": "chat.send",
                "id": "m-out",
                "session": "web-out",
                "text": f"write the report <<offline:{json.dumps(directive)}>>",
            },
        )
    )
    final = frames[-1]
    assert final["type"] == "chat.final", frames[-3:]
    assert final["text"] == "Your report is ready."
    [attachment] = final["attachments"]
    assert attachment["name"] == "report.md"
    assert httpx.get(attachment["url"], timeout=30).content == b"# Done\n"

    _, page = asyncio.run(_api(local, "GET", "/api/conversations/web-out/messages"))
    [reply] = [m for m in page["messages"] if m["role"] == "assistant"]
    [again] = reply["attachments"]
    assert httpx.get(again["url"], timeout=30).content == b"# Done\n"


def _pair(local: Local, telegram: FakeTelegram) -> None:
    webhook, secret = f"{local.api_url}/telegram", webhook_secret(local)
    telegram.deliver(webhook, telegram.text_update("hello", user_id=USER), secret)
    code = wait_for(
        lambda: next(
            (
                m.group(0)
                for t in telegram.sent_texts(USER)
                if (m := re.search(r"\b[A-Z2-9]{8}\b", t))
            ),
            None,
        ),
        30,
        "a pairing code",
    )
    approved = cli(local.workdir, "pair", "approve", code, "--json", timeout=60)
    assert approved.returncode == 0, approved.stderr


def _said(telegram: FakeTelegram) -> list[str]:
    calls = [c for c in telegram.calls if c.method in ("sendMessage", "editMessageText")]
    return [
        html_to_text(str(c.params.get("text", "")))
        for c in calls
        if int(c.params.get("chat_id", 0)) == USER and c.ok
    ]


def test_telegram_photo_and_the_agents_file(local: Local, telegram: FakeTelegram) -> None:
    _pair(local, telegram)
    webhook, secret = f"{local.api_url}/telegram", webhook_secret(local)
    update = telegram.message_update(
        user_id=USER, photo=telegram.photo_sizes(PNG), caption=f"look at this {REPORT}"
    )
    assert telegram.deliver(webhook, update, secret)[0] == 200
    wait_for(
        lambda: any(
            t.startswith("images: 1 [image/png") and "look at this" in t for t in _said(telegram)
        ),
        240,
        "the agent's report of the photo",
    )

    directive = {
        "tool": {"name": "write", "arguments": {"path": "list.txt", "content": "eggs, milk"}},
        "reply": "Here is the list.\n\nMEDIA:list.txt",
    }
    ask = telegram.text_update(
        f"send me the list <<offline:{json.dumps(directive)}>>", user_id=USER
    )
    assert telegram.deliver(webhook, ask, secret)[0] == 200
    sent = wait_for(
        lambda: [f for f in telegram.sent_files if f["chat_id"] == USER],
        240,
        "the agent's file in Telegram",
    )
    assert (sent[0]["method"], sent[0]["name"], sent[0]["data"]) == (
        "document",
        "list.txt",
        b"eggs, milk",
    )
