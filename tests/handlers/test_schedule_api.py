"""The Schedules page's actions against the moto server: add (checked as `schedule add` checks),
pause/resume, remove and run now; the agent's own wake-ups are shown but not changed."""

from __future__ import annotations

from typing import Any

import pytest

from openclaw_deploy.handlers import api
from openclaw_deploy.runtime import schedule_plan, schedules
from openclaw_deploy.runtime.schedules import Firing
from tests.handlers.conftest import DEPLOYMENT, Stack
from tests.handlers.events import body, http_event

ACCOUNT = "123456789012"
REGION = "us-east-1"


@pytest.fixture
def group(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> str:
    names = schedules.Names.of(DEPLOYMENT, account=ACCOUNT, region=REGION)
    for key, value in names.environment().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv(schedule_plan.ENV_TASK_HOUR_USD, "0.05")
    stack.client("scheduler").create_schedule_group(Name=names.group)
    return names.group


def call(method: str, path: str, payload: Any = None) -> tuple[int, Any]:
    answer = api.handler(http_event(method, path, body=payload), None)
    return int(answer["statusCode"]), body(answer)


def names_in(stack: Stack, group: str) -> list[str]:
    page = stack.client("scheduler").list_schedules(GroupName=group)
    return sorted(s["Name"] for s in page["Schedules"])


def test_the_owner_adds_a_schedule_from_a_phrase(stack: Stack, group: str) -> None:
    status, answer = call(
        "POST",
        "/api/schedules",
        {
            "when": "every weekday at 08:00",
            "timezone": "Europe/Berlin",
            "say": "Summarise the news",
            "to": "telegram",
            "title": "Morning news",
        },
    )

    assert status == 201, answer
    created = answer["schedule"]
    assert (created["kind"], created["title"]) == ("owner", "Morning news")
    assert created["to"] == "telegram"
    assert (created["timezone"], created["state"]) == ("Europe/Berlin", "ENABLED")
    assert created["expression"].startswith("cron(")
    assert answer["cost"]["monthlyUsd"] >= 0
    detail = stack.client("scheduler").get_schedule(Name=created["id"], GroupName=group)
    firing = Firing.from_event(detail["Target"]["Input"])
    assert (firing.text, firing.to) == ("Summarise the news", "telegram")
    assert detail["Target"]["RoleArn"].endswith(f":role/{schedules.role_name(DEPLOYMENT)}")
    status, listed = call("GET", "/api/schedules")
    assert [s["id"] for s in listed["schedules"]] == [created["id"]]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"when": "whenever you like", "say": "x"}, "when"),
        ({"when": "cron(0 8 * * * *)", "say": "x"}, "when"),
        ({"at": "2001-01-01T08:00", "say": "x"}, "at"),
        ({"at": "not a date", "say": "x"}, "at"),
        ({"when": "every day at 08:00", "say": "x", "timezone": "Mars/Olympus"}, "timezone"),
        ({"when": "every day at 08:00", "say": "   "}, "say"),
        ({"when": "every day at 08:00", "say": "x", "to": "fax"}, "to"),
        ({"when": "rate(1 minute)", "say": "x"}, "when"),
        ({"say": "x"}, "when"),
    ],
)
def test_bad_input_is_refused_with_its_field_and_nothing_is_created(
    stack: Stack, group: str, payload: dict[str, str], field: str
) -> None:
    status, answer = call("POST", "/api/schedules", payload)

    assert (status, answer["error"]["field"]) == (400, field), answer
    assert answer["error"]["message"]
    assert names_in(stack, group) == []


def test_a_costly_schedule_shows_its_cost_and_needs_a_confirmation(
    stack: Stack, group: str
) -> None:
    wanted = {"when": "rate(1 hour)", "say": "Check the inbox", "to": "web"}

    status, answer = call("POST", "/api/schedules", wanted)
    assert (status, answer["error"]["code"]) == (409, "confirm_cost")
    assert answer["cost"]["monthlyUsd"] > 0
    assert names_in(stack, group) == []

    status, answer = call("POST", "/api/schedules", {**wanted, "confirm": True})
    assert status == 201
    assert names_in(stack, group) == [answer["schedule"]["id"]]


def _add(stack: Stack) -> str:
    status, answer = call(
        "POST", "/api/schedules", {"when": "every day at 08:00", "say": "Hello", "to": "web"}
    )
    assert status == 201
    return str(answer["schedule"]["id"])


def test_pause_and_resume(stack: Stack, group: str) -> None:
    schedule_id = _add(stack)

    status, answer = call("POST", f"/api/schedules/{schedule_id}/pause")
    assert (status, answer["schedule"]["state"], answer["schedule"]["nextRun"]) == (
        200,
        "DISABLED",
        None,
    )
    detail = stack.client("scheduler").get_schedule(Name=schedule_id, GroupName=group)
    assert detail["State"] == "DISABLED"
    assert Firing.from_event(detail["Target"]["Input"]).text == "Hello"

    status, answer = call("POST", f"/api/schedules/{schedule_id}/resume")
    assert (status, answer["schedule"]["state"]) == (200, "ENABLED")
    assert answer["schedule"]["nextRun"] is not None


def test_remove(stack: Stack, group: str) -> None:
    schedule_id = _add(stack)

    assert call("DELETE", f"/api/schedules/{schedule_id}")[0] == 204
    assert names_in(stack, group) == []
    assert call("DELETE", f"/api/schedules/{schedule_id}")[0] == 404


def test_run_now_leaves_a_one_time_firing_of_the_same_input(stack: Stack, group: str) -> None:
    schedule_id = _add(stack)

    status, answer = call("POST", f"/api/schedules/{schedule_id}/run")

    assert (status, answer["id"]) == (202, schedule_id)
    (once,) = [n for n in names_in(stack, group) if n != schedule_id]
    assert once.startswith(f"{schedule_id}-run-")
    detail = stack.client("scheduler").get_schedule(Name=once, GroupName=group)
    assert detail["ScheduleExpression"].startswith("at(")
    assert detail["ActionAfterCompletion"] == "DELETE"
    assert Firing.from_event(detail["Target"]["Input"]).schedule == schedule_id
    # The list shows the schedule, not its one-off run.
    assert [s["id"] for s in call("GET", "/api/schedules")[1]["schedules"]] == [schedule_id]


def test_the_agents_wake_ups_and_unknown_ids_are_not_changed(stack: Stack, group: str) -> None:
    names = schedules.Names.of(DEPLOYMENT, account=ACCOUNT, region=REGION)
    firing = Firing(schedule="agent-0a1b2c3d", title="wake", text="wake", to="web", owner="agent")
    schedules.create_once(
        stack.client("scheduler"),
        names,
        name="agent-0a1b2c3d",
        at="at(2099-01-01T09:00:00)",
        firing=firing,
        description="wake",
    )

    for method, path in (
        ("POST", "/api/schedules/agent-0a1b2c3d/pause"),
        ("POST", "/api/schedules/agent-0a1b2c3d/run"),
        ("DELETE", "/api/schedules/agent-0a1b2c3d"),
    ):
        assert call(method, path)[0] == 403
    assert call("POST", "/api/schedules/s-00000000/pause")[0] == 404
    assert names_in(stack, group) == ["agent-0a1b2c3d"]
