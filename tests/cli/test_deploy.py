"""`deploy`, `destroy` and `synth` as a user drives them: bad input gives a clear error, an exit
code and no change. (Whole deploys: tests/infra/test_deploy_service.py with stand-ins, and
tests/infra/test_moto_deploy.py with the real CDK CLI.)"""

from __future__ import annotations

import io
import json
from pathlib import Path

import boto3
import pytest
from rich.console import Console
from typer.testing import CliRunner

from openclaw_deploy.aws.ssm import SecretStore
from openclaw_deploy.cli.app import app
from openclaw_deploy.config import ConfigFile, Deployment
from openclaw_deploy.context import AppContext
from openclaw_deploy.errors import UsageError
from openclaw_deploy.prompts import Prompter
from openclaw_deploy.runtime import resources
from tests.infra.fake_cloudformation import FakeCloudFormation

NAME = "mybot"
REGION = "us-east-1"
CANARY_KEY = "sk-canary-CLI-0123456789abcdefghij"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")  # no terminal: nothing can be asked
    monkeypatch.delenv("OPENCLAW_DEPLOY_PROMPTS", raising=False)
    monkeypatch.setenv("OPENCLAW_DEPLOY_CACHE", str(tmp_path / "cache"))
    return tmp_path


def _configure(workdir: Path, *, secrets: bool = True, target: str = "aws") -> Deployment:
    parameters = {}
    if secrets:
        store = SecretStore(boto3.client("ssm", region_name=REGION), NAME)
        for secret, value in ((resources.LLM_API_KEY, CANARY_KEY),):
            store.put(secret.parameter_name(NAME), value, description="test")
            parameters[secret.key] = secret.parameter_name(NAME)
    deployment = Deployment(
        name=NAME,
        region=REGION,
        provider="openai",
        model="gpt-5-mini",
        owner_email="me@example.com",
        parameters=parameters,
        target=target,
    )
    config = ConfigFile(path=workdir / "openclaw-deploy.yaml")
    config.upsert(deployment)
    config.save()
    return deployment


def run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    return result.exit_code, " ".join(result.output.split())


def test_deploy_without_credentials_is_a_clear_error(
    aws_env: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(workdir, secrets=False)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code, output = run(["deploy", "--yes"])
    assert code == 4
    assert "No AWS credentials were found" in output and "aws configure" in output
    assert "Traceback" not in output


def test_missing_bootstrap_without_terminal_or_yes_asks_for_yes_and_changes_nothing(
    aws_env: str, workdir: Path
) -> None:
    _configure(workdir)
    code, output = run(["deploy"])
    assert code == 2
    assert "CDK bootstrap needed" in output and "CDKToolkit" in output  # explained ...
    assert "pass --yes to confirm" in output  # ... and how to say yes without a terminal
    assert "Estimated cost: $" in output  # the plan was shown first
    cfn = boto3.client("cloudformation", region_name=REGION)
    assert cfn.list_stacks()["StackSummaries"] == []
    assert CANARY_KEY not in output


def test_rollback_complete_stack_is_not_touched_without_yes(aws_env: str, workdir: Path) -> None:
    from openclaw_deploy.cli.deploy import deploy_flow

    deployment = _configure(workdir)
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/cdk-bootstrap/hnb659fds/version", Value="30", Type="String"
    )
    cfn = FakeCloudFormation()
    cfn.add("openclaw-mybot", "ROLLBACK_COMPLETE")
    context = AppContext(
        config_path=workdir / "openclaw-deploy.yaml",
        console=Console(file=io.StringIO()),
        err_console=Console(file=io.StringIO()),
        prompter=Prompter("off"),
    )
    context._clients[("cloudformation", REGION)] = cfn  # the stand-in for the one moto lacks
    with pytest.raises(UsageError) as refused:
        deploy_flow(context, deployment, yes=False, as_json=False)
    assert "ROLLBACK_COMPLETE" in refused.value.message
    assert refused.value.hint == "pass --yes to confirm"
    assert not [c for c in cfn.calls if c.startswith("delete_stack")]


def test_destroy_without_terminal_or_yes_refuses_before_any_aws_call(
    aws_env: str, workdir: Path
) -> None:
    _configure(workdir)
    code, output = run(["destroy"])
    assert code == 2
    assert "no terminal to confirm on" in output and "pass --yes" in output
    store = SecretStore(boto3.client("ssm", region_name=REGION), NAME)
    assert store.names_under("/openclaw-deploy/mybot") == [
        resources.LLM_API_KEY.parameter_name(NAME)
    ]


def test_synth_makes_no_aws_call_and_writes_the_assembly(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _configure(workdir, secrets=False)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # any call would fail
    result = CliRunner().invoke(app, ["synth", "--output", "out", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["environment"] == "aws://unknown/us-east-1"
    assert data["resources"] > 80
    template = json.loads((workdir / "out" / "openclaw-mybot.template.json").read_text())
    assert "Fn::GetAZs" in json.dumps(template)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--azs", "us-east-1a"], "give exactly two zones"),
        (["--azs", "us-east-1a,us-east-1b"], "--azs needs the account"),
        (["--lookup", "--azs", "a,b"], "exclude each other"),
    ],
)
def test_synth_bad_zones_are_usage_errors(workdir: Path, args: list[str], message: str) -> None:
    _configure(workdir, secrets=False)
    code, output = run(["synth", *args])
    assert code == 2 and message in output


def test_init_ends_by_deploying(aws_env: str, workdir: Path) -> None:
    """`init` goes straight on to `deploy`: without --yes and a terminal it stops at the first
    question of the deploy — after showing the plan — with its configuration saved."""
    result = CliRunner().invoke(
        app,
        [
            "init",
            "--name",
            NAME,
            "--region",
            REGION,
            "--provider",
            "openai",
            "--owner-email",
            "me@example.com",
            "--skip-checks",
        ],
        env={
            "OPENCLAW_LLM_API_KEY": CANARY_KEY,
            "OPENCLAW_TELEGRAM_BOT_TOKEN": "4242:canaryTOKENabcdefghijklmnopqrstuvwxyz012",
        },
        catch_exceptions=False,
    )
    output = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert f"Deployment '{NAME}' is configured" in output
    assert f"Deploying '{NAME}' to aws://123456789012/us-east-1" in output
    assert "pass --yes to confirm" in output
    assert (workdir / "openclaw-deploy.yaml").exists()
    assert CANARY_KEY not in output
