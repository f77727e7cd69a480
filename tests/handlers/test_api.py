"""The HTTP API routes (docs/protocol.md), called with HTTP API v2.0 events."""

from __future__ import annotations

import time
from typing import Any

import pytest

from openclaw_deploy.handlers import api
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.contract import QueueMessage, ReplyTarget
from openclaw_deploy.runtime.history import History
from openclaw_deploy.runtime.lifecycle import Lifecycle
from openclaw_deploy.runtime.pairing import Pairing
from tests.handlers.conftest import DEPLOYMENT, WS_URL, Stack
from tests.handlers.events import body, http_event


def call(method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    answer = api.handler(http_event(method, path, **kwargs))
    return int(answer["statusCode"]), body(answer)


def history() -> History:
    return History(aws.dynamodb(), resources.CONVERSATIONS.physical_name(DEPLOYMENT))


def test_requests_without_the_authorizers_user_are_refused(stack: Stack) -> None:
    status, answer = call("GET", "/api/agent", sub=None)
    assert (status, answer["error"]["code"]) == (401, "unauthorized")
    status, _ = call("GET", "/api/agent", sub="")
    assert status == 401


def test_unknown_routes_and_methods(stack: Stack) -> None:
    assert call("GET", "/api/nothing-here")[0] == 404
    assert call("GET", "/elsewhere")[0] == 404
    answer = api.handler(http_event("DELETE", "/api/settings"))
    assert answer["statusCode"] == 405
    assert answer["headers"]["Allow"] == "GET, PUT"
    assert call("POST", "/api/conversations")[0] == 405


def test_ws_ticket(stack: Stack) -> None:
    status, answer = call("POST", "/api/ws-ticket")
    assert status == 201
    assert answer["url"] == WS_URL
    assert len(answer["ticket"]) >= 32
    assert answer["expiresAt"] > 0
    first = answer["ticket"]
    assert call("POST", "/api/ws-ticket")[1]["ticket"] != first


def test_settings_defaults_validation_and_save(stack: Stack) -> None:
    status, answer = call("GET", "/api/settings")
    assert status == 200
    assert answer == {
        "provider": None,
        "model": None,
        "baseUrl": None,
        "idleTimeoutMinutes": 15,
        "browser": False,
        "updatedAt": None,
    }

    stack.client("ssm").put_parameter(
        Name=f"{resources.keys_path(DEPLOYMENT)}/anthropic",
        Value="sk-ant-test",
        Type="SecureString",
    )
    status, answer = call(
        "PUT", "/api/settings", body={"provider": "anthropic", "model": "claude-sonnet-4-5"}
    )
    assert status == 200
    assert (answer["provider"], answer["model"], answer["idleTimeoutMinutes"]) == (
        "anthropic",
        "claude-sonnet-4-5",
        15,
    )
    status, answer = call("PUT", "/api/settings", body={"idleTimeoutMinutes": 30})
    assert (status, answer["model"], answer["idleTimeoutMinutes"]) == (200, "claude-sonnet-4-5", 30)
    assert call("GET", "/api/settings")[1]["idleTimeoutMinutes"] == 30
    # The browser switch (web settings, `config set browser`): kept with the rest.
    status, answer = call("PUT", "/api/settings", body={"browser": True})
    assert (status, answer["browser"], answer["idleTimeoutMinutes"]) == (200, True, 30)
    assert call("GET", "/api/settings")[1]["browser"] is True


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"provider": "skynet", "model": "x"}, "provider"),
        ({"provider": "openai"}, "model"),
        ({"model": "has spaces"}, "model"),
        ({"idleTimeoutMinutes": 0}, "idleTimeoutMinutes"),
        ({"idleTimeoutMinutes": 241}, "idleTimeoutMinutes"),
        ({"idleTimeoutMinutes": 2.5}, "idleTimeoutMinutes"),
        ({"idleTimeoutMinutes": True}, "idleTimeoutMinutes"),
        ({"idleTimeoutMinutes": "15"}, "idleTimeoutMinutes"),
        ({"colour": "blue"}, "colour"),
        ({"browser": "yes"}, "browser"),
    ],
)
def test_settings_refuse_bad_values_naming_the_field(
    stack: Stack, changes: dict[str, Any], field: str
) -> None:
    status, answer = call("PUT", "/api/settings", body=changes)
    assert status == 400
    assert answer["error"]["field"] == field
    assert call("GET", "/api/settings")[1]["updatedAt"] is None, "nothing was saved"


def test_settings_refuse_bodies_that_are_not_objects(stack: Stack) -> None:
    for raw in ("", "nope", "[1]", "null", "NaN"):
        status, answer = call("PUT", "/api/settings", raw_body=raw)
        assert status == 400, raw
        assert answer["error"]["code"] == "bad_request"


def _message(session: str, index: int) -> QueueMessage:
    return QueueMessage(
        channel="web",
        session=session,
        message_id=f"m{index}",
        text=f"message {index}",
        received_at=1_764_140_000 + index,
    )


@pytest.mark.parametrize(("limit", "pages"), [("1", 5), ("3", 3), ("4", 3), ("50", 1)])
def test_conversations_and_paging_through_one(stack: Stack, limit: str, pages: int) -> None:
    for index in range(5):
        msg = _message("chat-a", index)
        history().record_user(msg)
        history().record_reply(msg, f"reply {index}")
    later = QueueMessage(
        channel="telegram",
        session="chat-b",
        message_id="tg-1",
        text="later",
        received_at=time.time() + 60,
        reply=ReplyTarget(chat_id=1),
    )
    history().record_user(later)

    status, answer = call("GET", "/api/conversations")
    assert status == 200
    assert [c["session"] for c in answer["conversations"]] == ["chat-b", "chat-a"]
    assert answer["conversations"][1]["title"] == "message 0"

    texts: list[str] = []
    cursor = None
    seen = 0
    while True:
        query = {"limit": limit} | ({"before": cursor} if cursor else {})
        status, answer = call("GET", "/api/conversations/chat-a/messages", query=query)
        assert status == 200
        texts = [m["text"] for m in answer["messages"]] + texts
        seen += 1
        cursor = answer["next"]
        if cursor is None:
            break
    assert seen == pages, "a page never splits a message from its reply"
    expected = [text for i in range(5) for text in (f"message {i}", f"reply {i}")]
    assert texts == expected
    assert call("GET", "/api/conversations/nobody/messages")[1] == {"messages": [], "next": None}


@pytest.mark.parametrize(
    "query",
    [{"limit": "0"}, {"limit": "201"}, {"limit": "ten"}, {"before": "not-a-cursor"}],
)
def test_paging_refuses_bad_parameters(stack: Stack, query: dict[str, str]) -> None:
    assert call("GET", "/api/conversations/chat-a/messages", query=query)[0] == 400


def test_agent_status_start_and_stop(stack: Stack) -> None:
    status, answer = call("GET", "/api/agent")
    assert (status, answer["state"]) == (200, "Idle")
    assert "taskArn" not in answer

    status, answer = call("POST", "/api/agent/start")
    assert (status, answer["state"], answer["phase"]) == (202, "Starting", "starting")
    assert call("POST", "/api/agent/start")[0] == 202
    assert len(stack.run_task_calls) == 1

    status, answer = call("POST", "/api/agent/stop")
    assert (status, answer["state"], answer["lastStopReason"]) == (
        202,
        "Stopping",
        "stopped by the owner",
    )
    assert stack.tasks()[0]["desiredStatus"] == "STOPPED"
    arn = stack.tasks()[0]["taskArn"]
    Lifecycle(aws.dynamodb(), resources.TASK_STATE.physical_name(DEPLOYMENT)).mark_idle(
        arn, "stopped by the owner"
    )
    assert call("POST", "/api/agent/stop")[0] == 200, "stopping a sleeping agent is a no-op"


def test_stopping_while_the_task_is_not_yet_recorded_is_a_conflict(stack: Stack) -> None:
    assert Lifecycle(
        aws.dynamodb(), resources.TASK_STATE.physical_name(DEPLOYMENT)
    ).try_begin_start()
    status, answer = call("POST", "/api/agent/stop")
    assert (status, answer["error"]["code"]) == (409, "conflict")


def test_a_failed_start_is_reported(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(resources.ENV_TASK_DEFINITION, "missing")
    status, answer = call("POST", "/api/agent/start")
    assert (status, answer["error"]["code"]) == (502, "agent_failed")
    assert call("GET", "/api/agent")[1]["state"] == "Idle"


def test_pairing_routes(stack: Stack) -> None:
    status, answer = call("POST", "/api/pairing/code")
    assert status == 201
    assert len(answer["code"]) == 8 and answer["expiresAt"] > 0

    pairing = Pairing(aws.dynamodb(), resources.PAIRING.physical_name(DEPLOYMENT))
    request = pairing.request(555, "Grace", 555)
    assert request is not None
    status, answer = call("GET", "/api/pairing")
    assert status == 200
    assert [p["code"] for p in answer["pending"]] == [request.code]
    assert answer["paired"] == []

    assert call("POST", "/api/pairing/ABCDEFGH/approve")[0] == 404
    assert call("POST", "/api/pairing/not-a-code/approve")[0] == 400
    status, answer = call("POST", f"/api/pairing/{request.code}/approve")
    assert (status, answer["userId"], answer["name"]) == (200, "555", "Grace")
    assert call("POST", f"/api/pairing/{request.code}/approve")[0] == 404, "single use"
    assert [u["userId"] for u in call("GET", "/api/pairing")[1]["paired"]] == ["555"]

    assert call("DELETE", "/api/pairing/555")[0] == 204
    assert call("DELETE", "/api/pairing/555")[0] == 404
    assert not pairing.is_paired(555)


def test_the_api_function_does_not_serve_the_telegram_webhook(stack: Stack) -> None:
    """`POST /telegram` is routed to the telegram function, whose role may enqueue; the api
    function's role may not, so it must never handle a webhook itself."""
    answer = api.handler(http_event("POST", "/telegram", sub=None, body={"update_id": 1}))
    assert answer["statusCode"] == 404
    assert stack.drain() == []


def test_an_aws_outage_is_a_503_without_details(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(resources.SETTINGS.env_var, "no-such-table")
    status, answer = call("GET", "/api/settings")
    assert status == 503
    assert "no-such-table" not in str(answer)
