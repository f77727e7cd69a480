"""`schedule` against a moto server (an AWS-target deployment whose stack made the group):
schedules are created in the group with the Scheduler API, listed with their next run in their
own time zone, paused, resumed and removed; refused input creates nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app
from openclaw_deploy.config import ConfigFile, Deployment
from openclaw_deploy.runtime import resources, schedules
from openclaw_deploy.runtime.schedules import Firing, Runs

NAME = "schedbot"
ACCOUNT = "123456789012"
REGION = "us-east-1"


def run(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)


def scheduler() -> Any:
    return boto3.client("scheduler", region_name=REGION)


@pytest.fixture
def group(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    name = schedules.group_name(NAME)
    scheduler().create_schedule_group(Name=name)
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=resources.SCHEDULES.physical_name(NAME),
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    config = ConfigFile(path=tmp_path / "openclaw-deploy.yaml")
    config.upsert(Deployment(name=NAME, target="aws", region=REGION, account=ACCOUNT))
    config.save()
    return name


def _listed() -> list[dict[str, Any]]:
    result = run("schedule", "list", "--json")
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)["schedules"]
    return found


def test_add_creates_a_schedule_in_the_group_that_fires_the_target(group: str) -> None:
    result = run(
        "schedule", "add", "every weekday at 08:00", "--tz", "Europe/Berlin",
        "--say", "Summarise the news about X", "--to", "telegram", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    schedule_id = created["schedule"]["id"]
    assert schedule_id.startswith("s-")
    assert created["cost"]["awake_hours_per_month"] < 15

    detail = scheduler().get_schedule(Name=schedule_id, GroupName=group)
    assert detail["ScheduleExpression"] == "cron(0 8 ? * MON-FRI *)"
    assert detail["ScheduleExpressionTimezone"] == "Europe/Berlin"
    target = detail["Target"]
    names = schedules.Names.of(NAME, account=ACCOUNT, region=REGION)
    assert (target["Arn"], target["RoleArn"]) == (names.target_arn, names.role_arn)
    assert target["DeadLetterConfig"]["Arn"] == names.dead_letter_arn
    firing = json.loads(target["Input"])
    assert firing["scheduled_time"] == schedules.SCHEDULED_TIME
    parsed = Firing.from_event(target["Input"])
    assert (parsed.text, parsed.to, parsed.schedule) == (
        "Summarise the news about X",
        "telegram",
        schedule_id,
    )

    (listed,) = _listed()
    assert listed["id"] == schedule_id
    assert listed["kind"] == "owner"
    next_run = datetime.fromisoformat(listed["next_run"])
    assert (next_run.hour, next_run.minute) == (8, 0)
    assert next_run.utcoffset() in (timedelta(hours=1), timedelta(hours=2))  # Berlin
    assert next_run.weekday() < 5
    assert listed["last_run"] is None


def test_list_shows_the_last_run_and_its_outcome(group: str) -> None:
    created = json.loads(
        run("schedule", "add", "every day at 07:00", "--tz", "UTC", "--say", "Hi", "--to", "web",
            "--json").stdout
    )  # fmt: skip
    schedule_id = created["schedule"]["id"]
    runs = Runs(
        boto3.client("dynamodb", region_name=REGION), resources.SCHEDULES.physical_name(NAME)
    )
    runs.record(schedule_id, "failed", "no paired Telegram chat")

    (listed,) = _listed()
    assert listed["outcome"] == "failed"
    assert listed["detail"] == "no paired Telegram chat"
    assert listed["runs"] == 1
    assert datetime.fromisoformat(listed["last_run"]).utcoffset() == timedelta(0)
    text = run("schedule", "list").stdout
    assert schedule_id in text
    assert "failed" in text


def test_raw_expressions_and_a_one_time_date(group: str) -> None:
    later = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    for args in (
        ["cron(0 9 ? * MON *)"],
        ["rate(6 hours)", "--yes"],
        ["--at", later],
    ):
        result = run("schedule", "add", *args, "--tz", "UTC", "--say", "x", "--to", "web", "--json")
        assert result.exit_code == 0, result.output
    expressions = sorted(item["expression"] for item in _listed())
    assert expressions[0] == f"at({later}:00)"
    assert expressions[1:] == ["cron(0 9 ? * MON *)", "rate(6 hours)"]
    (once,) = [
        scheduler().get_schedule(Name=item["id"], GroupName=group)
        for item in _listed()
        if item["expression"].startswith("at(")
    ]
    assert once["ActionAfterCompletion"] == "DELETE"


def test_pause_resume_remove(group: str) -> None:
    created = json.loads(
        run("schedule", "add", "hourly", "--tz", "UTC", "--say", "Ping", "--to", "web", "--yes",
            "--json").stdout
    )  # fmt: skip
    schedule_id = created["schedule"]["id"]

    paused = json.loads(run("schedule", "pause", schedule_id, "--json").stdout)
    assert paused["schedule"]["state"] == "DISABLED"
    assert paused["schedule"]["next_run"] is None
    detail = scheduler().get_schedule(Name=schedule_id, GroupName=group)
    assert detail["State"] == "DISABLED"
    assert json.loads(detail["Target"]["Input"])["text"] == "Ping"  # the update kept the target

    resumed = json.loads(run("schedule", "resume", schedule_id, "--json").stdout)
    assert resumed["schedule"]["state"] == "ENABLED"

    refused = run("schedule", "remove", schedule_id)  # no terminal to confirm on
    assert refused.exit_code != 0
    assert "--yes" in refused.output
    assert len(_listed()) == 1
    removed = run("schedule", "remove", schedule_id, "--yes", "--json")
    assert json.loads(removed.stdout)["action"] == "removed"
    assert _listed() == []

    missing = run("schedule", "pause", schedule_id)
    assert missing.exit_code != 0
    assert "schedule list" in missing.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cron(0 8 * * * *)"], "exactly one of day-of-month and day-of-week"),
        (["rate(1 minutes)"], "rate(1 minute)"),
        (["every day at 25:00"], "not a time of day"),
        (["--at", "2001-01-01T08:00"], "in the past"),
        (["every day at 08:00", "--tz", "Mars/Olympus"], "IANA"),
        (["every 10 minutes"], "awake all day"),
        (["every 5 minutes", "--yes"], "awake all day"),
        (["every 30 minutes"], "--yes"),  # hours a day: a confirmation, and no terminal
        (["every day at 08:00", "--to", "sms"], "--to telegram or --to web"),
        (["sometime soon"], "every weekday at 08:00"),
    ],
)
def test_refused_input_creates_nothing(group: str, args: list[str], message: str) -> None:
    if "--tz" not in args:
        args = [*args, "--tz", "UTC"]
    result = run("schedule", "add", *args, "--say", "x")
    assert result.exit_code != 0
    assert message in " ".join(result.output.split())
    assert scheduler().list_schedules(GroupName=group)["Schedules"] == []


def test_a_costly_schedule_is_created_once_confirmed(
    group: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI")
    monkeypatch.setenv("OPENCLAW_DEPLOY_PROMPTS", "plain")
    declined = run("schedule", "add", "every 2 hours", "--tz", "UTC", "--say", "x", input="n\n")
    assert "awake about" in declined.output
    assert declined.exit_code != 0
    assert _listed() == []
    accepted = run("schedule", "add", "every 2 hours", "--tz", "UTC", "--say", "x", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert len(_listed()) == 1


def test_no_more_than_the_limit(group: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schedules, "MAX_SCHEDULES", 2)
    for _ in range(2):
        assert run("schedule", "add", "daily at 9am", "--tz", "UTC", "--say", "x").exit_code == 0
    result = run("schedule", "add", "daily at 9am", "--tz", "UTC", "--say", "x")
    assert result.exit_code != 0
    assert "schedule remove" in result.output
    assert len(_listed()) == 2


def test_cost_counts_the_hours_schedules_add(group: str) -> None:
    run("schedule", "add", "every day at 08:00", "--tz", "UTC", "--say", "x", "--to", "web")
    result = run("cost", "--schedules", "--json")
    assert result.exit_code == 0, result.output
    added = json.loads(result.stdout)["schedules"]
    # 30 firings, each ~17 minutes awake (the default 15-minute idle timeout and the start).
    assert 8 <= added["awake_hours_per_month"] <= 9
    assert added["monthly_usd"] > 0
