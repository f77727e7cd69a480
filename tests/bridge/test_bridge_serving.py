"""Contract tests: the bridge process, a real pinned OpenClaw and the offline model, with the
queue on moto and stand-ins for `@connections` and the Telegram Bot API.

One bridge (and so one OpenClaw, ~10-13 s to start) serves every test in this module.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from openclaw_deploy.offline_model import OfflineModel
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.contract import QueueMessage
from openclaw_deploy.runtime.history import History
from tests.bridge.harness import (
    BridgeProcess,
    ConnectionsEndpoint,
    Deployment,
    provision,
    running_bridge,
    wait_for,
)
from tests.fakes.telegram_api import FakeTelegram, html_to_text

pytestmark = pytest.mark.slow

TURN_TIMEOUT = 90  # the first turn after a start takes OpenClaw 5-9 s on two cores
CHAT = 4242


@dataclass
class Served:
    deployment: Deployment
    bridge: BridgeProcess
    arn: str


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
    deployment.connections.add("conn-gone", user="owner")
    connections.gone.add("conn-gone")
    with running_bridge(
        deployment,
        tmp_path_factory.mktemp("agent-home"),
        openclaw=openclaw_command,
        model_url=model.base_url,
        connections_url=connections.url,
        telegram_url=telegram.url,
        telegram_token=telegram.token,
        backup_interval_seconds="3",
    ) as (bridge, arn):
        yield Served(deployment=deployment, bridge=bridge, arn=arn)


def script(reply: str, **extra: object) -> str:
    return f"<<offline:{json.dumps({'reply': reply, **extra})}>>"


def final_of(connections: ConnectionsEndpoint, msg: QueueMessage) -> dict[str, object]:
    frames = wait_for(
        lambda: connections.frames("conn-live", kind="chat.final", message_id=msg.message_id),
        TURN_TIMEOUT,
        what=f"the reply to {msg.message_id}",
    )
    assert len(frames) == 1
    return frames[0]


def deltas_of(connections: ConnectionsEndpoint, msg: QueueMessage) -> list[dict[str, object]]:
    return connections.frames("conn-live", kind="chat.delta", message_id=msg.message_id)


def queue_is_empty(deployment: Deployment) -> bool:
    attributes = deployment.client("sqs").get_queue_attributes(
        QueueUrl=deployment.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        attributes["ApproximateNumberOfMessages"] == "0"
        and attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
    )


def test_a_web_message_is_answered_in_order_complete_and_recorded(
    served: Served, connections: ConnectionsEndpoint
) -> None:
    reply = "Here is a streamed answer, " + " ".join(f"part{i}" for i in range(40)) + "."
    history = History(
        served.deployment.client("dynamodb"), served.deployment.table(resources.CONVERSATIONS)
    )
    recorded_at_final: list[list[str]] = []

    def on_post(frame: dict[str, Any]) -> None:
        if frame.get("type") == "chat.final":  # what a client reading the history then sees
            rows = history.page("web-1").messages
            recorded_at_final.append([m.role for m in rows if m.text == reply])

    connections.on_post = on_post
    try:
        msg = served.deployment.send("hello " + script(reply), session="web-1")
        final = final_of(connections, msg)
    finally:
        connections.on_post = None  # the endpoint serves the module's other tests too
    assert recorded_at_final == [["assistant"]], "the reply is in the history before it is final"
    assert final["text"] == reply
    deltas = deltas_of(connections, msg)
    assert [d["seq"] for d in deltas] == list(range(len(deltas)))
    assert "".join(str(d["text"]) for d in deltas) == reply
    assert all(d["session"] == "web-1" for d in deltas)

    recorded = {m.role: m for m in history.page("web-1").messages if m.id == msg.message_id}
    assert set(recorded) == {"user", "assistant"}
    assert recorded["user"].text == msg.text
    assert recorded["assistant"].text == reply
    wait_for(lambda: queue_is_empty(served.deployment), 10, what="the message to be deleted")

    status = served.deployment.lifecycle.get()
    assert status.state == "Running"
    assert status.task_arn == served.arn
    assert {"restore", "openclaw", "boot"} <= set(status.timings)
    assert served.deployment.connections.list() == ["conn-live"], "the gone one was forgotten"


def test_a_telegram_message_streams_with_typing_and_paced_edits(
    served: Served, connections: ConnectionsEndpoint, telegram: FakeTelegram
) -> None:
    reply = "**Noted.** Compare <a> & <b>: " + " ".join(f"w{i}" for i in range(60))
    msg = served.deployment.send(
        "telegram hi " + script(reply, delay_ms=60),
        channel="telegram",
        chat_id=CHAT,
        reply_to=77,
        session=f"tg-{CHAT}",
    )

    final = final_of(connections, msg)  # mirrored to the web UI
    assert final["text"] == reply
    wait_for(
        lambda: html_to_text(_last_shown(telegram)) == reply.replace("**", ""),
        10,
        what="the final Telegram text",
    )
    chat_calls = [c for c in telegram.calls if int(c.params.get("chat_id", 0)) == CHAT]
    assert chat_calls[0].method == "sendChatAction"
    writes = [c for c in chat_calls if c.method in ("sendMessage", "editMessageText")]
    assert writes[0].method == "sendMessage"
    assert writes[0].params["reply_parameters"]["message_id"] == 77
    assert len(writes) >= 2, "the message grew while the reply streamed (~4 s)"
    gaps = [b.at - a.at for a, b in itertools.pairwise(writes)]
    assert min(gaps) >= 1.45, f"Telegram edits closer than 1.5 s: {gaps}"
    assert "<b>Noted.</b>" in writes[-1].params["text"]


def _last_shown(telegram: FakeTelegram) -> str:
    writes = [c for c in telegram.calls if c.method in ("sendMessage", "editMessageText")]
    return str(writes[-1].params["text"]) if writes else ""


def test_two_messages_for_one_session_are_answered_one_after_the_other(
    served: Served, connections: ConnectionsEndpoint
) -> None:
    one, two = " ".join(["first"] * 15), " ".join(["second"] * 15)
    first = served.deployment.send("one " + script(one, delay_ms=80), session="pair")
    second = served.deployment.send("two " + script(two, delay_ms=80), session="pair")

    assert final_of(connections, first)["text"] == one
    assert final_of(connections, second)["text"] == two
    first_frames = connections.timed(first.message_id)
    second_frames = connections.timed(second.message_id)
    first_done = max(at for frame, at in first_frames if frame["type"] == "chat.final")
    second_start = min(at for frame, at in second_frames if frame["type"] == "chat.delta")
    assert second_start >= first_done, "the second turn began before the first was delivered"
    assert "".join(str(f["text"]) for f, _ in second_frames if f["type"] == "chat.delta") == two


def test_a_malformed_message_goes_to_the_dead_letter_queue_and_serving_goes_on(
    served: Served, connections: ConnectionsEndpoint
) -> None:
    served.deployment.send_raw('{"v": 1, "channel": "fax"}', group="bad")
    wait_for(served.deployment.dead_letters, 30, what="the dead letter")
    assert served.deployment.dead_letters() == ['{"v": 1, "channel": "fax"}']
    assert "malformed queue message" in served.bridge.output

    msg = served.deployment.send("still there? " + script("yes"), session="after-bad")
    assert final_of(connections, msg)["text"] == "yes"


def test_a_redelivered_message_that_was_answered_is_not_answered_again(
    served: Served, connections: ConnectionsEndpoint
) -> None:
    history = History(
        served.deployment.client("dynamodb"), served.deployment.table(resources.CONVERSATIONS)
    )
    answered = QueueMessage(
        channel="web",
        session="redo",
        message_id="m-answered",
        text="asked before",
        received_at=1_764_140_000.0,
    )
    history.record_user(answered)
    history.record_reply(answered, "answered before the crash")
    served.deployment.put(answered)  # a copy of an answered message comes back
    marker = served.deployment.send("next " + script("next"), session="redo")
    # Same session, FIFO: by the time `marker` is answered, the copy was taken and settled.
    assert final_of(connections, marker)["text"] == "next"
    assert connections.frames(message_id="m-answered") == []
    assert "was answered before" in served.bridge.output
    wait_for(lambda: queue_is_empty(served.deployment), 10, what="the copy to be deleted")


def test_the_state_is_backed_up_while_the_agent_runs(served: Served) -> None:
    # Turns happened (earlier tests, or this wait): a periodic backup follows within seconds.
    msg = served.deployment.send("note this " + script("noted"), session="periodic")
    wait_for(
        lambda: f"answered {msg.message_id}" in served.bridge.output, TURN_TIMEOUT, what="the turn"
    )
    wait_for(lambda: "periodic backup" in served.bridge.output, 60, what="a periodic backup")
    assert served.deployment.backup_archive() is not None
    assert served.deployment.lifecycle.get().state == "Running"


def test_the_bridge_log_carries_no_secret(served: Served, telegram: FakeTelegram) -> None:
    assert telegram.token not in served.bridge.output
    assert "Bearer" not in served.bridge.output
    assert Path(served.bridge.log_path).exists()
