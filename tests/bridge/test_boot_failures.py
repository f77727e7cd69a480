"""A boot that fails for any reason — here AWS refusing a call before OpenClaw starts — is a
failed start: the lifecycle row goes Idle with a reason naming the step and the refusal, the
people waiting are told (web and Telegram), the messages stay queued, and the process exits
non-zero. Three identical failures in a row stop messages from waking the agent.

The real bridge process runs against the bridge tests' moto server; OpenClaw is never reached
(its command here would fail if it were), so these tests are fast.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from openclaw_deploy.runtime.lifecycle import (
    BLOCK_AFTER_FAILURES,
    IDLE,
    AgentStartBlockedError,
    TaskConfig,
    ensure_agent_running,
)
from tests.bridge.harness import (
    BridgeProcess,
    ConnectionsEndpoint,
    Deployment,
    bridge_env,
    provision,
)
from tests.fakes.telegram_api import FakeTelegram

NEVER_OPENCLAW = ["/bin/false"]
"""The OpenClaw command: a boot that fails earlier never runs it."""


@pytest.fixture
def bridges() -> Iterator[list[BridgeProcess]]:
    started: list[BridgeProcess] = []
    try:
        yield started
    finally:
        for bridge in started:
            bridge.stop()


def _drop_dead_letter_queue(deployment: Deployment) -> None:
    # GetQueueUrl on the dead-letter queue is the boot call real AWS refused (AccessDenied).
    deployment.client("sqs").delete_queue(QueueUrl=deployment.dlq_url)


def _drop_state_bucket(deployment: Deployment) -> None:
    deployment.client("s3").delete_bucket(Bucket=deployment.bucket)


BREAKAGES: dict[str, tuple[Callable[[Deployment], None], tuple[str, ...]]] = {
    "queue": (
        _drop_dead_letter_queue,
        ("the agent could not read its queue", "on sqs:GetQueueUrl"),
    ),
    "memory": (
        _drop_state_bucket,
        ("the agent could not restore its memory", "NoSuchBucket"),
    ),
}


def _boot_once(
    bridges: list[BridgeProcess],
    deployment: Deployment,
    home: Path,
    *,
    connections: ConnectionsEndpoint,
    telegram: FakeTelegram,
) -> BridgeProcess:
    arn = f"arn:aws:ecs:us-east-1:123456789012:task/agent/{uuid.uuid4().hex}"
    deployment.begin_start(arn)
    env = bridge_env(
        deployment,
        home=home,
        openclaw=NEVER_OPENCLAW,
        task_arn=arn,
        model_url="http://127.0.0.1:9/v1",
        connections_url=connections.url,
        telegram_url=telegram.url,
        telegram_token=telegram.token,
    )
    bridge = BridgeProcess(env, home.parent / f"{home.name}-{len(bridges)}.log")
    bridges.append(bridge)
    return bridge.start()


@pytest.mark.parametrize("broken", sorted(BREAKAGES))
def test_an_aws_refusal_at_boot_is_a_failed_start_told_to_everyone_waiting(
    broken: str,
    bridge_moto: str,
    connections: ConnectionsEndpoint,
    telegram: FakeTelegram,
    tmp_path: Path,
    bridges: list[BridgeProcess],
) -> None:
    deployment = provision(bridge_moto)
    breakage, expected = BREAKAGES[broken]
    breakage(deployment)
    connection = f"conn-{broken}"
    deployment.connections.add(connection, user="owner")
    chat = 700 + len(broken)
    waiting_web = deployment.send("are you there?", session=f"web-{broken}")
    waiting_tg = deployment.send("hello?", channel="telegram", chat_id=chat, session=f"tg-{chat}")

    bridge = _boot_once(
        bridges, deployment, tmp_path / "agent", connections=connections, telegram=telegram
    )
    assert bridge.wait(timeout=60) == 1, bridge.output[-3000:]

    status = deployment.lifecycle.get()
    assert status.state == IDLE
    reason = status.failure_reason or ""
    for part in expected:
        assert part in reason, reason
    assert status.last_stop_reason == reason
    assert (status.failed_starts, status.failure_streak) == (1, 1)
    assert "Traceback" not in reason
    assert "Traceback" in bridge.output, "the log keeps the traceback the user does not see"

    errors = connections.frames(connection, kind="error", message_id=waiting_web.message_id)
    assert errors, "the waiting web client was not told"
    assert errors[0]["code"] == "agent_failed"
    assert expected[0] in errors[0]["message"]
    assert "Traceback" not in errors[0]["message"]
    told = [text for text in telegram.sent_texts(chat) if expected[0] in text]
    assert told, telegram.sent_texts(chat)

    # Nothing is lost: both messages wait for a start that works.
    left = deployment.client("sqs").receive_message(
        QueueUrl=deployment.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
    )["Messages"]
    assert {json.loads(m["Body"])["message_id"] for m in left} == {
        waiting_web.message_id,
        waiting_tg.message_id,
    }


class _RecordingEcs:
    """An ECS client that only records: the blocked agent must never reach RunTask."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def run_task(self, **params: Any) -> dict[str, Any]:
        self.calls.append(params)
        return {"tasks": [{"taskArn": "arn:aws:ecs:us-east-1:123456789012:task/agent/x"}]}


def test_the_same_boot_failure_three_times_stops_messages_from_waking_the_agent(
    bridge_moto: str,
    connections: ConnectionsEndpoint,
    telegram: FakeTelegram,
    tmp_path: Path,
    bridges: list[BridgeProcess],
) -> None:
    deployment = provision(bridge_moto)
    _drop_dead_letter_queue(deployment)
    deployment.send("anyone?", session="web-blocked")
    config = TaskConfig(cluster="c", task_definition="f", subnets=("subnet-1",), security_groups=())

    for attempt in range(1, BLOCK_AFTER_FAILURES + 1):
        assert not deployment.lifecycle.get().start_blocked(deployment.lifecycle.now())
        bridge = _boot_once(
            bridges,
            deployment,
            tmp_path / f"agent-{attempt}",
            connections=connections,
            telegram=telegram,
        )
        assert bridge.wait(timeout=60) == 1
        assert deployment.lifecycle.get().failure_streak == attempt

    ecs = _RecordingEcs()
    with pytest.raises(AgentStartBlockedError) as blocked:
        ensure_agent_running(deployment.lifecycle, ecs, config)  # type: ignore[arg-type]
    assert ecs.calls == []
    message = str(blocked.value)
    assert "the agent could not read its queue" in message
    assert "openclaw-deploy logs --component agent" in message
    assert "openclaw-deploy start" in message
    assert deployment.lifecycle.get().state == IDLE

    # The owner's own start clears the block and tries again.
    status = ensure_agent_running(deployment.lifecycle, ecs, config, force=True)  # type: ignore[arg-type]
    assert len(ecs.calls) == 1
    assert status.state == "Starting"
    assert status.failure_streak == 0
