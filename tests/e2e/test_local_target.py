"""End to end through the local target: the real CLI, handlers, bridge, OpenClaw and offline model.

`init --target local` starts the local cloud in the background exactly as a user would; the test
then talks to it the way the web app does (Cognito sign-in, a one-time ticket, the WebSocket) and
checks that the reply streams in from a real OpenClaw, that history is kept, and that the agent's
memory and the history survive stopping and starting the local cloud again.
"""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
import time
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from tests.e2e.drills import token as id_token
from tests.e2e.local import PASSWORD, Local, cli, start, stop

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    workdir = tmp_path_factory.mktemp("local-target")
    deployment = start(workdir)
    try:
        yield deployment
    finally:
        stop(deployment)


async def _chat(local: Local, session_key: str, message_id: str, text: str) -> list[dict[str, Any]]:
    """Send one message as the web app does; return every frame until the reply is final."""
    frames: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as http:
        token = await id_token(http, local.api_url)
        ticket = await (
            await http.post(
                f"{local.api_url}/api/ws-ticket", headers={"Authorization": f"Bearer {token}"}
            )
        ).json()
        async with http.ws_connect(f"{local.ws_url}?ticket={ticket['ticket']}") as socket:
            await socket.send_str(
                json.dumps(
                    {"type": "chat.send", "id": message_id, "session": session_key, "text": text}
                )
            )
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                message = await socket.receive(timeout=deadline - time.monotonic())
                frame = json.loads(message.data)
                frame["_at"] = time.monotonic()
                frames.append(frame)
                if frame["type"] in ("chat.final", "error"):
                    break
    return frames


async def _get(local: Local, path: str) -> Any:
    async with aiohttp.ClientSession() as http:
        token = await id_token(http, local.api_url)
        answer = await http.get(
            f"{local.api_url}{path}", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status == 200, await answer.text()
        return await answer.json()


def test_web_chat_wakes_the_agent_and_streams_the_reply(local: Local) -> None:
    frames = asyncio.run(_chat(local, "web-1", "m-1", "hello from the test"))
    kinds = [f["type"] for f in frames]
    assert kinds[0] == "ack"
    phases = [f.get("phase") for f in frames if f["type"] == "agent.status"]
    assert "starting" in phases
    assert "loading" in phases  # the wake-up progress reaches the browser as it happens
    deltas = [f for f in frames if f["type"] == "chat.delta"]
    assert len(deltas) > 1, kinds  # streamed, not one block
    final = frames[-1]
    assert final["type"] == "chat.final", frames[-3:]
    assert "You said: hello from the test" in final["text"]
    assert "".join(d["text"] for d in deltas) == final["text"]

    history = asyncio.run(_get(local, "/api/conversations/web-1/messages"))
    roles = [(m["role"], m["text"][:19]) for m in history["messages"]]
    assert roles == [("user", "hello from the test"), ("assistant", final["text"][:19])]


def test_status_reports_the_running_agent_and_urls(local: Local) -> None:
    result = cli(local.workdir, "status", "--target", "local", "--json", timeout=60)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["target"] == "local"
    assert report["running"] is True
    assert report["urls"]["websocket"] == local.ws_url
    assert report["urls"]["telegram_webhook"].endswith("/telegram")
    assert report["agent"]["state"] == "Running"
    assert report["agent"]["timings"]["openclaw"] > 0


def test_memory_and_history_survive_a_restart(local: Local) -> None:
    directive = json.dumps(
        {
            "tool": {
                "name": "write",
                "arguments": {"path": "notes/remember.md", "content": "blue whale"},
            },
            "reply": "noted",
        }
    )
    frames = asyncio.run(_chat(local, "web-2", "m-2", f"remember this <<offline:{directive}>>"))
    assert frames[-1]["type"] == "chat.final"

    stop(local)  # the agent backs up on SIGTERM, then the local cloud saves the user data
    archive = local.home / "data" / "buckets" / "state" / "agent" / "openclaw-state.tar.gz"
    assert archive.is_file()
    with tarfile.open(fileobj=io.BytesIO(archive.read_bytes())) as tar:
        names = tar.getnames()
        member = next(n for n in names if n.endswith("notes/remember.md"))
        extracted = tar.extractfile(member)
        assert extracted is not None
        assert extracted.read() == b"blue whale"

    again = start(local.workdir)
    local.api_url, local.ws_url = again.api_url, again.ws_url
    sessions = {
        c["session"] for c in asyncio.run(_get(local, "/api/conversations"))["conversations"]
    }
    assert {"web-1", "web-2"} <= sessions
    frames = asyncio.run(_chat(local, "web-2", "m-3", "are you back?"))
    assert frames[-1]["type"] == "chat.final"
    assert "You said: are you back?" in frames[-1]["text"]


def test_deploy_restarts_the_local_cloud_and_keeps_history(local: Local) -> None:
    """`deploy` on a local deployment runs the current code again; data and secrets stay."""
    result = cli(local.workdir, "deploy", "--owner-password", PASSWORD, "--json")
    assert result.returncode == 0, result.stderr
    access = json.loads(result.stdout)
    assert access["owner_password"] == PASSWORD
    local.api_url, local.ws_url = access["api_url"], access["ws_url"]
    sessions = {
        c["session"] for c in asyncio.run(_get(local, "/api/conversations"))["conversations"]
    }
    assert "web-1" in sessions
