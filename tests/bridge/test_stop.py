"""Stop: the owner ends a reply while the real OpenClaw writes it or runs a tool for it.

The stop travels as the ws handler sends it (a queue message in a group of its own); the reply
ends with `chat.final` marked `stopped`, keeps what was written, OpenClaw's run is aborted (the
model is not called again for it), and the session's next message is answered.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from openclaw_deploy.offline_model import OfflineModel
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.contract import QueueMessage, StopRequest
from openclaw_deploy.runtime.history import History
from openclaw_deploy.runtime.queue import enqueue_stop
from tests.bridge.harness import (
    BridgeProcess,
    ConnectionsEndpoint,
    Deployment,
    provision,
    running_bridge,
    wait_for,
)

pytestmark = pytest.mark.slow

TURN_TIMEOUT = 90


@dataclass
class Served:
    deployment: Deployment
    bridge: BridgeProcess


@pytest.fixture(scope="module")
def served(
    bridge_moto: str,
    openclaw_command: list[str],
    model: OfflineModel,
    connections: ConnectionsEndpoint,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    deployment = provision(bridge_moto)
    with running_bridge(
        deployment,
        tmp_path_factory.mktemp("agent-home"),
        openclaw=openclaw_command,
        model_url=model.base_url,
        connections_url=connections.url,
    ) as (bridge, _):
        yield Served(deployment=deployment, bridge=bridge)


def script(**directive: object) -> str:
    return f"<<offline:{json.dumps(directive)}>>"


def stop(deployment: Deployment, msg: QueueMessage) -> None:
    request = StopRequest(session=msg.session, message_id=msg.message_id)
    enqueue_stop(deployment.client("sqs"), deployment.queue_url, request)


def finals(connections: ConnectionsEndpoint, msg: QueueMessage) -> list[dict[str, object]]:
    return connections.frames("conn-live", kind="chat.final", message_id=msg.message_id)


def final_of(connections: ConnectionsEndpoint, msg: QueueMessage) -> dict[str, object]:
    [frame] = wait_for(
        lambda: finals(connections, msg), TURN_TIMEOUT, what=f"the reply to {msg.message_id}"
    )
    return frame


def history(deployment: Deployment) -> History:
    return History(deployment.client("dynamodb"), deployment.table(resources.CONVERSATIONS))


def calls_for(model: OfflineModel, marker: str) -> int:
    return sum(1 for r in model.requests if marker in json.dumps(r.body))


def test_stop_ends_a_streaming_reply_where_it_is_and_the_next_message_is_answered(
    served: Served, connections: ConnectionsEndpoint, model: OfflineModel
) -> None:
    words = [f"word{i}" for i in range(80)]
    msg = served.deployment.send(
        "count slowly " + script(reply=" ".join(words), delay_ms=250), session="web-stop"
    )
    wait_for(
        lambda: (
            len(connections.frames("conn-live", kind="chat.delta", message_id=msg.message_id)) >= 2
        ),
        TURN_TIMEOUT,
        what="the reply to start streaming",
    )
    asked = time.monotonic()
    stop(served.deployment, msg)

    final = final_of(connections, msg)
    assert final["stopped"] is True
    print(f"stop to final: {(time.monotonic() - asked) * 1000:.0f} ms")  # shown with -s
    text = str(final["text"])
    assert text and len(text.split()) < len(words)
    assert " ".join(words).startswith(text.strip())
    [row] = [
        m
        for m in history(served.deployment).page("web-stop").messages
        if m.id == msg.message_id and m.role == "assistant"
    ]
    assert (row.stopped, row.text) == (True, text)
    assert row.public()["stopped"] is True

    after = served.deployment.send("and now? " + script(reply="still here"), session="web-stop")
    answer = final_of(connections, after)
    assert (answer["text"], answer.get("stopped")) == ("still here", None)
    assert len(finals(connections, msg)) == 1  # the stopped reply never ends a second time


def test_stop_during_a_tool_aborts_the_run_so_the_model_is_not_called_again(
    served: Served, connections: ConnectionsEndpoint, model: OfflineModel
) -> None:
    marker = f"slow-{uuid.uuid4().hex[:8]}"
    msg = served.deployment.send(
        f"run it {marker} "
        + script(tool={"name": "exec", "arguments": {"command": "sleep 4; echo done"}}),
        session="web-tool",
    )
    wait_for(lambda: calls_for(model, marker) >= 1, TURN_TIMEOUT, what="the tool call")
    asked = time.monotonic()
    stop(served.deployment, msg)
    final = final_of(connections, msg)
    print(f"stop during a tool to final: {(time.monotonic() - asked) * 1000:.0f} ms")
    assert final["stopped"] is True

    time.sleep(8)  # past the command's end: a run still going would send its result back now
    assert calls_for(model, marker) == 1
    after = served.deployment.send("next " + script(reply="next answer"), session="web-tool")
    assert final_of(connections, after)["text"] == "next answer"


def test_a_stop_that_comes_before_its_message_ends_it_unanswered(
    served: Served, connections: ConnectionsEndpoint, model: OfflineModel
) -> None:
    marker = f"never-{uuid.uuid4().hex[:8]}"
    msg = QueueMessage(
        channel="web",
        session="web-early",
        message_id=f"m-{uuid.uuid4().hex[:12]}",
        text=f"{marker} " + script(reply="should not be written"),
        received_at=time.time(),
    )
    stop(served.deployment, msg)
    time.sleep(3)  # the bridge takes the stop first and keeps it
    served.deployment.put(msg)

    final = final_of(connections, msg)
    assert (final["stopped"], final["text"]) == (True, "")
    assert calls_for(model, marker) == 0


def test_the_web_chat_hears_which_tool_runs_and_on_what(
    served: Served, connections: ConnectionsEndpoint
) -> None:
    msg = served.deployment.send(
        "list it "
        + script(
            tool={"name": "exec", "arguments": {"command": "sleep 1; echo listed"}}, reply="ok"
        ),
        session="web-activity",
    )
    assert final_of(connections, msg)["text"] == "ok"
    seen = [
        (frame["activity"], frame["tool"], frame["detail"])
        for frame in connections.frames(
            "conn-live", kind="agent.activity", message_id=msg.message_id
        )
    ]
    assert seen[0] == ("tool", "exec", "sleep 1; echo listed")
    assert ("thinking", None, None) in seen[1:]
    assert all(
        frame["session"] == "web-activity"
        for frame in connections.frames(
            "conn-live", kind="agent.activity", message_id=msg.message_id
        )
    )
