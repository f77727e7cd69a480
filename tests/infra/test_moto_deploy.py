"""The real thing against a moto server: `init` stores canary secrets, `synth` and `deploy` run
the embedded CDK app and the pinned npm `aws-cdk` CLI (bootstrap included), and `destroy` goes
as far as moto allows.

What moto cannot do, and so what these tests cannot show (each is covered with stand-ins in
test_deploy_service.py / test_postdeploy.py):
* its CloudFormation skips API Gateway v2, CloudFront, Cognito, CodeBuild and a few more types,
  and returns no stack outputs, so the post-deploy steps (web upload, owner, image, webhook)
  report themselves skipped;
* it writes no per-resource stack events (only the stack's own), so progress shows stack states;
* of a task definition it keeps family, containers and memory, of a function not its
  architecture (ARM64 is checked in the template);
* it cannot update a stack through a change set ("cdk-deploy-change-set does not exist");
* it deletes a stack synchronously, ignores DeletionPolicy (retained tables go too) and refuses
  to delete the VPC it created (DependencyViolation), so destroy stops there with exit code 5.
The CDK CLI only reaches moto through `AWS_ENDPOINT_URL=http://localhost:PORT`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from openclaw_deploy import toolchain
from openclaw_deploy.cli.app import app
from openclaw_deploy.infra.staging import HANDLER_MODULES
from openclaw_deploy.runtime import resources
from tests.fakes.telegram_api import FakeTelegram, fake_telegram

NAME = "mybot"
STACK = "openclaw-mybot"
REGION = "us-east-1"
CANARY_KEY = "sk-canary-MOTO-0123456789abcdefghij"


@pytest.fixture(scope="session")
def tool_cache() -> Path:
    """The cache as the session found it (aws_env clears OPENCLAW_*): the CDK CLI lives there."""
    return toolchain.cache_dir()


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with fake_telegram() as fake:
        yield fake


@pytest.fixture
def workdir(
    tool_cache: Path, aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("OPENCLAW_DEPLOY_CACHE", str(tool_cache))
    return tmp_path


def _init(telegram: FakeTelegram) -> None:
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
            "--telegram-api-url",
            telegram.url,
            "--skip-checks",
            "--no-deploy",
            "--yes",
        ],
        env={"OPENCLAW_LLM_API_KEY": CANARY_KEY, "OPENCLAW_TELEGRAM_BOT_TOKEN": telegram.token},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output


def _files_containing(folder: Path, needle: str) -> list[Path]:
    data = needle.encode()
    return [p for p in folder.rglob("*") if p.is_file() and data in p.read_bytes()]


def test_canary_secret_appears_nowhere_in_the_cloud_assembly(
    workdir: Path, telegram: FakeTelegram
) -> None:
    _init(telegram)
    result = CliRunner().invoke(
        app, ["synth", "--lookup", "--output", "out", "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    out = workdir / "out"
    assert (out / f"{STACK}.template.json").exists()
    assert len(list(out.rglob("*"))) > 20  # templates, manifests, both staged assets
    template = (out / f"{STACK}.template.json").read_text()
    assert resources.keys_path(NAME) in template  # the keys' path is there (task role) ...
    for secret in (CANARY_KEY, telegram.token):  # ... no value is, in any file
        assert _files_containing(out, secret) == []
        assert secret not in result.output


def _moto_localhost(monkeypatch: pytest.MonkeyPatch) -> str:
    # moto must be named `localhost` for the CDK CLI (virtual-host S3 addressing and signing).
    endpoint = os.environ["AWS_ENDPOINT_URL"].replace("127.0.0.1", "localhost")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    return endpoint


@pytest.mark.slow
def test_real_cdk_cli_deploys_into_moto_then_destroy_goes_as_far_as_moto_allows(
    workdir: Path, telegram: FakeTelegram, tool_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _moto_localhost(monkeypatch)
    _init(telegram)
    deployed = CliRunner().invoke(app, ["deploy", "--yes"], catch_exceptions=False)
    # moto's stack has no outputs, so nothing can be reached: a failure, whatever the stack says.
    assert deployed.exit_code == 8, deployed.output
    output = deployed.output
    flat = " ".join(output.split())
    assert "in part" in flat and "cannot be used: no web chat URL" in flat
    assert "Fix: openclaw-deploy deploy --name mybot (safe to run again)" in flat
    assert "Bootstrapping the CDK in aws://123456789012/us-east-1" in output
    assert f"Stack {STACK} is CREATE_COMPLETE" in output

    cfn = boto3.client("cloudformation", region_name=REGION)
    statuses = {s["StackName"]: s["StackStatus"] for s in cfn.list_stacks()["StackSummaries"]}
    assert statuses == {"CDKToolkit": "CREATE_COMPLETE", STACK: "CREATE_COMPLETE"}
    # What moto's CloudFormation did create is what the description says.
    tables = boto3.client("dynamodb", region_name=REGION).list_tables()["TableNames"]
    assert sorted(tables) == sorted(t.physical_name(NAME) for t in resources.TABLES)
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.get_queue_url(QueueName=resources.INBOUND.physical_name(NAME))["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["FifoQueue"] == "true" and "RedrivePolicy" in attributes
    ecs = boto3.client("ecs", region_name=REGION)
    task = ecs.describe_task_definition(taskDefinition=f"{STACK}-agent")["taskDefinition"]
    assert task["memory"] == "2048"  # moto keeps no runtimePlatform (see module doc)
    container = task["containerDefinitions"][0]
    assert (container["memory"], container["stopTimeout"]) == (2048, 120)
    # The provider key is not an ECS secret: the bridge reads it from keys/ at each turn.
    assert {s["name"] for s in container["secrets"]} == {"OPENCLAW_TELEGRAM_BOT_TOKEN"}
    functions = boto3.client("lambda", region_name=REGION).list_functions()["Functions"]
    assert sorted(f["FunctionName"] for f in functions) == [
        f"{STACK}-{key}" for key in sorted(HANDLER_MODULES)
    ]
    # (moto drops Architectures; ARM64 is checked in the template.)
    assert {f["Handler"] for f in functions} == {
        f"{module}.handler" for module in HANDLER_MODULES.values()
    }
    groups = boto3.client("logs", region_name=REGION).describe_log_groups(
        logGroupNamePrefix=f"/{STACK}/"
    )["logGroups"]
    assert sorted(g["logGroupName"] for g in groups) == sorted(
        [
            f"/{STACK}/agent",
            f"/{STACK}/http-api-access",
            f"/{STACK}/image-build",
            *(f"/{STACK}/lambda/{key}" for key in HANDLER_MODULES),
        ]
    )
    assert {g["retentionInDays"] for g in groups} == {30}
    # moto returns no outputs: the post-deploy steps say they were skipped (see module doc).
    assert "Skipped the web UI upload" in output

    # No secret value in anything this produced: output, assembly, the CDK CLI's log.
    assembly = tool_cache / "assemblies" / NAME
    logs = tool_cache / "logs"
    for secret in (CANARY_KEY, telegram.token):
        assert secret not in output
        assert _files_containing(assembly, secret) == []
        assert _files_containing(logs, secret) == []

    # The web bucket must be emptied before the stack goes (found without outputs, too).
    s3 = boto3.client("s3", region_name=REGION)
    summaries = cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    (web,) = [
        r["PhysicalResourceId"]
        for r in summaries
        if r["ResourceType"] == "AWS::S3::Bucket" and r["LogicalResourceId"].startswith("WebBucket")
    ]
    s3.put_object(Bucket=web, Key="index.html", Body=b"<html></html>")

    destroyed = CliRunner().invoke(app, ["destroy", "--yes"], catch_exceptions=False)
    text = " ".join(destroyed.output.split())
    # Done before moto gives up: the webhook is gone (the bot token was still readable) ...
    assert [c.method for c in telegram.calls_to("deleteWebhook")] == ["deleteWebhook"]
    assert "keeps openclaw-mybot-conversations (your data" in text
    # ... then moto refuses its own VPC (a real stack deletes it after the subnets).
    assert destroyed.exit_code == 5, destroyed.output
    assert "DependencyViolation" in text and "cannot be deleted" in text
    assert STACK not in {s["StackName"] for s in cfn.list_stacks()["StackSummaries"]}
    assert web not in {b["Name"] for b in s3.list_buckets()["Buckets"]}  # emptied, so deleted
    # The parameters stay until the stack is gone, so destroy can be run again.
    ssm = boto3.client("ssm", region_name=REGION)
    assert ssm.get_parameters_by_path(Path=f"/openclaw-deploy/{NAME}")["Parameters"]


@pytest.mark.slow
def test_a_deploy_failing_half_way_shows_why_and_exits_non_zero(
    workdir: Path, telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    _moto_localhost(monkeypatch)
    _init(telegram)
    # Someone else's log group holds one of our names: the stack cannot create it.
    boto3.client("logs", region_name=REGION).create_log_group(logGroupName=f"/{STACK}/agent")
    result = CliRunner().invoke(app, ["deploy", "--yes"], catch_exceptions=False)
    text = " ".join(result.output.split())
    assert result.exit_code == 8, result.output
    assert f"Deploying {STACK} failed" in text
    assert "The CDK CLI said" in text and "failed to deploy" in text  # moto sends no events
    assert "Fix:" in text
    assert CANARY_KEY not in result.output


def test_a_deploy_whose_provider_has_no_key_says_which_command_adds_it(
    workdir: Path, telegram: FakeTelegram
) -> None:
    _init(telegram)
    boto3.client("ssm", region_name=REGION).delete_parameter(
        Name=f"{resources.keys_path(NAME)}/openai"
    )
    result = CliRunner().invoke(app, ["deploy", "--yes"], catch_exceptions=False)
    assert result.exit_code == 3, result.output
    flat = " ".join(result.output.split())
    assert f"is not in SSM ({resources.keys_path(NAME)}/openai)" in flat
    assert f"Fix: openclaw-deploy keys set openai --name {NAME}" in flat
