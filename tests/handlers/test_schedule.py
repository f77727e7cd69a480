"""The schedule target against the moto server: a firing is queued once in its own session for
the chosen channel, wakes the agent, names its web conversation and leaves its last run."""

from __future__ import annotations

import json

import pytest

from openclaw_deploy.handlers import schedule
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.history import History
from openclaw_deploy.runtime.pairing import Pairing
from openclaw_deploy.runtime.schedules import Firing
from tests.handlers.conftest import DEPLOYMENT, Stack

OWNER_CHAT = 4242
WHEN = "2026-12-01T07:00:00Z"


def _firing(**changes: object) -> dict[str, object]:
    firing = Firing(
        schedule="s-0a1b2c3d", title="Morning news", text="Summarise the news", to="web"
    )
    data = json.loads(firing.to_json())
    data["scheduled_time"] = WHEN
    data.update(changes)
    return data


def _pair() -> None:
    pairing = Pairing(aws.dynamodb(), resources.PAIRING.physical_name(DEPLOYMENT))
    code = pairing.create_code()
    assert pairing.redeem(code.code, "77", "Owner", OWNER_CHAT) is not None


def test_a_web_firing_is_queued_in_its_own_named_session_and_wakes_the_agent(stack: Stack) -> None:
    answer = schedule.handler(_firing(), None)

    assert answer["status"] == "queued"
    (msg,) = stack.drain()
    assert (msg.channel, msg.session, msg.text) == ("web", "sched-s-0a1b2c3d", "Summarise the news")
    assert msg.reply.chat_id is None
    assert len(stack.run_task_calls) == 1
    history = History(aws.dynamodb(), resources.CONVERSATIONS.physical_name(DEPLOYMENT))
    (conversation,) = history.list_conversations()
    assert conversation.session == "sched-s-0a1b2c3d"
    assert conversation.title == "⏰ Morning news"
    run = schedule.runs().all()["s-0a1b2c3d"]
    assert (run.outcome, run.runs) == ("queued", 1)


def test_a_retried_firing_is_not_asked_twice(stack: Stack) -> None:
    assert schedule.handler(_firing(), None)["status"] == "queued"
    assert schedule.handler(_firing(), None)["status"] == "duplicate"
    assert len(stack.drain()) == 1
    assert schedule.runs().all()["s-0a1b2c3d"].runs == 1


def test_the_next_firing_is_a_new_message(stack: Stack) -> None:
    schedule.handler(_firing(), None)
    schedule.handler(_firing(scheduled_time="2026-12-02T07:00:00Z"), None)
    assert len(stack.drain()) == 2
    assert schedule.runs().all()["s-0a1b2c3d"].runs == 2


def test_a_telegram_firing_goes_to_the_owners_paired_chat(stack: Stack) -> None:
    _pair()
    schedule.handler(_firing(to="telegram"), None)
    (msg,) = stack.drain()
    assert (msg.channel, msg.reply.chat_id) == ("telegram", OWNER_CHAT)


def test_a_telegram_firing_without_a_paired_chat_fails_clearly_and_queues_nothing(
    stack: Stack,
) -> None:
    answer = schedule.handler(_firing(to="telegram"), None)
    assert answer["status"] == "failed"
    assert "pair" in answer["error"]
    assert stack.drain() == []
    assert stack.run_task_calls == []
    assert schedule.runs().all()["s-0a1b2c3d"].outcome == "failed"


def test_the_agents_wake_up_only_wakes_the_agent(stack: Stack) -> None:
    answer = schedule.handler(_firing(schedule="agent-0a1b2c3d", owner="agent"), None)
    assert answer["status"] == "woken"
    assert stack.drain() == []
    assert len(stack.run_task_calls) == 1


def test_run_now_without_a_scheduled_time_still_queues(stack: Stack) -> None:
    data = _firing()
    del data["scheduled_time"]
    assert schedule.handler(data, None)["status"] == "queued"
    (msg,) = stack.drain()
    assert msg.message_id.startswith("s-0a1b2c3d.run-")


@pytest.mark.parametrize(
    "event",
    [
        "not json",
        {"v": 1, "schedule": "../etc", "text": "x", "to": "web"},
        {"v": 1, "schedule": "s-0a1b2c3d", "text": "", "to": "web"},
        {"v": 1, "schedule": "s-0a1b2c3d", "text": "x", "to": "sms"},
        {"v": 2, "schedule": "s-0a1b2c3d", "text": "x", "to": "web"},
    ],
)
def test_a_firing_it_cannot_read_is_dropped_not_retried(stack: Stack, event: object) -> None:
    assert schedule.handler(event, None)["status"] == "dropped"
    assert stack.drain() == []


def test_the_schedules_page_lists_them_with_next_and_last_run(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openclaw_deploy.handlers import api
    from openclaw_deploy.runtime import schedules
    from tests.handlers.events import http_event

    group = schedules.group_name(DEPLOYMENT)
    monkeypatch.setenv(schedules.ENV_GROUP, group)
    scheduler = stack.client("scheduler")
    scheduler.create_schedule_group(Name=group)
    names = schedules.Names.of(DEPLOYMENT, account="123456789012", region="us-east-1")
    for name, expression in (
        ("s-0a1b2c3d", "cron(0 8 ? * MON-FRI *)"),
        ("agent-0a1b2c3d", "at(2099-01-01T09:00:00)"),
    ):
        firing = Firing(schedule=name, title="Morning news", text="Summarise", to="telegram")
        scheduler.create_schedule(
            Name=name,
            GroupName=group,
            ScheduleExpression=expression,
            ScheduleExpressionTimezone="Europe/Berlin",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target=schedules.target(names, firing),
        )
    schedule.runs().record("s-0a1b2c3d", "answered")

    answer = api.handler(http_event("GET", "/api/schedules"), None)

    assert answer["statusCode"] == 200
    owner, agent = json.loads(answer["body"])["schedules"]
    assert (owner["id"], owner["kind"], owner["to"]) == ("s-0a1b2c3d", "owner", "telegram")
    assert owner["nextRun"].endswith(("+01:00", "+02:00"))
    assert (owner["outcome"], owner["runs"]) == ("answered", 1)
    assert owner["lastRun"] is not None
    assert (agent["kind"], agent["nextRun"]) == ("agent", "2099-01-01T09:00:00+01:00")
    assert agent["lastRun"] is None


def test_the_schedules_page_needs_a_signed_in_owner(stack: Stack) -> None:
    from openclaw_deploy.handlers import api
    from tests.handlers.events import http_event

    answer = api.handler(http_event("GET", "/api/schedules", sub=None), None)
    assert answer["statusCode"] == 401
