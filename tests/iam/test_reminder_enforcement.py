"""The agent's wake-up under the task role, as the local target (and AWS) authorizes it: the
task may create, replace and remove `agent-*` schedules in its group, handing them only the
scheduler's role; an owner's schedule, or another role, is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openclaw_bridge.reminders import WAKE_NAME, Job, Target, leave_wake_up
from openclaw_deploy.runtime import schedules
from tests.conftest import ACCOUNT, REGION
from tests.iam.conftest import NAME, Enforced

NOW = 1_796_044_000.0


def _names() -> schedules.Names:
    return schedules.Names.of(NAME, account=ACCOUNT, region=REGION)


def _definition(name: str, role_arn: str) -> dict[str, Any]:
    names = _names()
    firing = schedules.Firing(schedule=name, title="t", text="x", to="web", owner="agent")
    return {
        "Name": name,
        "GroupName": names.group,
        "ScheduleExpression": "at(2030-01-01T00:00:00)",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {**schedules.target(names, firing), "RoleArn": role_arn},
    }


@pytest.fixture
def task_scheduler(enforced: Enforced) -> Any:
    enforced.client("scheduler").create_schedule_group(Name=_names().group)
    return enforced.client("scheduler", "task")


def test_the_task_leaves_replaces_and_removes_its_wake_up(
    enforced: Enforced, task_scheduler: Any
) -> None:
    job = Job(id="j", name="call the bank", session="tg-1", next_run_ms=int((NOW + 3600) * 1000))
    for _ in range(2):  # created, then replaced
        leave_wake_up(
            task_scheduler, _names(), [job], target_of=lambda s: Target(channel="web"), now=NOW
        )
    leave_wake_up(task_scheduler, _names(), [], target_of=lambda s: Target(channel="web"), now=NOW)
    decisions = [json.loads(line) for line in enforced.audit.read_text().splitlines()]
    actions = {
        (d["action"], d["decision"]) for d in decisions if d["action"].startswith("scheduler:")
    }
    assert ("scheduler:CreateSchedule", "Allowed") in actions
    assert ("scheduler:UpdateSchedule", "Allowed") in actions
    assert ("scheduler:DeleteSchedule", "Allowed") in actions
    passed = [d for d in decisions if d["action"] == "iam:PassRole"]
    assert passed and all(d["decision"] == "Allowed" for d in passed)
    assert {d["resource"] for d in passed} == {_names().role_arn}
    assert all(d["context"] == {"iam:PassedToService": "scheduler.amazonaws.com"} for d in passed)
    listed = enforced.client("scheduler").list_schedules(GroupName=_names().group)["Schedules"]
    assert listed == []


def test_the_task_may_not_touch_an_owners_schedule(task_scheduler: Any) -> None:
    with pytest.raises(ClientError) as raised:
        task_scheduler.create_schedule(**_definition("s-1a2b3c4d", _names().role_arn))
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "scheduler:CreateSchedule" in raised.value.response["Error"]["Message"]


def test_the_task_may_not_hand_a_wake_up_another_role(
    enforced: Enforced, task_scheduler: Any
) -> None:
    other = enforced.identity("task").role.arn
    with pytest.raises(ClientError) as raised:
        task_scheduler.create_schedule(**_definition(WAKE_NAME, other))
    assert "iam:PassRole" in raised.value.response["Error"]["Message"]
