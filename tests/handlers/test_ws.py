"""The WebSocket handler: tickets at `$connect`, chat frames at `$default`, gone connections."""

from __future__ import annotations

import threading
import time

from botocore.stub import Stubber

from openclaw_deploy.handlers import api, ws
from openclaw_deploy.handlers._tickets import Tickets
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.contract import MAX_TEXT_CHARS
from openclaw_deploy.runtime.history import History
from tests.handlers.conftest import DEPLOYMENT, Stack
from tests.handlers.events import OWNER_SUB, body, http_event, ws_event


def ticket() -> str:
    answer = api.handler(http_event("POST", "/api/ws-ticket"))
    assert answer["statusCode"] == 201
    return str(body(answer)["ticket"])


def connections(stack: Stack) -> int:
    return stack.item_count(resources.CONNECTIONS)


def test_a_ticket_opens_one_connection_once(stack: Stack) -> None:
    issued = ticket()
    assert ws.handler(ws_event("$connect", "c1", query={"ticket": issued}))["statusCode"] == 200
    assert connections(stack) == 1
    reused = ws.handler(ws_event("$connect", "c2", query={"ticket": issued}))
    assert reused["statusCode"] == 401
    assert body(reused)["error"]["code"] == "unauthorized"
    assert connections(stack) == 1


def test_connect_without_a_valid_ticket_is_refused(stack: Stack) -> None:
    expired, _ = Tickets(
        aws.dynamodb(), resources.TICKETS.physical_name(DEPLOYMENT), clock=lambda: time.time() - 61
    ).issue(OWNER_SUB)
    for query in (
        None,
        {},
        {"ticket": ""},
        {"ticket": "short"},
        {"ticket": "x" * 43},
        {"ticket": expired},
        {"ticket": "ü" * 40},
    ):
        answer = ws.handler(ws_event("$connect", "c1", query=query))
        assert answer["statusCode"] == 401, query
    assert connections(stack) == 0


def test_two_connections_racing_with_one_ticket_get_one_socket(stack: Stack) -> None:
    issued = ticket()
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def connect(index: int) -> None:
        barrier.wait()
        answer = ws.handler(ws_event("$connect", f"c{index}", query={"ticket": issued}))
        statuses.append(answer["statusCode"])

    threads = [threading.Thread(target=connect, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [401] * 7


def test_disconnect_forgets_the_connection(stack: Stack) -> None:
    ws.handler(ws_event("$connect", "c1", query={"ticket": ticket()}))
    assert ws.handler(ws_event("$disconnect", "c1"))["statusCode"] == 200
    assert connections(stack) == 0


def test_ping_gets_pong(stack: Stack) -> None:
    answer = ws.handler(ws_event("$default", "c1", body={"type": "ping", "id": "p1"}))
    assert answer == {"statusCode": 200}
    assert stack.frames["c1"] == [{"type": "pong", "id": "p1"}]


def test_chat_send_is_acked_queued_recorded_and_wakes_the_agent(stack: Stack) -> None:
    frame = {"type": "chat.send", "id": "m1", "session": "web-1", "text": "hello <agent> & co"}
    assert ws.handler(ws_event("$default", "c1", body=frame))["statusCode"] == 200
    frames = stack.frames["c1"]
    assert frames[0] == {"type": "ack", "id": "m1"}
    assert frames[1]["type"] == "agent.status"
    assert (frames[1]["state"], frames[1]["phase"]) == ("Starting", "starting")
    assert len(frames) == 2

    [queued] = stack.drain()
    assert (queued.channel, queued.session, queued.message_id, queued.text) == (
        "web",
        "web-1",
        "m1",
        "hello <agent> & co",
    )
    history = History(aws.dynamodb(), resources.CONVERSATIONS.physical_name(DEPLOYMENT))
    page = history.page("web-1")
    assert [(m.role, m.text) for m in page.messages] == [("user", "hello <agent> & co")]
    assert len(stack.tasks()) == 1


def test_a_resent_message_is_acked_again_but_queued_once(stack: Stack) -> None:
    frame = {"type": "chat.send", "id": "m1", "session": "web-1", "text": "hello"}
    ws.handler(ws_event("$default", "c1", body=frame))
    # The browser reconnected and resends what it saw no ack for.
    ws.handler(ws_event("$default", "c2", body=frame))
    assert stack.frames["c2"] == [{"type": "ack", "id": "m1"}]
    assert len(stack.drain()) == 1
    assert len(stack.run_task_calls) == 1


def test_resume_reports_the_agent_status(stack: Stack) -> None:
    ws.handler(ws_event("$default", "c1", body={"type": "resume", "id": "r1", "session": "s"}))
    [frame] = stack.frames["c1"]
    assert frame["type"] == "agent.status"
    assert frame["state"] == "Idle"


def test_bad_frames_get_an_error_frame_and_nothing_is_queued(stack: Stack) -> None:
    cases = [
        ("not json", "bad_request", None),
        ('{"type": "chat.send", "id": "m1", "session": "s"}', "bad_request", "m1"),
        (
            '{"type": "chat.send", "id": "bad id!", "session": "s", "text": "x"}',
            "bad_request",
            None,
        ),
        ('{"type": "shout", "id": "m2"}', "bad_request", "m2"),
        ("[1, 2]", "bad_request", None),
        (
            '{"type": "chat.send", "id": "m3", "session": "s", "text": "'
            + "x" * (MAX_TEXT_CHARS + 1)
            + '"}',
            "too_long",
            "m3",
        ),
    ]
    for index, (raw, code, frame_id) in enumerate(cases):
        connection = f"c{index}"
        answer = ws.handler(ws_event("$default", connection, raw_body=raw))
        assert answer == {"statusCode": 400}, raw[:40]
        [frame] = stack.frames[connection]
        assert (frame["type"], frame["code"], frame["id"]) == ("error", code, frame_id)
    empty = ws.handler(ws_event("$default", "c-empty"))
    assert empty == {"statusCode": 400}
    assert stack.queue_depth() == 0
    assert stack.run_task_calls == []


def test_a_gone_connection_is_forgotten_and_the_message_still_queued(stack: Stack) -> None:
    # moto accepts a post to any connection; only a stub can answer 410 Gone.
    ws.handler(ws_event("$connect", "gone-1", query={"ticket": ticket()}))
    client = aws.connections_api(stack.endpoint)
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "post_to_connection", service_error_code="GoneException", http_status_code=410
        )
        frame = {"type": "chat.send", "id": "m1", "session": "s", "text": "are you there?"}
        answer = ws.handler(ws_event("$default", "gone-1", body=frame))
        stubber.assert_no_pending_responses()
    assert answer == {"statusCode": 200}
    assert connections(stack) == 0, "a connection API Gateway calls gone is forgotten"
    assert [m.message_id for m in stack.drain()] == ["m1"]


def test_an_event_without_a_connection_id_is_a_bad_request(stack: Stack) -> None:
    assert ws.handler({"requestContext": {"routeKey": "$default"}})["statusCode"] == 400
    assert ws.handler({})["statusCode"] == 400
