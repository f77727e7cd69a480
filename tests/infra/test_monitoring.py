"""The guardrails in the synthesized template: alarms with the owner's commands, the budget on
the deployment's tag, the alarm topic and its subscribers, the notifier's least privilege, and a
dashboard that shows only metrics our code emits."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from openclaw_deploy.infra.monitoring import awake_alarm_minutes, cost_filter_tag
from openclaw_deploy.runtime import metrics
from tests.infra.conftest import NAME, Synthesized

ROOT = Path(__file__).resolve().parents[2]
EMITTING = (
    ROOT / "src" / "openclaw_deploy" / "handlers",
    ROOT / "src" / "openclaw_deploy" / "runtime",
    ROOT / "container" / "bridge" / "openclaw_bridge",
)
OWN_NAMESPACE = metrics.NAMESPACE


def _alarms(synth: Synthesized) -> dict[str, dict[str, Any]]:
    return {
        r["Properties"]["AlarmName"]: r["Properties"]
        for r in synth.of_type("AWS::CloudWatch::Alarm").values()
    }


def _dashboard_body(synth: Synthesized) -> dict[str, Any]:
    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    text = (
        body
        if isinstance(body, str)
        else "".join(part if isinstance(part, str) else "0" for part in body["Fn::Join"][1])
    )
    return dict(json.loads(text))


def emitted_metrics() -> set[tuple[str, tuple[str, ...]]]:
    """(metric name, dimension keys) of every `metrics.record(metrics.X, ...)` call in the code
    that runs in the cloud, read from the source: a catalogue entry nobody records is not here."""
    by_constant = {
        name: value for name, value in vars(metrics).items() if isinstance(value, metrics.Metric)
    }
    found: set[tuple[str, tuple[str, ...]]] = set()
    for folder in EMITTING:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "record"
                    and node.args
                    and isinstance(node.args[0], ast.Attribute)
                    and node.args[0].attr in by_constant
                ):
                    continue
                metric = by_constant[node.args[0].attr]
                given = tuple(sorted(k.arg for k in node.keywords if k.arg and k.arg[0].isupper()))
                assert given == tuple(sorted(metric.dimensions)), (path, metric.name, given)
                found.add((metric.name, metric.dimension_keys))
    return found


def _shown_metrics(body: dict[str, Any]) -> set[tuple[str, tuple[str, ...]]]:
    shown: set[tuple[str, tuple[str, ...]]] = set()
    for widget in body["widgets"]:
        for row in widget.get("properties", {}).get("metrics", []):
            plain = [item for item in row if isinstance(item, str)]
            if len(plain) >= 2 and plain[0] == OWN_NAMESPACE:
                name, rest = plain[1], plain[2:]
                shown.add((name, tuple(rest[0::2])))
    return shown


def test_every_metric_the_dashboard_and_alarms_show_is_emitted_by_the_code(
    synthesized: Synthesized,
) -> None:
    emitted = emitted_metrics()
    shown = _shown_metrics(_dashboard_body(synthesized))
    for alarm in _alarms(synthesized).values():
        if alarm.get("Namespace") == OWN_NAMESPACE:
            keys = tuple(d["Name"] for d in alarm["Dimensions"])
            shown.add((alarm["MetricName"], keys))
    assert shown, "the dashboard shows none of our metrics"
    assert {name for name, _ in shown} >= {
        "AgentAwakeSeconds",
        "StartPhaseSeconds",
        "MessagesReceived",
        "TurnSeconds",
        "TurnErrors",
    }
    missing = {
        (name, keys)
        for name, keys in shown
        if (name, tuple(sorted(keys))) not in {(n, tuple(sorted(k))) for n, k in emitted}
    }
    assert not missing, f"shown but never emitted: {missing}"
    # and every dimension value shown is one the code uses
    for channel in metrics.CHANNELS:
        assert f'"Channel","{channel}"' in json.dumps(_dashboard_body(synthesized)).replace(" ", "")


def test_alarms_that_matter_each_say_what_to_run(synthesized: Synthesized) -> None:
    alarms = _alarms(synthesized)
    prefix = f"openclaw-{NAME}-"
    assert set(alarms) == {
        prefix + key
        for key in (
            "agent-awake-too-long",
            "agent-start-failures",
            "dead-letters",
            "handler-errors",
            "watchdog-not-running",
            "telegram-webhook-failing",
        )
    }
    (topic,) = synthesized.of_type("AWS::SNS::Topic")
    for name, alarm in alarms.items():
        assert re.search(r"`openclaw-deploy [a-z]", alarm["AlarmDescription"]), name
        assert ":" in alarm["AlarmDescription"].split(".")[0], name  # "Title: ..."
        assert alarm["AlarmActions"] == [{"Ref": topic}], name
        assert alarm["OKActions"] == [{"Ref": topic}], name
    awake = alarms[prefix + "agent-awake-too-long"]
    assert awake["Threshold"] == awake_alarm_minutes(15) * 60
    assert awake["TreatMissingData"] == "notBreaching"
    dlq = alarms[prefix + "dead-letters"]
    assert dlq["MetricName"] == "ApproximateNumberOfMessagesVisible"
    (queue,) = [
        k
        for k, r in synthesized.of_type("AWS::SQS::Queue").items()
        if r["Properties"]["QueueName"].endswith("-dlq.fifo")
    ]
    assert dlq["Dimensions"][0]["Value"] == {"Fn::GetAtt": [queue, "QueueName"]}
    watchdog = alarms[prefix + "watchdog-not-running"]
    assert watchdog["TreatMissingData"] == "breaching"
    errors = alarms[prefix + "handler-errors"]
    names = {
        m["MetricStat"]["Metric"]["MetricName"] for m in errors["Metrics"] if "MetricStat" in m
    }
    assert names == {"Errors", "Throttles"}
    assert len(errors["Metrics"]) <= 10 + 1  # CloudWatch's limit of metrics per alarm


def test_status_reads_the_alarms_and_the_topic_by_the_names_the_stack_gives_them(
    synthesized: Synthesized,
) -> None:
    from openclaw_deploy.infra.spec import alarm_name
    from openclaw_deploy.services.alarms import ALARM_KEYS, alarm_topic_name

    assert set(_alarms(synthesized)) == {alarm_name(NAME, key) for key in ALARM_KEYS}
    (topic,) = synthesized.of_type("AWS::SNS::Topic").values()
    assert topic["Properties"]["TopicName"] == alarm_topic_name(NAME)


def test_without_telegram_there_is_no_webhook_alarm(variant: Synthesized) -> None:
    assert not [n for n in _alarms(variant) if n.endswith("telegram-webhook-failing")]


def test_topic_emails_the_owner_and_feeds_the_notifier(synthesized: Synthesized) -> None:
    subs = [r["Properties"] for r in synthesized.of_type("AWS::SNS::Subscription").values()]
    assert {s["Protocol"] for s in subs} == {"email", "lambda"}
    assert [s["Endpoint"] for s in subs if s["Protocol"] == "email"] == ["owner@example.com"]
    (policy,) = synthesized.of_type("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    budget = [s for s in statements if s.get("Principal") == {"Service": "budgets.amazonaws.com"}]
    assert budget and budget[0]["Action"] == "sns:Publish"
    assert "aws:SourceAccount" in budget[0]["Condition"]["StringEquals"]


def test_budget_filters_on_the_deployments_tag_with_two_alerts(synthesized: Synthesized) -> None:
    (budget,) = synthesized.of_type("AWS::Budgets::Budget").values()
    data = budget["Properties"]["Budget"]
    assert data["CostFilters"] == {"TagKeyValue": [cost_filter_tag(NAME)]}
    assert cost_filter_tag(NAME) == "user:openclaw-deploy:deployment$test"
    assert data["BudgetLimit"] == {"Amount": 12, "Unit": "USD"}
    assert data["TimeUnit"] == "MONTHLY"
    alerts = {
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"])
        for n in budget["Properties"]["NotificationsWithSubscribers"]
    }
    assert alerts == {("FORECASTED", 80), ("ACTUAL", 100)}
    for alert in budget["Properties"]["NotificationsWithSubscribers"]:
        assert alert["Subscribers"][0]["SubscriptionType"] == "SNS"


def test_no_budget_when_none_is_set(variant: Synthesized) -> None:
    assert not variant.of_type("AWS::Budgets::Budget")


def test_notifier_reads_pairings_writes_dedupe_and_reads_only_the_bot_token(
    synthesized: Synthesized,
) -> None:
    (role_id,) = [
        k
        for k, r in synthesized.of_type("AWS::IAM::Role").items()
        if "Notifier" in k and "Role" in k
    ]
    actions: set[str] = set()
    resources: list[Any] = []
    for policy in synthesized.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            found = statement["Action"]
            actions |= {found} if isinstance(found, str) else set(found)
            resources.append(statement["Resource"])
    assert "dynamodb:UpdateItem" in actions
    assert "ssm:GetParameter" in actions
    assert not [a for a in actions if a.startswith(("ecs:", "sqs:", "s3:", "iam:"))]
    text = json.dumps(resources)
    assert "telegram-bot-token" in text
    assert "llm-api-key" not in text and "webhook-secret" not in text


def test_every_resource_carries_the_cost_allocation_tag(synthesized: Synthesized) -> None:
    task = next(iter(synthesized.of_type("AWS::ECS::TaskDefinition").values()))
    tags = {t["Key"]: t["Value"] for t in task["Properties"]["Tags"]}
    assert tags["openclaw-deploy:deployment"] == NAME
