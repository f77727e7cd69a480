"""The pieces around a turn, each against real HTTP: `@connections` posting (stand-in) with the
connections table on moto, the inbound queue on moto, the per-session scheduler, redaction."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time

import boto3

from openclaw_bridge.inbound import InboundQueue
from openclaw_bridge.logs import RedactingFormatter, Redactor
from openclaw_bridge.turns import SessionScheduler
from openclaw_bridge.web import WebPoster, WebStream
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.contract import ContractError
from tests.bridge.harness import ConnectionsEndpoint, Deployment, provision, wait_for


def poster(deployment: Deployment, endpoint: ConnectionsEndpoint) -> WebPoster:
    api = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return WebPoster(deployment.connections, api)


def test_deltas_in_order_under_the_frame_limit_and_gone_connections_forgotten(
    bridge_moto: str, connections: ConnectionsEndpoint
) -> None:
    deployment = provision(bridge_moto)
    deployment.connections.add("live-1", user="owner")
    deployment.connections.add("gone-1", user="owner")
    connections.gone.add("gone-1")
    stream = WebStream(poster(deployment, connections), message_id="msg-web-1", session="s1")
    stream.start()
    pieces = ["é" * 5000, "x" * 30_000, "tail"]  # multi-byte text, and more than one frame's worth
    for piece in pieces:
        stream.delta(piece)
    stream.finish("".join(pieces))

    deltas = connections.frames("live-1", kind="chat.delta", message_id="msg-web-1")
    assert [d["seq"] for d in deltas] == list(range(len(deltas)))
    assert "".join(d["text"] for d in deltas) == "".join(pieces)
    assert all(len(json.dumps(d, ensure_ascii=False).encode()) < 32 * 1024 for d in deltas)
    final = connections.frames("live-1", kind="chat.final", message_id="msg-web-1")
    assert final == [
        {"type": "chat.final", "id": "msg-web-1", "session": "s1", "text": "", "chunked": True}
    ]
    assert deployment.connections.list() == ["live-1"], "the gone connection was forgotten"
    assert connections.frames("gone-1") == []


def test_pieces_arriving_during_a_post_travel_together(
    bridge_moto: str, connections: ConnectionsEndpoint
) -> None:
    deployment = provision(bridge_moto)
    deployment.connections.add("c-batch", user="owner")
    stream = WebStream(poster(deployment, connections), message_id="msg-batch", session="s1")
    stream.start()
    for i in range(200):
        stream.delta(f"{i} ")
    stream.finish("".join(f"{i} " for i in range(200)))
    deltas = connections.frames("c-batch", kind="chat.delta", message_id="msg-batch")
    assert "".join(d["text"] for d in deltas) == "".join(f"{i} " for i in range(200))
    assert len(deltas) < 50, "coalesced, not one @connections call per token"
    assert connections.frames("c-batch", kind="chat.final")[-1]["text"].startswith("0 1 2")


def test_a_malformed_message_goes_to_the_dead_letter_queue(bridge_moto: str) -> None:
    deployment = provision(bridge_moto)
    queue = InboundQueue(deployment.client("sqs"), deployment.queue_url)
    queue.discover()
    assert queue.visibility_timeout == resources.INBOUND.visibility_timeout_seconds
    deployment.send_raw("this is not json")
    received = queue.receive(wait_seconds=1)
    assert len(received) == 1
    try:
        queue.parse(received[0])
    except ContractError as error:
        queue.dead_letter(received[0], error)
    assert deployment.dead_letters() == ["this is not json"]
    assert queue.receive(wait_seconds=0) == []


def test_a_handed_back_message_is_visible_at_once(bridge_moto: str) -> None:
    deployment = provision(bridge_moto)
    queue = InboundQueue(deployment.client("sqs"), deployment.queue_url)
    msg = deployment.send("hello")
    first = queue.receive(wait_seconds=1)
    assert queue.receive(wait_seconds=0) == []
    queue.release(first[0])
    again = queue.receive(wait_seconds=1)
    assert queue.parse(again[0]).message_id == msg.message_id
    assert again[0].receive_count == 2


def test_one_turn_at_a_time_per_session_and_sessions_side_by_side() -> None:
    events: list[tuple[str, str, float]] = []
    lock = threading.Lock()

    def handle(item: tuple[str, str]) -> None:
        _session, name = item
        with lock:
            events.append(("start", name, time.monotonic()))
        time.sleep(0.5)
        with lock:
            events.append(("end", name, time.monotonic()))

    scheduler: SessionScheduler[tuple[str, str]] = SessionScheduler(handle, workers=4)
    for name in ("a1", "a2", "a3"):
        scheduler.submit("a", ("a", name))
    scheduler.submit("b", ("b", "b1"))
    assert scheduler.wait_idle(timeout=5)
    order = [(kind, name) for kind, name, _ in events if name.startswith("a")]
    assert order == [
        ("start", "a1"),
        ("end", "a1"),
        ("start", "a2"),
        ("end", "a2"),
        ("start", "a3"),
        ("end", "a3"),
    ]
    starts = {name: at for kind, name, at in events if kind == "start"}
    assert starts["b1"] - starts["a1"] < 0.4, "another session does not wait"

    for name in ("c1", "c2", "c3"):
        scheduler.submit("c", ("c", name))
    wait_for(lambda: any(n == "c1" for _, n, _ in events), 2, what="c1 to start")
    assert sorted(name for _, name in scheduler.close()) == ["c2", "c3"]
    assert scheduler.wait_idle(timeout=5)
    assert not scheduler.submit("c", ("c", "c4"))
    scheduler.shutdown()


def test_secrets_never_reach_a_log_line() -> None:
    redactor = Redactor()
    redactor.add("sk-canary-123456", "123:tg-token-abcdef", "short")
    formatter = RedactingFormatter(redactor)
    try:
        raise RuntimeError("call failed with key sk-canary-123456")
    except RuntimeError:
        record = logging.LogRecord(
            "x",
            logging.ERROR,
            __file__,
            1,
            "url %s is short",
            ("https://t/bot123:tg-token-abcdef/send",),
            sys.exc_info(),
        )
    line = formatter.format(record)
    assert "sk-canary" not in line, "not in the message, nor in the traceback"
    assert "tg-token" not in line
    assert "https://t/bot***/send is short" in line, "too short to be a secret: kept"
