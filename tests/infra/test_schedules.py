"""The synthesized schedules: one Scheduler group per deployment (destroyed with the stack), a
role Scheduler acts with that may invoke only the schedule function, and a dead-letter queue."""

from __future__ import annotations

from typing import Any

from openclaw_deploy.infra.spec import function_name
from openclaw_deploy.runtime import schedules
from tests.infra.conftest import ACCOUNT, NAME, Synthesized


def _one(synthesized: Synthesized, kind: str) -> tuple[str, dict[str, Any]]:
    (found,) = synthesized.of_type(kind).items()
    return found


def _policy_statements(synthesized: Synthesized, role_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for resource in synthesized.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} in resource["Properties"]["Roles"]:
            found += resource["Properties"]["PolicyDocument"]["Statement"]
    return found


def _scheduler_role(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    for logical_id, role in synthesized.of_type("AWS::IAM::Role").items():
        if role["Properties"].get("RoleName") == schedules.role_name(NAME):
            return logical_id, role
    raise AssertionError("no scheduler role")


def test_one_schedule_group_per_deployment_deleted_with_the_stack(
    synthesized: Synthesized,
) -> None:
    _, group = _one(synthesized, "AWS::Scheduler::ScheduleGroup")
    assert group["Properties"]["Name"] == schedules.group_name(NAME)
    # Not retained: deleting the stack deletes the group, and the group its schedules.
    assert group.get("DeletionPolicy", "Delete") == "Delete"
    assert synthesized.of_type("AWS::Scheduler::Schedule") == {}


def test_the_scheduler_role_may_only_invoke_the_schedule_function(
    synthesized: Synthesized,
) -> None:
    role_id, role = _scheduler_role(synthesized)
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT
    assert "Policies" not in role["Properties"]
    assert "ManagedPolicyArns" not in role["Properties"]
    statements = _policy_statements(synthesized, role_id)
    actions = sorted(
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    assert actions == ["lambda:InvokeFunction", "sqs:SendMessage"]
    (invoke,) = [s for s in statements if s["Action"] == "lambda:InvokeFunction"]
    (function_id,) = [
        k
        for k, f in synthesized.of_type("AWS::Lambda::Function").items()
        if f["Properties"]["FunctionName"] == function_name(NAME, schedules.TARGET_KEY)
    ]
    assert invoke["Resource"] == {"Fn::GetAtt": [function_id, "Arn"]}


def test_undeliverable_firings_go_to_a_dead_letter_queue(synthesized: Synthesized) -> None:
    role_id, _ = _scheduler_role(synthesized)
    queues = {
        k: q
        for k, q in synthesized.of_type("AWS::SQS::Queue").items()
        if q["Properties"]["QueueName"] == schedules.dead_letter_name(NAME)
    }
    ((queue_id, queue),) = queues.items()
    assert "FifoQueue" not in queue["Properties"]  # Scheduler's DLQ must be a standard queue
    (send,) = [
        s for s in _policy_statements(synthesized, role_id) if "sqs:SendMessage" in s["Action"]
    ]
    assert send["Resource"] == {"Fn::GetAtt": [queue_id, "Arn"]}


def test_the_names_the_cli_uses_are_the_templates(synthesized: Synthesized) -> None:
    names = schedules.Names.of(NAME, account=ACCOUNT, region="us-east-1")
    assert names.role_arn.endswith(f":role/{schedules.role_name(NAME)}")
    assert names.target_arn.endswith(f":function:{function_name(NAME, schedules.TARGET_KEY)}")
    assert names.group == schedules.group_name(NAME)
