"""`status`, `start`, `stop` on an AWS-target deployment: moto for AWS (see tests/cli/operate.py
for what moto cannot do and what stands in), the stand-in Bot API for Telegram, and the stand-in
CloudFormation for a failed deploy (moto never reaches ROLLBACK_COMPLETE)."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app
from openclaw_deploy.cli.status import _render
from openclaw_deploy.config import ConfigFile, Deployment
from openclaw_deploy.context import AppContext
from openclaw_deploy.infra import spec
from openclaw_deploy.output import to_jsonable
from openclaw_deploy.prompts import Prompter
from openclaw_deploy.runtime.lifecycle import BLOCK_AFTER_FAILURES, STARTING, STOPPING
from openclaw_deploy.runtime.telegram import TelegramBot
from openclaw_deploy.services.cost import task_hour_usd
from openclaw_deploy.services.status import aws_status
from tests.cli.operate import REGION, MotoDeployment, client, deploy_on_moto
from tests.fakes.telegram_api import FakeTelegram, fake_telegram
from tests.infra.fake_cloudformation import FakeCloudFormation

# moto creates the stand-in stack (see tests/cli/operate.py) but warns about its one resource.
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS")
NAME = "opsbot"


@pytest.fixture
def workdir(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("OPENCLAW_DEPLOY_CACHE", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with fake_telegram() as api:
        yield api


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_status_before_any_deploy_says_so_and_what_to_run(workdir: Path) -> None:
    deploy_on_moto(workdir, NAME, stack=False)
    result = run("status", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["target"], report["running"], report["stack_status"]) == ("aws", False, None)
    assert report["agent"] is None and report["usage"] is None
    text = run("status")
    assert text.exit_code == 0
    assert "Not deployed (no stack openclaw-opsbot)" in flat(text.output)
    assert "openclaw-deploy deploy" in text.output


def test_status_with_no_deployment_configured_is_a_clear_error(workdir: Path) -> None:
    result = run("status")
    assert result.exit_code == 9
    assert "No deployment is configured" in result.output
    unknown = run("status", "--name", "nobody")
    assert unknown.exit_code == 9
    assert "No deployment named 'nobody'" in flat(unknown.output)


def test_status_of_a_running_agent_shows_everything_on_real_data(
    workdir: Path, telegram: FakeTelegram
) -> None:
    moto = deploy_on_moto(
        workdir, NAME, telegram_token=telegram.token, telegram_api_url=telegram.url
    )
    TelegramBot(telegram.token, api_url=telegram.url).set_webhook(
        moto.outputs()[spec.OUTPUT_TELEGRAM_WEBHOOK_URL], "secret_token-1"
    )
    now = time.time()
    # An earlier task this month: woke two hours ago, slept after one hour.
    ticks = iter([now - 7200, now - 3600])
    earlier = moto.lifecycle(clock=lambda: next(ticks))
    assert earlier.try_begin_start()
    assert earlier.set_task("arn:aws:ecs:us-east-1:123456789012:task/openclaw-opsbot/old1")
    assert earlier.mark_idle(
        "arn:aws:ecs:us-east-1:123456789012:task/openclaw-opsbot/old1", "idle for 15 minutes"
    )
    # The task running now, with its start-up timings.
    lifecycle = moto.lifecycle()
    arn = "arn:aws:ecs:us-east-1:123456789012:task/openclaw-opsbot/abcd1234"
    assert lifecycle.try_begin_start() and lifecycle.set_task(arn)
    assert lifecycle.mark_running(arn, {"pull": 21.5, "restore": 3.2, "openclaw": 11.0})
    moto.back_up(b"first backup")
    moto.back_up(b"second, larger backup")

    result = run("status", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["running"] is True and report["stack_status"] == "CREATE_COMPLETE"
    assert abs(report["last_deploy_at"] - now) < 120
    assert report["urls"]["web"] == "https://d111.cloudfront.net"
    assert report["urls"]["telegram_webhook"].endswith("/telegram")
    agent = report["agent"]
    assert agent["state"] == "Running"
    assert agent["timings"] == {"pull": 21.5, "restore": 3.2, "openclaw": 11.0}
    # The whole wake, from the start request to Running (here at once): the estimate's source.
    assert len(agent["recent_wakes"]) == 1 and agent["usual_wake"] < 5
    assert agent["last_stop_reason"] == "idle for 15 minutes"
    assert report["memory"]["size_bytes"] == len(b"second, larger backup")
    assert report["memory"]["versions"] == 2
    assert report["telegram"]["webhook_registered"] is True
    assert report["telegram"]["pending_updates"] == 0
    usage = report["usage"]
    assert usage["tasks"] == 2  # the ended one and the one running now
    assert 1.0 <= usage["task_hours"] < 1.1
    hour = task_hour_usd(Deployment(name=NAME).agent)
    assert usage["estimated_usd"] == pytest.approx(usage["task_hours"] * hour, abs=1e-3)
    assert telegram.token not in result.output

    text = flat(run("status").output)
    assert "opsbot on aws (us-east-1): running" in text
    assert "agent Running (ready) since" in text
    assert "last start pull 21.5s, restore 3.2s, openclaw 11.0s" in text
    assert "wake-up usually 0s from a message to ready (last 1 start: 0s)" in text
    assert "last stop idle for 15 minutes" in text
    assert "@test_bot, webhook registered, 0 update(s) pending" in text
    assert "this month 1.0 h of agent time in 2 task(s)" in text
    assert telegram.token not in text


def test_telegram_trouble_is_reported_not_fatal(workdir: Path, telegram: FakeTelegram) -> None:
    deploy_on_moto(workdir, NAME, telegram_token=telegram.token, telegram_api_url=telegram.url)

    # The webhook was never registered: status says so and what to run.
    result = run("status")
    assert result.exit_code == 0, result.output
    assert "no webhook registered" in result.output
    assert "registers the webhook again" in flat(result.output)

    # Telegram reports delivery errors: the last one is shown.
    TelegramBot(telegram.token, api_url=telegram.url).set_webhook(
        "https://abc123.execute-api.us-east-1.amazonaws.com/telegram", "secret_token-1"
    )
    failed_at = int(time.time()) - 300
    telegram._api_getWebhookInfo = lambda params: {  # type: ignore[method-assign]
        "url": "https://abc123.execute-api.us-east-1.amazonaws.com/telegram",
        "pending_update_count": 7,
        "last_error_date": failed_at,
        "last_error_message": "Wrong response from the webhook: 502 Bad Gateway",
    }
    report = json.loads(run("status", "--json").stdout)["telegram"]
    assert report["pending_updates"] == 7
    assert report["last_error"] == "Wrong response from the webhook: 502 Bad Gateway"
    assert report["last_error_at"] == failed_at
    assert "last error 5m ago: Wrong response" in flat(run("status").output)

    # A revoked token: Telegram refuses, status still answers.
    telegram.fail_next("getWebhookInfo", 401)
    answer = run("status", "--json")
    assert answer.exit_code == 0
    assert json.loads(answer.stdout)["telegram"]["check_error"] == "Telegram said: Unauthorized"
    assert telegram.token not in answer.output


def test_status_after_a_failed_first_deploy_repeats_each_reason(workdir: Path) -> None:
    """moto cannot reach ROLLBACK_COMPLETE: the stand-in CloudFormation plays the failed stack,
    handed to the service through the context's client factory."""
    cfn = FakeCloudFormation()
    stack = spec.stack_name(NAME)
    cfn.add(stack, "CREATE_IN_PROGRESS")
    cfn.event(stack, stack, "CREATE_IN_PROGRESS", "User Initiated", "AWS::CloudFormation::Stack")
    cfn.event(stack, "AgentCluster1234", "CREATE_IN_PROGRESS")
    cfn.event(
        stack,
        "AgentCluster1234",
        "CREATE_FAILED",
        "Resource handler returned message: The service-linked role is missing",
        "AWS::ECS::Cluster",
    )
    cfn.event(stack, "DataSettingsFC28C4CC", "CREATE_FAILED", "Resource creation cancelled")
    cfn.event(
        stack,
        stack,
        "ROLLBACK_IN_PROGRESS",
        "The following resource(s) failed to create: [AgentCluster1234]",
        "AWS::CloudFormation::Stack",
    )
    cfn.event(stack, stack, "ROLLBACK_COMPLETE", None, "AWS::CloudFormation::Stack")
    cfn.stacks[stack].status = "ROLLBACK_COMPLETE"
    config = ConfigFile(path=workdir / "openclaw-deploy.yaml")
    deployment = Deployment(name=NAME, region=REGION)
    context = AppContext(
        config_path=config.path,
        console=Console(),
        err_console=Console(stderr=True),
        prompter=Prompter("off"),
        _clients={("cloudformation", REGION): cfn},
    )

    report = aws_status(context, deployment)
    assert (report.running, report.stack_status) == (False, "ROLLBACK_COMPLETE")
    assert [(f.resource, f.reason) for f in report.failures] == [
        (
            "AgentCluster1234",
            "Resource handler returned message: The service-linked role is missing",
        )
    ]
    assert report.agent is None  # nothing is read from a stack that holds nothing
    assert to_jsonable(report)["failures"][0]["resource_type"] == "AWS::ECS::Cluster"
    screen = Console(file=io.StringIO(), width=200)
    _render(screen, report)
    text = flat(screen.file.getvalue())  # type: ignore[attr-defined]
    assert "stack ROLLBACK_COMPLETE" in text
    assert "failed AgentCluster1234 (AWS::ECS::Cluster): Resource handler returned message" in text
    assert "The first deploy failed and was rolled back" in text
    assert "openclaw-deploy deploy --name opsbot" in text


def _play_the_bridge(moto: MotoDeployment, stop: threading.Event, seen: list[str]) -> None:
    """What the bridge does in a real task: report phases, mark Running; on StopTask, back up
    and mark Idle. moto runs no container, so this thread does it through the same calls."""
    lifecycle = moto.lifecycle()
    while not stop.is_set():
        status = lifecycle.get()
        if status.state == STARTING and status.task_arn:
            seen.append(status.task_arn)
            lifecycle.set_phase(status.task_arn, "restoring")
            lifecycle.mark_running(status.task_arn, {"pull": 2.0, "restore": 0.5, "openclaw": 1.5})
        elif status.state == STOPPING and status.task_arn:
            moto.back_up(b"state at sleep")
            lifecycle.mark_idle(status.task_arn, status.last_stop_reason or "stopped")
        time.sleep(0.05)


def test_start_and_stop_on_aws_run_the_task_where_the_handlers_would(workdir: Path) -> None:
    moto = deploy_on_moto(workdir, NAME)
    stop, seen = threading.Event(), []
    bridge = threading.Thread(target=_play_the_bridge, args=(moto, stop, seen), daemon=True)
    bridge.start()
    try:
        started = run("start", "--json")
        assert started.exit_code == 0, started.output
        change = json.loads(started.stdout)
        assert (change["state"], change["changed"]) == ("Running", True)
        assert change["timings"] == {"pull": 2.0, "restore": 0.5, "openclaw": 1.5}
        ecs = client("ecs")
        (task,) = ecs.describe_tasks(cluster=moto.cluster, tasks=seen[:1])["tasks"]
        assert task["taskDefinitionArn"].split("/")[-1].startswith(spec.task_family(NAME))
        assert task["startedBy"] == "openclaw-deploy"
        again = json.loads(run("start", "--json").stdout)
        assert again["changed"] is False

        stopped = run("stop", "--json")
        assert stopped.exit_code == 0, stopped.output
        result = json.loads(stopped.stdout)
        assert (result["state"], result["changed"]) == ("Idle", True)
        assert result["last_stop_reason"] == "stopped by the owner (openclaw-deploy stop)"
    finally:
        stop.set()
        bridge.join(timeout=5)
    usage = moto.lifecycle().usage(time.strftime("%Y-%m", time.gmtime()))
    assert usage.tasks == 1 and 0 < usage.task_seconds < 120


def test_an_agent_that_keeps_failing_to_start_shows_in_status_and_start_clears_it(
    workdir: Path,
) -> None:
    moto = deploy_on_moto(workdir, NAME)
    lifecycle = moto.lifecycle()
    denied = "the agent could not read its queue: AccessDenied on sqs:GetQueueUrl (request {n})"
    for n in range(BLOCK_AFTER_FAILURES):
        assert lifecycle.try_begin_start()
        assert lifecycle.fail_start(denied.format(n=n))

    result = run("status", "--json")
    assert result.exit_code == 0, result.output
    agent = json.loads(result.stdout)["agent"]
    assert agent["start_blocked"] is True
    assert agent["failed_starts"] == BLOCK_AFTER_FAILURES
    assert agent["start_failure"] == denied.format(n=BLOCK_AFTER_FAILURES - 1)
    assert agent["blocked_until"] > time.time()
    text = flat(run("status").output)
    assert f"cannot start {BLOCK_AFTER_FAILURES} failed starts in a row" in text
    assert "AccessDenied on sqs:GetQueueUrl" in text
    assert "Messages no longer wake it (they are kept)" in text
    assert "openclaw-deploy logs --component agent see why it cannot start" in text
    assert "openclaw-deploy start try again once the cause is fixed" in text

    stop, seen = threading.Event(), []
    bridge = threading.Thread(target=_play_the_bridge, args=(moto, stop, seen), daemon=True)
    bridge.start()
    try:
        started = run("start", "--json")
        assert started.exit_code == 0, started.output
        assert json.loads(started.stdout)["state"] == "Running"
    finally:
        stop.set()
        bridge.join(timeout=5)
    after = json.loads(run("status", "--json").stdout)["agent"]
    assert (after["start_blocked"], after["failed_starts"]) == (False, 0)


def test_start_before_any_deploy_is_a_clear_error(workdir: Path) -> None:
    config = ConfigFile(path=workdir / "openclaw-deploy.yaml")
    config.upsert(Deployment(name=NAME, region=REGION))
    config.save()
    result = run("start")
    assert result.exit_code == 9
    assert "'opsbot' is not deployed" in result.output
    assert "openclaw-deploy deploy --name opsbot" in flat(result.output)


def test_status_and_logs_never_load_the_cdk(workdir: Path) -> None:
    """They only read state: aws_cdk (seconds to import, Node behind it) must stay unloaded."""
    import subprocess
    import sys

    deploy_on_moto(workdir, NAME)
    code = (
        "import sys, io, contextlib\n"
        "from openclaw_deploy.cli.app import main\n"
        "for args in (['status', '--json'], ['logs', '--since', '10m'], ['cost', '--json']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            main(args)\n"
        "        except SystemExit as end:\n"
        "            assert not end.code, (args, end.code)\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(loaded & {'aws_cdk', 'jsii', 'constructs'}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=workdir
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
