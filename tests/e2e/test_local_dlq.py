"""`dlq` end to end through the local target: the real CLI in a subprocess, the real bridge and
OpenClaw, IAM enforced on every component.

Messages become undeliverable the two ways they do in production: a message received and never
settled five times (an agent that crashes while answering) is moved to the dead-letter queue by
the queue's redrive policy, and a body the bridge cannot read is moved there by the bridge
itself. The first is sent again with `dlq retry` and answered; the second is dropped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.contract import QueueMessage
from openclaw_deploy.runtime.history import History
from openclaw_deploy.runtime.queue import enqueue
from tests.e2e.local import Local, cli, start, stop

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
NAME = "agent"
MAX_RECEIVES = resources.INBOUND.max_receive_count


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    deployment = start(tmp_path_factory.mktemp("local-dlq"))
    try:
        yield deployment
    finally:
        stop(deployment)


def _client(local: Local, service: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=local.state()["moto_url"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _dlq(local: Local, *args: str) -> Any:
    result = cli(local.workdir, "dlq", *args, "--target", "local", "--json", timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _wait(what: str, check: Callable[[], Any], seconds: float) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(1)
    pytest.fail(f"{what} within {seconds:.0f} s")


def test_a_dead_letter_is_listed_retried_and_answered_and_a_malformed_one_dropped(
    local: Local,
) -> None:
    sqs = _client(local, "sqs")
    inbound = sqs.get_queue_url(QueueName=resources.INBOUND.physical_name(NAME))["QueueUrl"]
    history = History(_client(local, "dynamodb"), resources.CONVERSATIONS.physical_name(NAME))

    # An agent that takes the message and dies before settling it, five times over: the queue's
    # redrive policy moves it to the dead-letter queue at the next receive.
    message = QueueMessage(
        channel="web",
        session="web-dlq",
        message_id="m-dlq-1",
        text="are you still there?",
        received_at=time.time(),
    )
    enqueue(sqs, inbound, message)
    for _ in range(MAX_RECEIVES):
        taken = sqs.receive_message(QueueUrl=inbound, VisibilityTimeout=0, WaitTimeSeconds=1)
        assert len(taken.get("Messages", [])) == 1, "the agent took the message first"
    assert "Messages" not in sqs.receive_message(QueueUrl=inbound, WaitTimeSeconds=1)

    listed = _dlq(local, "list")["messages"]
    assert [(m["channel"], m["session"], m["message_id"], m["preview"]) for m in listed] == [
        ("web", "web-dlq", "m-dlq-1", "are you still there?")
    ]
    assert listed[0]["receive_count"] >= MAX_RECEIVES
    assert not history.is_answered(message)

    # Sent again: the watchdog wakes the agent for the waiting message, and it answers it.
    retried = _dlq(local, "retry", listed[0]["id"])
    assert (retried["action"], retried["ids"], retried["not_found"]) == (
        "retried",
        [listed[0]["id"]],
        [],
    )
    _wait("the retried message was answered", lambda: history.is_answered(message), 420)
    assert _dlq(local, "list")["messages"] == []

    # A body the bridge cannot read: it moves it to the dead-letter queue itself.
    sqs.send_message(
        QueueUrl=inbound,
        MessageBody="this is not a queue message",
        MessageGroupId="web-dlq",
        MessageDeduplicationId="malformed-1",
    )
    (malformed,) = _wait(
        "the bridge moved the malformed message to the dead-letter queue",
        lambda: _dlq(local, "list")["messages"],
        180,
    )
    assert (malformed["channel"], malformed["preview"]) == (None, "this is not a queue message")
    dropped = _dlq(local, "drop", malformed["id"])
    assert (dropped["action"], dropped["ids"]) == ("dropped", [malformed["id"]])
    assert _dlq(local, "list")["messages"] == []
    log = (local.home / "logs" / "agent.log").read_text()
    assert "malformed queue message" in log
