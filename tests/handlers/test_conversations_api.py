"""Renaming and deleting conversations through the HTTP API (PUT/DELETE /api/conversations/…)."""

from __future__ import annotations

import time
from typing import Any

from openclaw_deploy.handlers import api
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.contract import QueueMessage, ReplyTarget
from openclaw_deploy.runtime.history import History
from tests.handlers.conftest import DEPLOYMENT, Stack
from tests.handlers.events import body, http_event


def call(method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    answer = api.handler(http_event(method, path, **kwargs))
    return int(answer["statusCode"]), body(answer)


def history() -> History:
    return History(aws.dynamodb(), resources.CONVERSATIONS.physical_name(DEPLOYMENT))


def talk(session: str, count: int, *, start: float = 1_764_000_000.0) -> None:
    store = history()
    for index in range(count):
        msg = QueueMessage(
            channel="web",
            session=session,
            message_id=f"{session}-m{index}",
            text=f"question {index}",
            received_at=start + index,
            reply=ReplyTarget(),
        )
        store.record_user(msg)
        store.record_reply(msg, f"answer {index}")


def test_a_renamed_conversation_keeps_its_title_when_new_messages_come(stack: Stack) -> None:
    talk("web-a", 1)
    status, answer = call("PUT", "/api/conversations/web-a", body={"title": "  Trip planning  "})
    assert status == 200
    assert answer["conversation"]["title"] == "Trip planning"
    talk("web-a", 1, start=time.time())  # a later message does not take the title back
    [listed] = call("GET", "/api/conversations")[1]["conversations"]
    assert (listed["session"], listed["title"]) == ("web-a", "Trip planning")


def test_renaming_refuses_a_bad_title_or_an_unknown_conversation(stack: Stack) -> None:
    talk("web-a", 1)
    for bad in ({"title": "   "}, {"title": 5}, {}, {"title": "x" * 201}):
        status, answer = call("PUT", "/api/conversations/web-a", body=bad)
        assert (status, answer["error"]["field"]) == (400, "title")
    assert call("PUT", "/api/conversations/web-nobody", body={"title": "x"})[0] == 404
    assert call("PUT", "/api/conversations/bad%20id", body={"title": "x"})[0] == 400
    assert call("GET", "/api/conversations")[1]["conversations"][0]["title"] == "question 0"
    assert stack.item_count(resources.CONVERSATIONS) == 3  # nothing was created


def test_delete_removes_the_conversation_and_every_history_row_and_only_those(
    stack: Stack,
) -> None:
    talk("web-a", 30)  # 60 rows: more than one batch of deletes
    talk("web-b", 2)
    history().remember_draft(
        QueueMessage(
            channel="telegram",
            session="web-a",
            message_id="x",
            text="t",
            received_at=1.0,
            reply=ReplyTarget(chat_id=1),
        ),
        [5],
    )

    status, _ = call("DELETE", "/api/conversations/web-a")

    assert status == 204
    sessions = [c["session"] for c in call("GET", "/api/conversations")[1]["conversations"]]
    assert sessions == ["web-b"]
    assert history().page("web-a").messages == []
    assert len(history().page("web-b").messages) == 4
    assert stack.item_count(resources.CONVERSATIONS) == 5  # web-b's 4 rows and its entry
    assert call("DELETE", "/api/conversations/web-a")[0] == 204  # gone already: still fine
