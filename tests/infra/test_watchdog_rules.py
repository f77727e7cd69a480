"""The watchdog's two rules in the synthesized template: the one-minute schedule, and ECS's
stopped-task events of the agent's own cluster, both invoking the watchdog function (which
EventBridge may invoke)."""

from __future__ import annotations

from typing import Any

from openclaw_deploy.infra.spec import WATCHDOG_RATE_MINUTES, function_name
from tests.infra.conftest import NAME, Synthesized


def _rules(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["Name"]: r["Properties"]
        for r in synthesized.of_type("AWS::Events::Rule").values()
    }


def _targets_watchdog(synthesized: Synthesized, rule: dict[str, Any]) -> None:
    [target] = rule["Targets"]
    [(logical_id, function)] = [
        (key, resource)
        for key, resource in synthesized.of_type("AWS::Lambda::Function").items()
        if resource["Properties"].get("FunctionName") == function_name(NAME, "watchdog")
    ]
    assert target["Arn"] == {"Fn::GetAtt": [logical_id, "Arn"]}
    assert function["Properties"]["Handler"].endswith("watchdog.handler")


def test_a_stopped_agent_task_runs_the_watchdog_at_once(synthesized: Synthesized) -> None:
    rules = _rules(synthesized)
    [stopped] = [rule for name, rule in rules.items() if name.endswith("-agent-stopped")]
    pattern = stopped["EventPattern"]
    assert pattern["source"] == ["aws.ecs"]
    assert pattern["detail-type"] == ["ECS Task State Change"]
    assert pattern["detail"]["lastStatus"] == ["STOPPED"]
    assert pattern["detail"]["startedBy"] == ["openclaw-deploy"]
    [cluster] = pattern["detail"]["clusterArn"]
    [(cluster_id, _)] = synthesized.of_type("AWS::ECS::Cluster").items()
    assert cluster == {"Fn::GetAtt": [cluster_id, "Arn"]}, "only the agent's own cluster"
    assert stopped["Targets"][0]["RetryPolicy"]["MaximumRetryAttempts"] == 2
    _targets_watchdog(synthesized, stopped)


def test_the_schedule_runs_every_minute(synthesized: Synthesized) -> None:
    [schedule] = [rule for name, rule in _rules(synthesized).items() if name.endswith("-watchdog")]
    assert schedule["ScheduleExpression"] == f"rate({WATCHDOG_RATE_MINUTES} minute)"
    _targets_watchdog(synthesized, schedule)


def test_eventbridge_may_invoke_the_watchdog_for_both_rules(synthesized: Synthesized) -> None:
    permissions = [
        p["Properties"]
        for p in synthesized.of_type("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "events.amazonaws.com"
    ]
    rule_ids = {
        key
        for key, rule in synthesized.of_type("AWS::Events::Rule").items()
        if rule["Properties"]["Name"].endswith(("-watchdog", "-agent-stopped"))
    }
    assert len(rule_ids) == 2
    sources = {
        p["SourceArn"]["Fn::GetAtt"][0] for p in permissions if "Fn::GetAtt" in p["SourceArn"]
    }
    assert rule_ids <= sources
