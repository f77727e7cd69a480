"""The API function (the web app's Schedules page) may add, change and remove only the owner's
schedules (`s-*` in the deployment's group) and hand them the scheduler's role, only to
Scheduler; it is told what a schedule names and what a task hour costs."""

from __future__ import annotations

import json
from typing import Any

from openclaw_deploy.runtime import schedule_plan, schedules
from tests.infra.conftest import NAME, Synthesized
from tests.infra.test_schedules import _policy_statements, _scheduler_role


def _api() -> str:
    return "FunctionsApi"


def _api_role_id(synthesized: Synthesized) -> str:
    (found,) = [i for i in synthesized.of_type("AWS::IAM::Role") if i.startswith("FunctionsApi")]
    return found


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_the_api_changes_only_the_owners_schedules(synthesized: Synthesized) -> None:
    statements = _policy_statements(synthesized, _api_role_id(synthesized))
    writes = [
        s
        for s in statements
        if any(a in ("scheduler:CreateSchedule", "scheduler:UpdateSchedule") for a in _actions(s))
    ]
    (statement,) = writes
    assert sorted(_actions(statement)) == [
        "scheduler:CreateSchedule",
        "scheduler:DeleteSchedule",
        "scheduler:UpdateSchedule",
    ]
    resource = json.dumps(statement["Resource"])
    assert f":schedule/{schedules.group_name(NAME)}/{schedules.OWNER_PREFIX}*" in resource
    assert schedules.AGENT_PREFIX not in resource


def test_the_api_passes_only_the_scheduler_role_to_scheduler(synthesized: Synthesized) -> None:
    scheduler_role_id, _ = _scheduler_role(synthesized)
    statements = _policy_statements(synthesized, _api_role_id(synthesized))
    to_scheduler = [
        s
        for s in statements
        if "iam:PassRole" in _actions(s)
        and s["Condition"]["StringEquals"]["iam:PassedToService"] == "scheduler.amazonaws.com"
    ]
    (statement,) = to_scheduler
    assert statement["Resource"] == {"Fn::GetAtt": [scheduler_role_id, "Arn"]}


def test_the_api_knows_what_a_schedule_names_and_costs(synthesized: Synthesized) -> None:
    (function,) = [
        f for i, f in synthesized.of_type("AWS::Lambda::Function").items() if i.startswith(_api())
    ]
    environment = function["Properties"]["Environment"]["Variables"]
    for key in (schedules.ENV_GROUP, schedules.ENV_TARGET_ARN, schedules.ENV_ROLE_ARN):
        assert key in environment
    assert float(environment[schedule_plan.ENV_TASK_HOUR_USD]) > 0
