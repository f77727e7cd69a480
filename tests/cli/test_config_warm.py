"""`config set warm` against a moto server: the window goes to the owner's settings row (the
bridge reads it) and one daily `warm` schedule in the deployment's group wakes the agent at its
start, in its time zone; the monthly cost is shown and confirmed first; bad windows change
nothing and name the command that fixes them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app
from openclaw_deploy.config import AgentSpec, ConfigFile, Deployment
from openclaw_deploy.local.provision import provision_tables
from openclaw_deploy.runtime import resources, schedules
from openclaw_deploy.runtime.schedules import Firing
from openclaw_deploy.runtime.settings import Settings
from openclaw_deploy.services.cost import estimate, task_hour_usd

NAME = "warmbot"
ACCOUNT = "123456789012"
REGION = "us-east-1"
GROUP = schedules.group_name(NAME)


@pytest.fixture
def deployed(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # this machine's zone, the default
    monkeypatch.delenv("OPENCLAW_DEPLOY_TZ", raising=False)
    provision_tables(boto3.client("dynamodb", region_name=REGION), NAME)
    scheduler().create_schedule_group(Name=GROUP)
    config = ConfigFile(path=tmp_path / "openclaw-deploy.yaml")
    config.upsert(Deployment(name=NAME, target="aws", region=REGION, account=ACCOUNT))
    config.save()
    return config.path


def run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), input=stdin, catch_exceptions=False)


def scheduler() -> Any:
    return boto3.client("scheduler", region_name=REGION)


def stored_window() -> str | None:
    store = Settings(
        boto3.client("dynamodb", region_name=REGION), resources.SETTINGS.physical_name(NAME)
    )
    return store.get().warm


def warm_schedule() -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = scheduler().get_schedule(Name="warm", GroupName=GROUP)
    except scheduler().exceptions.ResourceNotFoundException:
        return None
    return found


def shown() -> dict[str, str]:
    view = json.loads(run("config", "show", "--json").stdout)
    return {value["key"]: value["value"] for value in view["values"]}


def test_a_window_is_stored_scheduled_and_priced_then_replaced_and_turned_off(
    deployed: Path,
) -> None:
    assert shown()["warm"] == "off"
    done = run("config", "set", "warm", "08:00-09:00", "--tz", "Europe/Berlin", "--yes", "--json")
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)

    hour = task_hour_usd(AgentSpec())
    # The hour and the 2 minutes of lead before it.
    assert result["warm_cost"]["hours_per_day"] == round(62 / 60, 4)
    assert result["warm_cost"]["monthly_usd"] == round(62 / 60 * 30.4 * hour, 2) == 0.41
    base = estimate(AgentSpec()).total_usd
    assert result["monthly_usd"] == [round(base, 2), round(base + 0.41, 2)]
    assert stored_window() == "08:00-09:00@Europe/Berlin"
    assert shown()["warm"] == "08:00-09:00 Europe/Berlin"

    detail = warm_schedule()
    assert detail is not None
    assert detail["ScheduleExpression"] == "cron(58 7 * * ? *)"
    assert detail["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert detail["State"] == "ENABLED"
    names = schedules.Names.of(NAME, account=ACCOUNT, region=REGION)
    target = detail["Target"]
    assert (target["Arn"], target["RoleArn"]) == (names.target_arn, names.role_arn)
    assert target["DeadLetterConfig"]["Arn"] == names.dead_letter_arn
    firing = Firing.from_event(target["Input"])
    assert (firing.schedule, firing.owner) == ("warm", "warm")

    # Replaced, crossing midnight; the zone stays the window's when --tz is not given.
    late = run("config", "set", "warm", "23:30-01:00", "--yes", "--json")
    assert late.exit_code == 0, late.output
    assert json.loads(late.stdout)["warm_cost"]["hours_per_day"] == round(92 / 60, 4)
    assert stored_window() == "23:30-01:00@Europe/Berlin"
    detail = warm_schedule()
    assert detail is not None
    assert (detail["ScheduleExpression"], detail["ScheduleExpressionTimezone"]) == (
        "cron(28 23 * * ? *)",
        "Europe/Berlin",
    )
    assert [s["Name"] for s in scheduler().list_schedules(GroupName=GROUP)["Schedules"]] == ["warm"]

    off = run("config", "set", "warm", "off", "--yes", "--json")
    assert off.exit_code == 0, off.output
    late_cost = round(92 / 60 * 30.4 * hour, 2)
    assert json.loads(off.stdout)["monthly_usd"] == [round(base + late_cost, 2), round(base, 2)]
    assert stored_window() is None
    assert warm_schedule() is None
    assert shown()["warm"] == "off"


def test_the_cost_is_shown_and_nothing_changes_without_a_confirmation(
    deployed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No terminal and no --yes: refused, naming the flag; nothing is written.
    refused = CliRunner().invoke(app, ["config", "set", "warm", "08:00-09:00"])
    assert refused.exit_code == 2, refused.output
    assert "--yes" in refused.output
    assert "+$0.41" in refused.output and "1.03 h a day × 30.4 days" in refused.output
    assert stored_window() is None and warm_schedule() is None

    # At a terminal: the cost before the question; "n" changes nothing, "y" applies.
    monkeypatch.delenv("CI")
    monkeypatch.setenv("OPENCLAW_DEPLOY_PROMPTS", "plain")
    answered = CliRunner().invoke(app, ["config", "set", "warm", "08:00-09:00"], input="n\n")
    assert answered.exit_code != 0
    assert answered.output.index("= $0.41 a month") < answered.output.index("Change warm")
    assert stored_window() is None and warm_schedule() is None
    agreed = CliRunner().invoke(app, ["config", "set", "warm", "08:00-09:00"], input="y\n")
    assert agreed.exit_code == 0, agreed.output
    assert "✓ warm is 08:00-09:00 Asia/Tokyo" in agreed.output
    assert stored_window() == "08:00-09:00@Asia/Tokyo"  # this machine's zone
    detail = warm_schedule()
    assert detail is not None and detail["ScheduleExpressionTimezone"] == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("args", "says", "hint"),
    [
        (["8-9"], "HH:MM-HH:MM", "config set warm 08:00-09:00 --tz Europe/Berlin"),
        (["08:00-08:00"], "end must differ", "config set warm 08:00-09:00"),
        (["24:00-01:00"], "not a time of day", "config set warm 08:00-09:00"),
        (["08:00-20:00"], "at most 8 hours", "config set warm 08:00-09:00"),
        (["22:00-07:00"], "at most 8 hours", "config set warm 08:00-09:00"),
        (["08:00-09:00", "--tz", "Mars/Olympus"], "not a time zone", "--tz Europe/Berlin"),
        (["off", "--tz", "UTC"], "--tz", "config set warm off"),
    ],
)
def test_bad_windows_are_refused_with_the_fixing_command_and_nothing_changes(
    deployed: Path, args: list[str], says: str, hint: str
) -> None:
    refused = CliRunner().invoke(app, ["config", "set", "warm", *args, "--yes"])
    assert refused.exit_code == 2, refused.output
    assert says in refused.output
    assert hint in refused.output
    assert stored_window() is None and warm_schedule() is None


def test_tz_belongs_to_the_warm_window_only(deployed: Path) -> None:
    refused = CliRunner().invoke(app, ["config", "set", "idle-timeout", "30", "--tz", "UTC"])
    assert refused.exit_code == 2
    assert "--tz" in refused.output
    # From the environment (the schedules' zone) it is used by warm and ignored by the rest.
    env = {"OPENCLAW_DEPLOY_TZ": "America/New_York"}
    assert CliRunner().invoke(app, ["config", "set", "idle-timeout", "30"], env=env).exit_code == 0
    done = CliRunner().invoke(app, ["config", "set", "warm", "07:00-07:30", "--yes"], env=env)
    assert done.exit_code == 0, done.output
    assert stored_window() == "07:00-07:30@America/New_York"


def test_a_deployment_without_a_schedule_group_keeps_no_window(deployed: Path) -> None:
    scheduler().delete_schedule_group(Name=GROUP)
    refused = CliRunner().invoke(app, ["config", "set", "warm", "08:00-09:00", "--yes"])
    assert refused.exit_code != 0
    assert "openclaw-deploy deploy" in refused.output
    assert stored_window() is None, "the settings row went back"


@pytest.mark.filterwarnings("ignore:Tried to parse AWS")
def test_status_shows_the_window_with_its_cost(
    aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.cli.operate import deploy_on_moto

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("OPENCLAW_DEPLOY_CACHE", str(tmp_path / "cache"))
    deploy_on_moto(tmp_path, NAME)
    scheduler().create_schedule_group(Name=GROUP)
    before = json.loads(run("status", "--json").stdout)
    assert before["running"] is True and before["warm"] is None
    assert "warm window" not in run("status").output

    # From the top of this hour in UTC, for two hours: inside the window now.
    hour_now = datetime.now(UTC).hour
    span = f"{hour_now:02d}:00-{(hour_now + 2) % 24:02d}:00"
    done = run("config", "set", "warm", span, "--tz", "UTC", "--yes")
    assert done.exit_code == 0, done.output
    report = json.loads(run("status", "--json").stdout)
    hour = task_hour_usd(AgentSpec())
    assert report["warm"] == {
        "window": span,
        "timezone": "UTC",
        "hours_per_day": round(122 / 60, 4),
        "monthly_usd": round(122 / 60 * 30.4 * hour, 2),
        "now": True,
    }
    text = " ".join(run("status").output.split())
    assert f"warm window {span} UTC every day (now: inside; up to $0.81 a month)" in text

    later = f"{(hour_now + 3) % 24:02d}:00-{(hour_now + 4) % 24:02d}:00"
    assert run("config", "set", "warm", later, "--yes").exit_code == 0
    assert json.loads(run("status", "--json").stdout)["warm"]["now"] is False


def test_the_warm_schedule_is_listed_as_the_windows_and_only_its_setting_changes_it(
    deployed: Path,
) -> None:
    assert run("config", "set", "warm", "08:00-09:00", "--yes").exit_code == 0
    listing = " ".join(run("schedule", "list").output.split())
    assert "warm (config set warm) Warm window 08:00-09:00" in listing
    for args in (("remove", "warm", "--yes"), ("pause", "warm"), ("resume", "warm")):
        refused = run("schedule", *args)
        assert refused.exit_code == 2, refused.output
        assert "the warm window's daily wake-up" in refused.output
        assert "openclaw-deploy config set warm off" in refused.output
    detail = warm_schedule()
    assert detail is not None and detail["State"] == "ENABLED"
    assert stored_window() == "08:00-09:00@Asia/Tokyo"
