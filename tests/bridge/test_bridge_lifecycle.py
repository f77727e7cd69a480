"""The agent's life across processes: memory that survives a stop, a kill mid-reply, the idle
timeout, and a start that fails. Each test starts its own bridge(s) with a real pinned OpenClaw.
"""

from __future__ import annotations

import io
import json
import shutil
import signal
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from openclaw_deploy.offline_model import OfflineModel, message_text
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.history import History
from openclaw_deploy.runtime.settings import Settings
from tests.bridge.harness import (
    BridgeProcess,
    ConnectionsEndpoint,
    Deployment,
    bridge_env,
    provision,
    wait_for,
)
from tests.fakes.telegram_api import FakeTelegram, html_to_text

pytestmark = pytest.mark.slow

START_TIMEOUT = 150
TURN_TIMEOUT = 90


def new_arn() -> str:
    return f"arn:aws:ecs:us-east-1:123456789012:task/agent/{uuid.uuid4().hex}"


@pytest.fixture
def bridges() -> Iterator[list[BridgeProcess]]:
    """Every bridge a test starts is stopped at the end, whatever happened."""
    started: list[BridgeProcess] = []
    try:
        yield started
    finally:
        for bridge in started:
            bridge.stop()


def start_bridge(
    bridges: list[BridgeProcess],
    deployment: Deployment,
    home: Path,
    openclaw: list[str],
    **options: object,
) -> BridgeProcess:
    arn = new_arn()
    deployment.begin_start(arn)
    env = bridge_env(deployment, home=home, openclaw=openclaw, task_arn=arn, **options)  # type: ignore[arg-type]
    bridge = BridgeProcess(env, home.parent / f"{home.name}-{len(bridges)}.log")
    bridges.append(bridge)
    return bridge.start()


def archive_members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        return {
            member.name: archive.extractfile(member).read()  # type: ignore[union-attr]
            for member in archive.getmembers()
            if member.isfile()
        }


def test_a_stop_loses_nothing_memory_survives_and_the_turn_in_flight_is_answered_next_time(
    bridge_moto: str,
    openclaw_command: list[str],
    model: OfflineModel,
    connections: ConnectionsEndpoint,
    tmp_path: Path,
    bridges: list[BridgeProcess],
) -> None:
    deployment = provision(bridge_moto)
    deployment.connections.add("conn-mem", user="owner")
    home = tmp_path / "agent"  # the same path in every task, as in the container
    options = {
        "model_url": model.base_url,
        "connections_url": connections.url,
        # 5 s for running turns to finish (of ECS's 120 s, the bridge keeps 45 s back)
        "stop_timeout_seconds": "50",
    }
    first = start_bridge(bridges, deployment, home, openclaw_command, **options)
    first.wait_running(START_TIMEOUT)

    directive = {
        "tool": {
            "name": "write",
            "arguments": {"path": "notes/cat.md", "content": "The cat is called Tom."},
        },
        "reply": "Saved.",
    }
    msg = deployment.send(f"remember the cat <<offline:{json.dumps(directive)}>>", session="memory")
    wait_for(
        lambda: connections.frames(kind="chat.final", message_id=msg.message_id),
        TURN_TIMEOUT,
        what="the first reply",
    )
    written = home / "state" / "workspace" / "notes" / "cat.md"
    assert written.read_text() == "The cat is called Tom."

    # A long reply is streaming when the task is told to stop.
    slow = " ".join(f"long{i}" for i in range(40))
    script = json.dumps({"reply": slow, "delay_ms": 300})
    in_flight = deployment.send(f"a long one <<offline:{script}>>", session="in-flight")
    wait_for(
        lambda: connections.frames(kind="chat.delta", message_id=in_flight.message_id),
        TURN_TIMEOUT,
        what="the long reply to start",
    )
    first.signal(signal.SIGTERM)  # what ECS sends on a Spot reclaim or a stop
    assert first.wait(timeout=120) == 0
    assert "handing back 1 unfinished turn" in first.output
    assert connections.frames(kind="chat.final", message_id=in_flight.message_id) == []
    archive = deployment.backup_archive()
    assert archive is not None
    assert any(name.endswith("workspace/notes/cat.md") for name in archive_members(archive))
    status = deployment.lifecycle.get()
    assert status.state == "Idle"
    assert "SIGTERM" in (status.last_stop_reason or "")

    shutil.rmtree(home)  # a new task starts with an empty disk
    second = start_bridge(bridges, deployment, home, openclaw_command, **options)
    second.wait_running(START_TIMEOUT)
    assert written.read_text() == "The cat is called Tom."
    assert "restored" in second.output

    follow_up = deployment.send("what is the cat called?", session="memory")
    final = wait_for(
        lambda: connections.frames(kind="chat.final", message_id=follow_up.message_id),
        TURN_TIMEOUT,
        what="the follow-up reply",
    )
    assert "what is the cat called?" in final[0]["text"]
    # The turn handed back at the stop was answered, whole, by the next task.
    handed_back = wait_for(
        lambda: connections.frames(kind="chat.final", message_id=in_flight.message_id),
        TURN_TIMEOUT,
        what="the handed-back message's reply",
    )
    assert handed_back[0]["text"] == slow
    # The model saw the earlier turn: OpenClaw kept the session's history across the restart.
    asked = [
        r.body["messages"]
        for r in model.requests
        if "what is the cat called?" in " ".join(message_text(m) for m in r.body["messages"])
    ]
    earlier = " ".join(message_text(m) for m in asked[-1])
    assert "remember the cat" in earlier
    assert "Saved." in earlier


def test_a_reply_killed_midway_is_redelivered_and_answered_once(
    bridge_moto: str,
    openclaw_command: list[str],
    model: OfflineModel,
    connections: ConnectionsEndpoint,
    tmp_path: Path,
    bridges: list[BridgeProcess],
) -> None:
    deployment = provision(bridge_moto, visibility_timeout=8)
    deployment.connections.add("conn-kill", user="owner")
    home = tmp_path / "agent"
    options = {"model_url": model.base_url, "connections_url": connections.url}
    first = start_bridge(bridges, deployment, home, openclaw_command, **options)
    first.wait_running(START_TIMEOUT)

    reply = " ".join(f"slow{i}" for i in range(30))
    script = json.dumps({"reply": reply, "delay_ms": 250})
    msg = deployment.send(f"take your time <<offline:{script}>>", session="killed")
    wait_for(
        lambda: connections.frames(kind="chat.delta", message_id=msg.message_id),
        TURN_TIMEOUT,
        what="the reply to start streaming",
    )
    first.kill_all()  # SIGKILL to the bridge and OpenClaw: the container is gone
    assert connections.frames(kind="chat.final", message_id=msg.message_id) == []
    deployment.lifecycle.mark_idle(deployment.lifecycle.get().task_arn or "", "task died")

    shutil.rmtree(home)
    second = start_bridge(bridges, deployment, home, openclaw_command, **options)
    second.wait_running(START_TIMEOUT)
    finals = wait_for(
        lambda: connections.frames(kind="chat.final", message_id=msg.message_id),
        TURN_TIMEOUT + 10,
        what="the redelivered message's reply",
    )
    assert finals[0]["text"] == reply
    second.signal(signal.SIGTERM)
    assert second.wait(timeout=120) == 0
    assert len(connections.frames(kind="chat.final", message_id=msg.message_id)) == 1
    history = History(deployment.client("dynamodb"), deployment.table(resources.CONVERSATIONS))
    replies = [m for m in history.page("killed").messages if m.role == "assistant"]
    assert [m.text for m in replies] == [reply]


def test_a_telegram_reply_killed_midway_finishes_its_preview_instead_of_a_second_reply(
    bridge_moto: str,
    openclaw_command: list[str],
    model: OfflineModel,
    telegram: FakeTelegram,
    tmp_path: Path,
    bridges: list[BridgeProcess],
) -> None:
    deployment = provision(bridge_moto, visibility_timeout=8)
    home = tmp_path / "agent"
    options = {
        "model_url": model.base_url,
        "telegram_url": telegram.url,
        "telegram_token": telegram.token,
    }
    first = start_bridge(bridges, deployment, home, openclaw_command, **options)
    first.wait_running(START_TIMEOUT)

    reply = " ".join(f"slow{i}" for i in range(40))
    script = json.dumps({"reply": reply, "delay_ms": 250})
    msg = deployment.send(
        f"take your time <<offline:{script}>>",
        session="tg-killed",
        channel="telegram",
        chat_id=4242,
        reply_to=7,
    )
    wait_for(lambda: telegram.calls_to("sendMessage"), TURN_TIMEOUT, what="the preview")
    wait_for(lambda: telegram.calls_to("editMessageText"), TURN_TIMEOUT, what="a preview edit")
    first.kill_all()  # the container dies with a half-written preview in the chat
    [preview] = telegram.calls_to("sendMessage")
    deployment.lifecycle.mark_idle(deployment.lifecycle.get().task_arn or "", "task died")

    shutil.rmtree(home)
    second = start_bridge(bridges, deployment, home, openclaw_command, **options)
    second.wait_running(START_TIMEOUT)
    history = History(deployment.client("dynamodb"), deployment.table(resources.CONVERSATIONS))
    wait_for(lambda: history.is_answered(msg), TURN_TIMEOUT + 10, what="the redelivered reply")
    second.signal(signal.SIGTERM)
    assert second.wait(timeout=120) == 0
    assert telegram.calls_to("sendMessage") == [preview], "one reply in the chat, not two"
    edits = telegram.calls_to("editMessageText")
    assert len({int(c.params["message_id"]) for c in edits}) == 1, "the preview, finished"
    assert html_to_text(edits[-1].params["text"]) == reply
    assert history.draft(msg) == [], "forgotten once delivered"


def test_idle_timeout_backs_up_and_exits_and_no_secret_leaks(
    bridge_moto: str,
    openclaw_command: list[str],
    model: OfflineModel,
    connections: ConnectionsEndpoint,
    telegram: FakeTelegram,
    tmp_path: Path,
    bridges: list[BridgeProcess],
) -> None:
    canary = f"sk-canary-{uuid.uuid4().hex}"
    deployment = provision(bridge_moto)
    # The owner changed the model in the settings since `init`: this start uses it.
    Settings(deployment.client("dynamodb"), deployment.table(resources.SETTINGS)).put(
        {"provider": "deepseek", "model": "deepseek-v4-pro"}
    )
    deployment.connections.add("conn-idle", user="owner")
    home = tmp_path / "agent"
    # DeepSeek is an OpenAI-compatible provider: pointed at the offline model, the canary is
    # the key OpenClaw really sends.
    bridge = start_bridge(
        bridges,
        deployment,
        home,
        openclaw_command,
        provider="deepseek",
        model="deepseek-v4-flash",
        llm_key=canary,
        model_url=model.base_url,
        connections_url=connections.url,
        telegram_url=telegram.url,
        telegram_token=telegram.token,
        idle_timeout_seconds="4",
    )
    bridge.wait_running(START_TIMEOUT)
    msg = deployment.send(
        'use the key <<offline:{"reply": "ok"}>>', channel="telegram", chat_id=99, session="tg-99"
    )
    wait_for(
        lambda: connections.frames(kind="chat.final", message_id=msg.message_id),
        TURN_TIMEOUT,
        what="the reply",
    )
    assert model.requests[-1].headers["authorization"] == f"Bearer {canary}"
    assert model.requests[-1].body["model"] == "deepseek-v4-pro", "the settings row won"

    assert bridge.wait(timeout=120) == 0, "exits by itself once idle"
    output = bridge.output
    assert "stopping: idle timeout" in output
    assert output.index("final backup") > output.index("stopping: idle timeout")
    status = deployment.lifecycle.get()
    assert (status.state, status.last_stop_reason) == ("Idle", "idle timeout")
    archive = deployment.backup_archive()
    assert archive is not None
    members = archive_members(archive)
    assert any(name.endswith("openclaw.json") for name in members), "the config is archived"
    for name, content in members.items():
        assert canary.encode() not in content, f"the LLM key is in the backup ({name})"
        assert telegram.token.encode() not in content, f"the bot token is in the backup ({name})"
    assert canary not in output
    assert telegram.token not in output
    for log_file in (home / "logs").glob("*"):
        assert canary not in log_file.read_text(errors="replace"), f"the key is in {log_file}"


def test_openclaw_failing_to_start_leaves_the_agent_idle_and_tells_the_user(
    bridge_moto: str,
    openclaw_command: list[str],
    model: OfflineModel,
    connections: ConnectionsEndpoint,
    telegram: FakeTelegram,
    tmp_path: Path,
    bridges: list[BridgeProcess],
) -> None:
    deployment = provision(bridge_moto)
    deployment.connections.add("conn-fail", user="owner")
    waiting_web = deployment.send("are you there?", session="web-fail")
    waiting_tg = deployment.send("hello?", channel="telegram", chat_id=555, session="tg-555")
    # A config OpenClaw refuses (an unknown key makes it exit with 78), as a bad upgrade would.
    template = tmp_path / "broken.json5"
    template.write_text(
        (Path(__file__).resolve().parents[2] / "templates" / "openclaw.json5")
        .read_text()
        .replace("gateway: {", "notAKey: true,\n  gateway: {", 1)
    )
    bridge = start_bridge(
        bridges,
        deployment,
        tmp_path / "agent",
        openclaw_command,
        model_url=model.base_url,
        connections_url=connections.url,
        telegram_url=telegram.url,
        telegram_token=telegram.token,
        template=str(template),
    )
    assert bridge.wait(timeout=120) == 1

    status = deployment.lifecycle.get()
    assert status.state == "Idle"
    assert "exited with code 78" in (status.last_stop_reason or "")
    # OpenClaw's own words on why: with the bundled providers described at the proxy it reports
    # an invalid read-only config as holding "legacy entries" rather than naming the bad key.
    assert "Invalid config" in (status.last_stop_reason or "")
    errors = connections.frames("conn-fail", kind="error", message_id=waiting_web.message_id)
    assert errors and errors[0]["code"] == "agent_failed"
    assert "could not start" in errors[0]["message"]
    assert any("could not start" in text for text in telegram.sent_texts(555))
    # The messages wait for the next start instead of being lost.
    sqs = deployment.client("sqs")
    left = sqs.receive_message(
        QueueUrl=deployment.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
    )["Messages"]
    assert {json.loads(m["Body"])["message_id"] for m in left} == {
        waiting_web.message_id,
        waiting_tg.message_id,
    }
