"""Recovery drills against a running local target, shared by tests/e2e/test_local_recovery.py
and bench/recovery.py.

* kill: a reply is streaming on the web when the agent's container dies (SIGKILL to the bridge's
  whole process group, as an out-of-memory kill or a crash takes the container); the drill waits
  for the message's final reply and counts how often it was answered.
* freeze: the bridge is stopped (SIGSTOP: alive, silent, holding its messages); a message is
  sent to it; the drill waits for a new task to run and for the answer.

The bridge is found through /proc: the local Fargate runs it with the task's ARN in its
environment (the process mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import boto3

from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.lifecycle import RUNNING, AgentStatus, Lifecycle
from tests.e2e.local import EMAIL, PASSWORD, Local

SLOW_REPLY = " ".join(f"part{i}" for i in range(60))
SLOW = json.dumps({"reply": SLOW_REPLY, "delay_ms": 250})
"""An offline-model directive: 60 words, a quarter second apart (a reply of ~15 s)."""


def client(local: Local, service: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=local.state()["moto_url"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def lifecycle(local: Local) -> Lifecycle:
    table = local.state()["environment"][resources.TASK_STATE.env_var]
    return Lifecycle(client(local, "dynamodb"), table)


def queue_url(local: Local) -> str:
    return str(local.state()["environment"][resources.INBOUND.env_var])


def bridge_pid(task_arn: str) -> int | None:
    """The bridge process of the local task `task_arn`, if it runs."""
    wanted = f"OPENCLAW_TASK_ARN={task_arn}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            environment = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"openclaw_bridge" in command and wanted in environment.split(b"\0"):
            return int(entry.name)
    return None


def wait_running(local: Local, timeout: float, *, other_than: str | None = None) -> AgentStatus:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = lifecycle(local).get()
        if status.state == RUNNING and status.task_arn not in (None, other_than):
            return status
        time.sleep(0.5)
    raise AssertionError(f"no task running within {timeout:.0f} s: {lifecycle(local).get()}")


async def token(http: aiohttp.ClientSession, api_url: str) -> str:
    config = await (await http.get(f"{api_url}/config.json")).json()
    answer = await http.post(
        config["cognito"]["endpoint"],
        data=json.dumps(
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": config["cognito"]["clientId"],
                "AuthParameters": {"USERNAME": EMAIL, "PASSWORD": PASSWORD},
            }
        ),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
    )
    body = await answer.json(content_type=None)
    return str(body["AuthenticationResult"]["IdToken"])


@dataclass
class Conversation:
    """One web connection, as the web app holds it; frames are kept with their arrival time."""

    local: Local
    frames: list[dict[str, Any]] = field(default_factory=list)
    _http: aiohttp.ClientSession | None = None
    _socket: aiohttp.ClientWebSocketResponse | None = None

    async def open(self) -> None:
        self._http = aiohttp.ClientSession()
        bearer = await token(self._http, self.local.api_url)
        ticket = await (
            await self._http.post(
                f"{self.local.api_url}/api/ws-ticket", headers={"Authorization": f"Bearer {bearer}"}
            )
        ).json()
        self._socket = await self._http.ws_connect(f"{self.local.ws_url}?ticket={ticket['ticket']}")

    async def close(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._http is not None:
            await self._http.close()

    async def send(self, session: str, message_id: str, text: str) -> None:
        assert self._socket is not None
        frame = {"type": "chat.send", "id": message_id, "session": session, "text": text}
        await self._socket.send_str(json.dumps(frame))

    async def until(self, kind: str, message_id: str, timeout: float) -> dict[str, Any]:
        """The first frame of `kind` for `message_id` (already received, or within `timeout`)."""
        assert self._socket is not None
        deadline = time.monotonic() + timeout
        while True:
            for frame in self.frames:
                if frame["type"] == kind and frame.get("id") == message_id:
                    return frame
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind} for {message_id} within {timeout:.0f} s")
            with contextlib.suppress(TimeoutError):
                message = await self._socket.receive(timeout=min(left, 5))
                if message.type != aiohttp.WSMsgType.TEXT:
                    raise AssertionError(f"the socket closed: {message}")
                frame = json.loads(message.data)
                frame["_at"] = time.monotonic()
                self.frames.append(frame)

    async def drain(self, seconds: float) -> None:
        """Keep receiving for `seconds` (a second answer would arrive now)."""
        with contextlib.suppress(AssertionError):
            await self.until("never", "-", seconds)

    def count(self, kind: str, message_id: str) -> int:
        return sum(1 for f in self.frames if f["type"] == kind and f.get("id") == message_id)


@dataclass(frozen=True)
class KillResult:
    kill_to_answer: float
    finals: int
    replies_in_history: int
    text: str


@dataclass(frozen=True)
class FreezeResult:
    freeze_to_replaced: float
    freeze_to_answer: float
    finals: int
    text: str


async def _replies_in_history(local: Local, session: str) -> int:
    async with aiohttp.ClientSession() as http:
        bearer = await token(http, local.api_url)
        answer = await http.get(
            f"{local.api_url}/api/conversations/{session}/messages",
            headers={"Authorization": f"Bearer {bearer}"},
        )
        messages = (await answer.json())["messages"]
        return sum(1 for m in messages if m["role"] == "assistant")


async def kill_drill(local: Local, tag: str, *, timeout: float = 600) -> KillResult:
    """SIGKILL the agent's container while its reply streams; time until the final reply."""
    chat = Conversation(local)
    await chat.open()
    try:
        session, message_id = f"kill-{tag}", f"kill-{tag}"
        await chat.send(session, message_id, f"answer slowly <<offline:{SLOW}>>")
        await chat.until("chat.delta", message_id, timeout=240)
        status = lifecycle(local).get()
        assert status.task_arn is not None
        pid = bridge_pid(status.task_arn)
        assert pid is not None, "the bridge process was not found"
        killed_at = time.monotonic()
        os.killpg(os.getpgid(pid), signal.SIGKILL)
        final = await chat.until("chat.final", message_id, timeout=timeout)
        answered = final["_at"] - killed_at
        await chat.drain(5)
        return KillResult(
            kill_to_answer=answered,
            finals=chat.count("chat.final", message_id),
            replies_in_history=await _replies_in_history(local, session),
            text=str(final["text"]),
        )
    finally:
        await chat.close()


async def freeze_drill(local: Local, tag: str, *, timeout: float = 900) -> FreezeResult:
    """SIGSTOP the bridge, send it a message; time until a new task runs and until the answer.
    The frozen task's process group is killed afterwards (it would sit out its stop timeout)."""
    frozen = wait_running(local, 240)
    assert frozen.task_arn is not None
    pid = bridge_pid(frozen.task_arn)
    assert pid is not None, "the bridge process was not found"
    group = os.getpgid(pid)
    chat = Conversation(local)
    await chat.open()
    try:
        os.kill(pid, signal.SIGSTOP)
        frozen_at = time.monotonic()
        message_id = f"freeze-{tag}"
        await chat.send(f"freeze-{tag}", message_id, "are you there?")
        await chat.until("ack", message_id, timeout=30)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            None, lambda: wait_running(local, timeout, other_than=frozen.task_arn)
        )
        replaced = time.monotonic() - frozen_at
        final = await chat.until("chat.final", message_id, timeout=timeout)
        answered = final["_at"] - frozen_at
        await chat.drain(3)
        return FreezeResult(
            freeze_to_replaced=replaced,
            freeze_to_answer=answered,
            finals=chat.count("chat.final", message_id),
            text=str(final["text"]),
        )
    finally:
        await chat.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
