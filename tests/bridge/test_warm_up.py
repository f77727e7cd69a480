"""The warm-up turn (openclaw_bridge.warmup) with the real bridge and the pinned OpenClaw.

An agent woken without a message (the web chat's wake on typing, the warm window, Start) takes
OpenClaw's costly first turn itself, on the offline demo model: the owner's model never sees
it, its session is deleted, and the owner's own first message is then answered by a warm
OpenClaw. An agent woken by a message does not warm up: that message's turn is the first.
"""

from __future__ import annotations

import json
import signal
import uuid
from pathlib import Path

import pytest

from openclaw_bridge import warmup
from openclaw_deploy.offline_model import OfflineModel
from tests.bridge.harness import (
    BridgeProcess,
    ConnectionsEndpoint,
    bridge_env,
    provision,
    wait_for,
)

pytestmark = pytest.mark.slow

START_TIMEOUT = 150
TURN_TIMEOUT = 90


def test_a_start_without_a_message_warms_openclaw_on_the_offline_model_only(
    bridge_moto: str,
    openclaw_command: list[str],
    connections: ConnectionsEndpoint,
    tmp_path: Path,
) -> None:
    deployment = provision(bridge_moto)
    deployment.connections.add("conn-warm", user="owner")
    canary = f"sk-canary-{uuid.uuid4().hex}"
    home = tmp_path / "agent"
    bridges: list[BridgeProcess] = []

    def start(run: int) -> BridgeProcess:
        arn = f"arn:aws:ecs:us-east-1:123456789012:task/agent/{uuid.uuid4().hex}"
        deployment.begin_start(arn)
        # The owner's model is DeepSeek (OpenAI-compatible), here a recording stand-in.
        env = bridge_env(
            deployment,
            home=home,
            openclaw=openclaw_command,
            task_arn=arn,
            provider="deepseek",
            model="deepseek-v4-flash",
            llm_key=canary,
            model_url=owners_model.base_url,
            connections_url=connections.url,
        )
        bridge = BridgeProcess(env, tmp_path / f"bridge-{run}.log").start()
        bridges.append(bridge)
        return bridge

    with OfflineModel.start() as owners_model:
        try:
            bridge = start(1)
            bridge.wait_running(START_TIMEOUT)
            bridge.wait_logged("warmed OpenClaw's first turn in", TURN_TIMEOUT)
            assert "offline/" in bridge.output.split("warmed OpenClaw's first turn in", 1)[1]
            assert owners_model.requests == [], "the warm-up never reaches the owner's model"

            msg = deployment.send('hello <<offline:{"reply": "warm hello"}>>', session="web-w")
            wait_for(
                lambda: connections.frames(kind="chat.final", message_id=msg.message_id),
                TURN_TIMEOUT,
                what="the reply after the warm-up",
            )
            asked = [json.dumps(request.body) for request in owners_model.requests]
            assert asked, "the owner's message reached the owner's model"
            assert all(warmup.TEXT not in body for body in asked)
            assert all(
                request.headers["authorization"] == f"Bearer {canary}"
                for request in owners_model.requests
            )
            bridge.signal(signal.SIGTERM)
            assert bridge.wait(timeout=120) == 0
            assert "the warm-up turn failed" not in bridge.output

            # Woken by a message: that message's turn is OpenClaw's first; no warm-up.
            waiting = deployment.send('again <<offline:{"reply": "cold"}>>', session="web-w")
            second = start(2)
            second.wait_running(START_TIMEOUT)
            wait_for(
                lambda: connections.frames(kind="chat.final", message_id=waiting.message_id),
                TURN_TIMEOUT,
                what="the reply to the waiting message",
            )
            second.wait_logged("a message was waiting at ready", 30)
            assert "warmed OpenClaw's first turn" not in second.output
        finally:
            for started in bridges:
                started.stop()
