"""The Schedules page's calls under the API function's role, as the local target (and AWS)
authorizes them: it adds, pauses, runs and removes the owner's `s-*` schedules, handing them only
the scheduler's role; the agent's wake-ups, or another role, are refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openclaw_deploy.runtime import schedule_plan, schedules
from tests.conftest import ACCOUNT, REGION
from tests.iam.conftest import Enforced
from tests.infra.conftest import NAME

NOW = 1_796_044_000.0


def _names() -> schedules.Names:
    return schedules.Names.of(NAME, account=ACCOUNT, region=REGION)


def _plan() -> schedule_plan.Plan:
    wanted = schedule_plan.Request(
        when="every day at 08:00", at=None, say="Hello", to="web", timezone="UTC"
    )
    return schedule_plan.check(wanted, now=NOW, idle_minutes=15, hour_usd=0.05)


@pytest.fixture
def api_scheduler(enforced: Enforced) -> Any:
    enforced.client("scheduler").create_schedule_group(Name=_names().group)
    return enforced.client("scheduler", "api")


def test_the_api_adds_pauses_runs_and_removes_an_owners_schedule(
    enforced: Enforced, api_scheduler: Any
) -> None:
    plan = _plan()
    name = plan.firing.schedule
    group = _names().group
    schedule_plan.create(api_scheduler, _names(), plan)
    detail = api_scheduler.get_schedule(Name=name, GroupName=group)
    schedule_plan.set_state(api_scheduler, group, detail, enabled=False)
    schedules.create_once(
        api_scheduler,
        _names(),
        name=f"{name}-run-1",
        at="at(2030-01-01T00:00:00)",
        firing=plan.firing,
        description="run now",
    )
    for each in (name, f"{name}-run-1"):
        api_scheduler.delete_schedule(Name=each, GroupName=group)

    decisions = [json.loads(line) for line in enforced.audit.read_text().splitlines()]
    scheduler = {d["action"] for d in decisions if d["action"].startswith("scheduler:")}
    assert scheduler >= {
        "scheduler:CreateSchedule",
        "scheduler:GetSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:DeleteSchedule",
    }
    assert all(
        d["decision"] == "Allowed" for d in decisions if d["action"].startswith("scheduler:")
    )
    passed = [d for d in decisions if d["action"] == "iam:PassRole"]
    assert passed and all(d["decision"] == "Allowed" for d in passed)
    assert {d["resource"] for d in passed} == {_names().role_arn}
    assert all(d["context"] == {"iam:PassedToService": "scheduler.amazonaws.com"} for d in passed)


def test_the_api_may_not_touch_the_agents_wake_ups(api_scheduler: Any) -> None:
    firing = schedules.Firing(schedule="agent-0a1b2c3d", title="t", text="x", to="web")
    with pytest.raises(ClientError) as raised:
        schedules.create_once(
            api_scheduler,
            _names(),
            name="agent-0a1b2c3d",
            at="at(2030-01-01T00:00:00)",
            firing=firing,
            description="wake",
        )
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "scheduler:CreateSchedule" in raised.value.response["Error"]["Message"]


def test_the_api_may_not_hand_a_schedule_another_role(
    enforced: Enforced, api_scheduler: Any
) -> None:
    other = schedules.Names(
        group=_names().group,
        target_arn=_names().target_arn,
        role_arn=enforced.identity("api").role.arn,
        dead_letter_arn=_names().dead_letter_arn,
    )
    with pytest.raises(ClientError) as raised:
        schedule_plan.create(api_scheduler, other, _plan())
    assert "iam:PassRole" in raised.value.response["Error"]["Message"]
