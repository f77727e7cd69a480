"""The agent task may leave its own wake-ups (schedules `agent-*` in the deployment's group) and
hand them the scheduler's role, nothing more; its container is told the names a wake-up needs."""

from __future__ import annotations

import json
from typing import Any

from openclaw_deploy.runtime import schedules
from tests.infra.conftest import NAME, Synthesized
from tests.infra.test_schedules import _policy_statements, _scheduler_role


def _task_role_id(synthesized: Synthesized) -> str:
    (found,) = [
        logical_id
        for logical_id, role in synthesized.of_type("AWS::IAM::Role").items()
        if str(role["Properties"].get("Description", "")).startswith("The OpenClaw agent task")
    ]
    return found


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_the_task_may_manage_only_the_agents_own_wake_ups(synthesized: Synthesized) -> None:
    statements = _policy_statements(synthesized, _task_role_id(synthesized))
    scheduler = [s for s in statements if any(a.startswith("scheduler:") for a in _actions(s))]
    assert len(scheduler) == 1
    (statement,) = scheduler
    assert sorted(_actions(statement)) == [
        "scheduler:CreateSchedule",
        "scheduler:DeleteSchedule",
        "scheduler:GetSchedule",
        "scheduler:UpdateSchedule",
    ]
    resource = json.dumps(statement["Resource"])
    assert f":schedule/{schedules.group_name(NAME)}/{schedules.AGENT_PREFIX}*" in resource
    assert f"/{schedules.OWNER_PREFIX}" not in resource


def test_the_task_may_pass_only_the_scheduler_role_and_only_to_scheduler(
    synthesized: Synthesized,
) -> None:
    scheduler_role_id, _ = _scheduler_role(synthesized)
    statements = _policy_statements(synthesized, _task_role_id(synthesized))
    passes = [s for s in statements if "iam:PassRole" in _actions(s)]
    assert len(passes) == 1
    (statement,) = passes
    assert statement["Resource"] == {"Fn::GetAtt": [scheduler_role_id, "Arn"]}
    assert statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
    }


def test_the_container_knows_where_its_wake_up_goes(synthesized: Synthesized) -> None:
    (definition,) = synthesized.of_type("AWS::ECS::TaskDefinition").values()
    (container,) = definition["Properties"]["ContainerDefinitions"]
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert environment[schedules.ENV_GROUP] == schedules.group_name(NAME)
    scheduler_role_id, _ = _scheduler_role(synthesized)
    assert environment[schedules.ENV_ROLE_ARN] == {"Fn::GetAtt": [scheduler_role_id, "Arn"]}
    for name in (schedules.ENV_TARGET_ARN, schedules.ENV_DLQ_ARN):
        assert environment[name], name
