"""`chat.stop`: the owner's Stop reaches the bridge while the session's turn holds its group."""

from __future__ import annotations

from openclaw_deploy.handlers import ws
from openclaw_deploy.runtime.contract import StopRequest
from tests.handlers.conftest import Stack
from tests.handlers.events import ws_event


def _receive(stack: Stack, most: int = 10) -> list[dict[str, object]]:
    answer = stack.client("sqs").receive_message(
        QueueUrl=stack.queue_url,
        MaxNumberOfMessages=most,
        WaitTimeSeconds=0,
        MessageSystemAttributeNames=["MessageGroupId"],
    )
    return list(answer.get("Messages", []))


def test_a_stop_is_delivered_while_the_stopped_message_is_in_flight(stack: Stack) -> None:
    send = {"type": "chat.send", "id": "m1", "session": "web-1", "text": "count to a million"}
    ws.handler(ws_event("$default", "c1", body=send))
    later = {"type": "chat.send", "id": "m2", "session": "web-1", "text": "and then?"}
    ws.handler(ws_event("$default", "c1", body=later))
    [taken] = _receive(stack, 1)  # the bridge holds m1: the session's group is in flight
    assert '"m1"' in str(taken["Body"])

    stop = {"type": "chat.stop", "id": "m1", "session": "web-1"}
    answer = ws.handler(ws_event("$default", "c1", body=stop))

    assert answer == {"statusCode": 200}
    [delivered] = _receive(stack)  # m2 still waits behind m1; the stop does not
    request = StopRequest.from_json(str(delivered["Body"]))
    assert request == StopRequest(session="web-1", message_id="m1")
    attributes = delivered["Attributes"]
    assert isinstance(attributes, dict)
    assert attributes["MessageGroupId"] != "web-1"
    assert stack.frames["c1"][-1]["type"] == "agent.status"  # nothing more said for the stop


def test_pressing_stop_twice_queues_one_stop(stack: Stack) -> None:
    stop = {"type": "chat.stop", "id": "m1", "session": "web-1"}
    ws.handler(ws_event("$default", "c1", body=stop))
    ws.handler(ws_event("$default", "c1", body=stop))
    assert len(_receive(stack)) == 1


def test_a_stop_without_a_session_is_refused_and_queues_nothing(stack: Stack) -> None:
    answer = ws.handler(ws_event("$default", "c1", body={"type": "chat.stop", "id": "m1"}))
    assert answer == {"statusCode": 400}
    [frame] = stack.frames["c1"]
    assert (frame["type"], frame["id"], frame["code"]) == ("error", "m1", "bad_request")
    assert stack.queue_depth() == 0


def test_a_chat_message_is_never_read_as_a_stop() -> None:
    body = '{"v":1,"channel":"web","session":"s","message_id":"m","text":"stop","stop":1}'
    assert StopRequest.from_json(body) is None
    assert StopRequest.from_json('{"v":1,"channel":"web","text":"\\"stop\\""}') is None
