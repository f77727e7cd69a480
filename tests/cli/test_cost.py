"""`cost`: the itemized estimate from the deployment's own settings with its assumptions, and this
month's task time as the lifecycle records it (moto; see tests/cli/operate.py)."""

from __future__ import annotations

import calendar
import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app
from openclaw_deploy.config import AgentSpec, ConfigFile, Deployment
from openclaw_deploy.runtime.lifecycle import month_of, month_spans
from openclaw_deploy.services.cost import estimate, task_hour_usd, usage_info
from tests.cli.operate import ACCOUNT, REGION, MotoDeployment, deploy_on_moto

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS")
NAME = "costbot"
ARN = "arn:aws:ecs:us-east-1:123456789012:task/openclaw-costbot/{}"


@pytest.fixture
def workdir(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    return tmp_path


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["cost", *args], catch_exceptions=False)


def ended_task(moto: MotoDeployment, task: str, started: float, ended: float) -> None:
    """A task as the bridge leaves it: woken at `started`, Idle at `ended`."""
    ticks = iter([started, ended])
    lifecycle = moto.lifecycle(clock=lambda: next(ticks))
    assert lifecycle.try_begin_start()
    assert lifecycle.set_task(ARN.format(task))
    assert lifecycle.mark_idle(ARN.format(task), "idle for 15 minutes")


def test_estimate_and_this_months_use_on_real_data(workdir: Path) -> None:
    moto = deploy_on_moto(workdir, NAME)
    now = time.time()
    if now - calendar.timegm((*time.gmtime(now)[:2], 1, 0, 0, 0)) < 3600:
        pytest.skip("the tasks below would start last month")
    ended_task(moto, "t1", now - 1800, now - 1080)  # twelve minutes
    ended_task(moto, "t2", now - 900, now - 540)  # six minutes

    result = run("--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["settings"] == {
        "cpu": 512,
        "memory": 2048,
        "spot": True,
        "source": "task definition",
    }
    cost = report["estimate"]
    names = [item["item"] for item in cost["items"]]
    for expected in (
        "Fargate compute",
        "Public IPv4 address",
        "API Gateway (HTTP + WebSocket)",
        "SQS FIFO queue",
        "CloudWatch Logs",
        "S3 state backups (versioned)",
        "ECR image storage",
    ):
        assert expected in names
    assert cost["total_usd"] == estimate(AgentSpec()).total_usd
    assert cost["assumptions"]["agent_hours_per_day"] == 2.0
    used = report["used"]
    assert (used["month"], used["tasks"]) == (month_of(now), 2)
    assert used["task_hours"] == pytest.approx(0.3, abs=0.01)
    assert used["estimated_usd"] == pytest.approx(0.3 * task_hour_usd(AgentSpec()), abs=1e-3)

    text = " ".join(run().output.split())
    assert "0.5 vCPU / 2 GB ARM64 on Fargate Spot (from the task definition)" in text
    assert f"Estimated: ${estimate(AgentSpec()).total_usd:.2f}/month" in text
    assert "Assumptions: the agent awake 2 h a day for 30 days" in text
    assert "Used in " + month_of(now) + ": 18 min of agent time in 2 task(s)" in text


def test_hours_per_day_scales_the_task_hour_items(workdir: Path) -> None:
    deploy_on_moto(workdir, NAME)
    base = json.loads(run("--json").stdout)["estimate"]
    busy = json.loads(run("--hours-per-day", "6", "--json").stdout)["estimate"]
    items = {i["item"]: i["monthly_usd"] for i in base["items"]}
    more = {i["item"]: i["monthly_usd"] for i in busy["items"]}
    assert more["Fargate compute"] == pytest.approx(3 * items["Fargate compute"], rel=1e-3)
    assert more["Public IPv4 address"] == pytest.approx(3 * items["Public IPv4 address"])
    assert busy["assumptions"]["agent_hours_per_day"] == 6.0
    assert "awake 6 h a day" in " ".join(run("--hours-per-day", "6").output.split())


@pytest.mark.parametrize("value", ["0", "25", "-1"])
def test_impossible_hours_are_refused(workdir: Path, value: str) -> None:
    result = run("--hours-per-day", value)
    assert result.exit_code == 2
    assert "is not between 0 and 24" in result.output


def test_not_a_number_is_refused(workdir: Path) -> None:
    result = run("--hours-per-day", "lots")
    assert result.exit_code == 2
    assert "Invalid value for '--hours-per-day'" in result.output


def test_config_differing_from_the_deployed_size_is_noted(workdir: Path) -> None:
    deploy_on_moto(
        workdir,
        NAME,
        deployment=Deployment(
            name=NAME,
            region=REGION,
            account=ACCOUNT,
            agent=AgentSpec(cpu=1024, memory=4096, spot=True),
        ),
    )
    report = json.loads(run("--json").stdout)
    assert (report["settings"]["cpu"], report["settings"]["memory"]) == (512, 2048)
    assert any("openclaw-deploy deploy --name costbot" in note for note in report["notes"])


def test_before_any_deploy_the_estimate_uses_the_config_file(workdir: Path) -> None:
    config = ConfigFile(path=workdir / "openclaw-deploy.yaml")
    config.upsert(Deployment(name=NAME, region=REGION, agent=AgentSpec(spot=False)))
    config.save()
    result = run("--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["settings"]["source"] == "config file"
    assert report["settings"]["spot"] is False
    assert report["used"] is None
    on_demand = estimate(AgentSpec(spot=False))
    assert report["estimate"]["total_usd"] == on_demand.total_usd


def test_a_stopped_local_target_still_gets_an_estimate(workdir: Path) -> None:
    config = ConfigFile(path=workdir / "openclaw-deploy.yaml")
    config.upsert(Deployment(name=NAME, target="local", region=REGION))
    config.save()
    result = run("--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["target"] == "local" and report["used"] is None
    assert any("is not running" in note for note in report["notes"])


def test_a_task_across_midnight_of_the_first_is_split_between_months() -> None:
    first = float(calendar.timegm((2026, 12, 1, 0, 0, 0)))
    assert month_spans(first - 1800, first + 5400) == [("2026-11", 1800.0), ("2026-12", 5400.0)]
    assert month_spans(first + 10, first + 70) == [("2026-12", 60.0)]


def test_usage_projects_the_month_at_its_pace() -> None:
    start = float(calendar.timegm((2026, 11, 1, 0, 0, 0)))
    now = start + 10 * 86400  # a third of November
    use = usage_info(
        month="2026-11",
        ended_seconds=9 * 3600,
        tasks=5,
        running_since=now - 3600,
        now=now,
        agent=AgentSpec(),
    )
    assert (use.task_hours, use.tasks, use.running_hours) == (10.0, 6, 1.0)
    assert use.projected_hours == pytest.approx(30.0)
    assert use.projected_usd == pytest.approx(30 * task_hour_usd(AgentSpec()), abs=1e-3)
    # A task running since last month counts only this month's part.
    carried = usage_info(
        month="2026-11",
        ended_seconds=0,
        tasks=0,
        running_since=start - 3600,
        now=start + 1800,
        agent=AgentSpec(),
    )
    assert carried.running_hours == 0.5


def test_each_ended_task_is_counted_once_and_a_failed_run_task_not_at_all(workdir: Path) -> None:
    moto = deploy_on_moto(workdir, NAME)
    start = float(calendar.timegm((2026, 11, 10, 12, 0, 0)))
    month = "2026-11"
    # RunTask failed: no task ran, nothing was billed.
    ticks = iter([start, start + 5])
    lifecycle = moto.lifecycle(clock=lambda: next(ticks))
    assert lifecycle.try_begin_start()
    assert lifecycle.fail_start("RunTask failed: no capacity")
    assert moto.lifecycle().usage(month).tasks == 0
    # A task that died before it was ready was billed for its minutes.
    ticks = iter([start + 100, start + 400])
    lifecycle = moto.lifecycle(clock=lambda: next(ticks))
    assert lifecycle.try_begin_start() and lifecycle.set_task(ARN.format("died"))
    assert lifecycle.fail_start("the task stopped before it was ready")
    # The bridge and the watchdog both try to end the same task: one wins, one count.
    ticks = iter([start + 1000, start + 1600, start + 1700])
    lifecycle = moto.lifecycle(clock=lambda: next(ticks))
    assert lifecycle.try_begin_start() and lifecycle.set_task(ARN.format("twice"))
    assert lifecycle.mark_idle(ARN.format("twice"), "idle for 15 minutes")
    assert not lifecycle.mark_idle(ARN.format("twice"), "watchdog: gone")
    usage = moto.lifecycle().usage(month)
    assert (usage.tasks, usage.task_seconds) == (2, 300 + 600)
