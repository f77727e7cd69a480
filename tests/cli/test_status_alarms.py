"""`status` shows the alarms' states, the dashboard's URL and whether the alert email is
confirmed; `deploy` reminds the owner to confirm it. AWS is a moto server holding the alarms and
the topic under the names the stack gives them (tests/infra/test_monitoring.py checks the names
against the synthesized template)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app
from openclaw_deploy.cli.deploy import recommend_after_deploy
from openclaw_deploy.cli.status import EMAIL_PENDING, _render
from openclaw_deploy.context import AppContext
from openclaw_deploy.infra import spec
from openclaw_deploy.prompts import Prompter
from openclaw_deploy.services.alarms import (
    NOT_EMULATED,
    PENDING,
    AlarmInfo,
    MonitoringInfo,
    alarm_topic_name,
    email_pending,
)
from openclaw_deploy.services.deploy import DeployResult
from openclaw_deploy.services.status import StatusReport, TelegramInfo
from tests.cli.operate import ACCOUNT, REGION, client, deploy_on_moto

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS")
NAME = "alarmbot"
EMAIL = "me@example.com"


@pytest.fixture
def workdir(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("OPENCLAW_DEPLOY_CACHE", str(tmp_path / "cache"))
    return tmp_path


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def flat(text: str) -> str:
    return " ".join(text.split())


def put_alarm(key: str) -> str:
    name = spec.alarm_name(NAME, key)
    client("cloudwatch").put_metric_alarm(
        AlarmName=name,
        MetricName="DeadLetters",
        Namespace="OpenClaw",
        Statistic="Maximum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    return name


def alert_topic() -> str:
    arn = str(client("sns").create_topic(Name=alarm_topic_name(NAME))["TopicArn"])
    client("sns").subscribe(TopicArn=arn, Protocol="email", Endpoint=EMAIL)
    return arn


def test_status_shows_each_alarms_state_the_dashboard_and_the_alert_email(
    workdir: Path,
) -> None:
    deploy_on_moto(workdir, NAME)
    alert_topic()
    dead = put_alarm("dead-letters")
    put_alarm("handler-errors")
    put_alarm("watchdog-not-running")
    client("cloudwatch").set_alarm_state(
        AlarmName=dead, StateValue="ALARM", StateReason="1 message in the dead-letter queue"
    )
    client("cloudwatch").set_alarm_state(
        AlarmName=spec.alarm_name(NAME, "handler-errors"), StateValue="OK", StateReason="fine"
    )
    client("cloudwatch").set_alarm_state(
        AlarmName=spec.alarm_name(NAME, "watchdog-not-running"),
        StateValue="INSUFFICIENT_DATA",
        StateReason="no data yet",
    )
    # Another deployment whose name starts like this one's: its alarms are not ours.
    client("cloudwatch").put_metric_alarm(
        AlarmName=spec.alarm_name(f"{NAME}-2", "dead-letters"),
        MetricName="X",
        Namespace="OpenClaw",
        Statistic="Maximum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )

    result = run("status", "--json")
    assert result.exit_code == 0, result.output
    monitoring = json.loads(result.stdout)["monitoring"]
    assert monitoring["emulated"] is True
    assert monitoring["dashboard_url"] == spec.dashboard_url(NAME, REGION)
    assert monitoring["dashboard_url"].startswith("https://us-east-1.console.aws.amazon.com/")
    states = {alarm["name"]: alarm["state"] for alarm in monitoring["alarms"]}
    assert states == {
        dead: "ALARM",
        spec.alarm_name(NAME, "handler-errors"): "OK",
        spec.alarm_name(NAME, "watchdog-not-running"): "INSUFFICIENT_DATA",
    }
    firing = next(a for a in monitoring["alarms"] if a["name"] == dead)
    assert firing["reason"] == "1 message in the dead-letter queue"
    assert (monitoring["email"], monitoring["email_pending"]) == (EMAIL, False)
    assert monitoring["problems"] == []

    text = run("status")
    assert text.exit_code == 0, text.output
    output = flat(text.output)
    assert "alarms 1 in alarm, 1 OK, 1 waiting for data" in output
    assert f"alarm {dead} since" in output and "1 message in the dead-letter queue" in output
    assert f"dashboard {spec.dashboard_url(NAME, REGION)}" in output
    assert f"alert email {EMAIL}, confirmed" in output


def test_a_deployment_without_alarms_or_topic_says_so_and_still_shows_the_rest(
    workdir: Path,
) -> None:
    deploy_on_moto(workdir, NAME)  # deployed before alarms existed: no alarms, no topic
    result = run("status", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["agent"]["state"] == "Idle"
    monitoring = report["monitoring"]
    assert (monitoring["alarms"], monitoring["email_pending"], monitoring["problems"]) == (
        [],
        None,
        [],
    )
    text = flat(run("status").output)
    assert "alarms none yet (the next deploy creates them)" in text
    assert f"alert email {EMAIL}, not subscribed yet" in text


def test_the_local_target_says_alarms_are_not_emulated(tmp_path: Path) -> None:
    (tmp_path / "openclaw-deploy.yaml").write_text(
        "version: 1\ndefault: agent\ndeployments:\n  agent:\n    target: local\n"
    )
    result = CliRunner().invoke(
        app, ["--config", str(tmp_path / "openclaw-deploy.yaml"), "status", "--json"]
    )
    assert result.exit_code == 0, result.output
    monitoring = json.loads(result.stdout)["monitoring"]
    assert (monitoring["emulated"], monitoring["note"]) == (False, NOT_EMULATED)
    text = CliRunner().invoke(app, ["--config", str(tmp_path / "openclaw-deploy.yaml"), "status"])
    assert "alarms not emulated on the local target" in flat(text.output)


def test_a_pending_subscription_is_read_as_aws_lists_it_and_shown_as_to_confirm() -> None:
    # ListSubscriptionsByTopic's answer for an email nobody has confirmed yet (moto confirms
    # every subscription at once, so this shape is AWS's documented one).
    listed = [
        {"SubscriptionArn": "arn:aws:sns:us-east-1:1:t:abc", "Protocol": "lambda", "Endpoint": "x"},
        {"SubscriptionArn": PENDING, "Protocol": "email", "Endpoint": EMAIL},
    ]
    assert email_pending(listed, EMAIL) is True
    assert email_pending(listed, "other@example.com") is None
    monitoring = MonitoringInfo(
        emulated=True,
        dashboard_url="https://example",
        alarms=[AlarmInfo(name="a", state="OK")],
        email=EMAIL,
        email_pending=True,
    )
    buffer = io.StringIO()
    report = StatusReport(
        deployment=NAME,
        target="aws",
        region=REGION,
        running=True,
        stack_status="CREATE_COMPLETE",
        urls={},
        agent=None,
        memory=None,
        telegram=TelegramInfo(configured=False, bot=None),
        monitoring=monitoring,
    )
    _render(Console(file=buffer, width=200), report)
    plain = Console(file=io.StringIO()).render_str(EMAIL_PENDING).plain
    assert f"alert email {EMAIL}, {plain}" in flat(buffer.getvalue())


def _deployed(name: str) -> DeployResult:
    return DeployResult(
        name=name,
        stack_name=spec.stack_name(name),
        status="CREATE_COMPLETE",
        account=ACCOUNT,
        region=REGION,
        web_url="https://d111.cloudfront.net",
        api_url="https://abc.execute-api.us-east-1.amazonaws.com",
        owner_login=EMAIL,
        owner_status="FORCE_CHANGE_PASSWORD",
        telegram_bot=None,
        telegram_webhook=None,
        image_tag="src-1",
        image="existing",
        seconds=1.0,
        monthly_cost_usd=5.0,
    )


def test_deploy_reminds_to_confirm_the_alert_email_until_it_is_confirmed(workdir: Path) -> None:
    moto = deploy_on_moto(workdir, NAME)
    buffer = io.StringIO()
    context = AppContext(
        config_path=moto.config.path,
        console=Console(file=buffer, width=200),
        err_console=Console(file=io.StringIO()),
        prompter=Prompter("off"),
    )
    # Right after the stack subscribed the owner, AWS cannot tell it confirmed: remind.
    recommend_after_deploy(context, _deployed(NAME))
    reminder = f"click the link AWS Notifications sent to {EMAIL}"
    assert reminder in flat(buffer.getvalue())
    assert f"openclaw-deploy status --name {NAME}" in buffer.getvalue()

    alert_topic()  # moto confirms at once, as AWS does once the link is clicked
    buffer.truncate(0)
    recommend_after_deploy(context, _deployed(NAME))
    assert reminder not in flat(buffer.getvalue())
    assert "openclaw-deploy destroy --name" in buffer.getvalue()
