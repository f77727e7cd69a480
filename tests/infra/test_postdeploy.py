"""The post-deploy steps against a moto server (moto's CloudFormation returns no stack outputs,
so each step gets the outputs a real stack has, pointing at resources made here)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from openclaw_deploy.errors import DeployFailedError
from openclaw_deploy.infra import spec as names
from openclaw_deploy.output import RecordingReporter
from openclaw_deploy.services import postdeploy
from tests.fakes.telegram_api import fake_telegram

REGION = "us-east-1"


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


def _web_dir(tmp_path: Path) -> Path:
    web = tmp_path / "dist"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text("<!doctype html><title>OpenClaw</title>")
    (web / "assets" / "index-abc123.js").write_text("console.log(1)")
    (web / "favicon.svg").write_text("<svg/>")
    (web / "config.json").write_text('{"stale": true}')  # a dev leftover: never uploaded
    return web


def test_publish_web_uploads_the_spa_and_its_config(aws_env: str, tmp_path: Path) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="web-bucket")
    outputs = {
        names.OUTPUT_WEB_BUCKET: "web-bucket",
        names.OUTPUT_HTTP_API_URL: "https://abc.execute-api.us-east-1.amazonaws.com",
        names.OUTPUT_WS_URL: "wss://def.execute-api.us-east-1.amazonaws.com/live",
        names.OUTPUT_COGNITO_ENDPOINT: "https://cognito-idp.us-east-1.amazonaws.com/",
        names.OUTPUT_USER_POOL_ID: "us-east-1_pool",
        names.OUTPUT_USER_POOL_CLIENT_ID: "client123",
    }
    config = postdeploy.runtime_config(outputs, region=REGION, deployment="mybot")
    count = postdeploy.publish_web(
        s3=s3,
        cloudfront=client("cloudfront"),
        outputs=outputs,
        web_dir=_web_dir(tmp_path),
        config=config,
        reporter=RecordingReporter(),
    )
    assert count == 4
    index = s3.get_object(Bucket="web-bucket", Key="index.html")
    assert index["ContentType"].startswith("text/html") and index["CacheControl"] == "no-cache"
    script = s3.get_object(Bucket="web-bucket", Key="assets/index-abc123.js")
    assert script["ContentType"] == "text/javascript" and "immutable" in script["CacheControl"]
    assert s3.get_object(Bucket="web-bucket", Key="favicon.svg")["ContentType"] == "image/svg+xml"
    written = s3.get_object(Bucket="web-bucket", Key="config.json")
    assert written["CacheControl"] == "no-store"
    assert json.loads(written["Body"].read()) == {
        "apiUrl": "https://abc.execute-api.us-east-1.amazonaws.com",
        "wsUrl": "wss://def.execute-api.us-east-1.amazonaws.com/live",
        "region": REGION,
        "cognito": {
            "endpoint": "https://cognito-idp.us-east-1.amazonaws.com/",
            "userPoolId": "us-east-1_pool",
            "clientId": "client123",
        },
        "deployment": "mybot",
    }


def test_a_missing_output_is_reported_by_name() -> None:
    with pytest.raises(postdeploy.MissingOutputError, match=names.OUTPUT_WEB_BUCKET):
        postdeploy.output({}, names.OUTPUT_WEB_BUCKET)


def _repository() -> str:
    ecr = client("ecr")
    return str(
        ecr.create_repository(repositoryName="openclaw-mybot/agent")["repository"]["repositoryUri"]
    )


def test_an_existing_image_is_not_rebuilt(aws_env: str) -> None:
    uri = _repository()
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}
    )
    client("ecr").put_image(
        repositoryName="openclaw-mybot/agent", imageManifest=manifest, imageTag="src-1"
    )
    outputs = {names.OUTPUT_REPOSITORY_URI: uri, names.OUTPUT_IMAGE_PROJECT: "nope"}
    reporter = RecordingReporter()
    outcome = postdeploy.ensure_image(
        ecr=client("ecr"),
        codebuild=None,
        logs=None,
        outputs=outputs,
        tag="src-1",
        local_docker=False,
        reporter=reporter,
        sleep=lambda _: None,
    )
    assert outcome == postdeploy.ImageOutcome(tag="src-1", built=False, how="existing")


def test_a_missing_image_is_built_in_codebuild(aws_env: str) -> None:
    uri = _repository()
    codebuild = client("codebuild")
    codebuild.create_project(
        name="openclaw-mybot-image",
        source={"type": "S3", "location": "bucket/key.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "ARM_CONTAINER",
            "image": "aws/codebuild/amazonlinux-aarch64-standard:3.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole="arn:aws:iam::123456789012:role/build",
    )
    outputs = {names.OUTPUT_REPOSITORY_URI: uri, names.OUTPUT_IMAGE_PROJECT: "openclaw-mybot-image"}
    reporter = RecordingReporter()
    outcome = postdeploy.ensure_image(
        ecr=client("ecr"),
        codebuild=codebuild,
        logs=client("logs"),
        outputs=outputs,
        tag="src-2",
        local_docker=False,
        reporter=reporter,
        sleep=lambda _: None,
    )
    assert outcome.how == "codebuild" and outcome.built
    assert codebuild.list_builds_for_project(projectName="openclaw-mybot-image")["ids"]
    assert any("build phase" in line for line in reporter.lines)


class FailingBuild:
    """CodeBuild that fails the build in its BUILD phase (moto's builds always succeed)."""

    def __init__(self, group: str, stream: str) -> None:
        self.calls = 0
        self.logs = {"groupName": group, "streamName": stream}

    def start_build(self, projectName: str) -> dict[str, Any]:  # noqa: N803 - boto3's name
        return {"build": {"id": f"{projectName}:1"}}

    def batch_get_builds(self, ids: list[str]) -> dict[str, Any]:
        self.calls += 1
        if self.calls < 3:
            return {"builds": [{"currentPhase": "BUILD", "buildStatus": "IN_PROGRESS"}]}
        return {
            "builds": [{"currentPhase": "COMPLETED", "buildStatus": "FAILED", "logs": self.logs}]
        }


def test_a_failed_build_shows_the_end_of_its_log(aws_env: str) -> None:
    uri = _repository()
    logs = client("logs")
    logs.create_log_group(logGroupName="/openclaw-mybot/image-build")
    logs.create_log_stream(logGroupName="/openclaw-mybot/image-build", logStreamName="b1")
    now = int(datetime.now(UTC).timestamp() * 1000)
    logs.put_log_events(
        logGroupName="/openclaw-mybot/image-build",
        logStreamName="b1",
        logEvents=[
            {"timestamp": now, "message": "Step 4/9 : RUN npm install"},
            {"timestamp": now + 1, "message": "npm ERR! 404 Not Found - openclaw@0.0.0"},
        ],
    )
    sleeps: list[float] = []
    with pytest.raises(DeployFailedError) as failure:
        postdeploy.ensure_image(
            ecr=client("ecr"),
            codebuild=FailingBuild("/openclaw-mybot/image-build", "b1"),
            logs=logs,
            outputs={names.OUTPUT_REPOSITORY_URI: uri, names.OUTPUT_IMAGE_PROJECT: "p"},
            tag="src-3",
            local_docker=False,
            reporter=RecordingReporter(),
            sleep=sleeps.append,
        )
    assert "The image build ended FAILED" in failure.value.message
    assert "npm ERR! 404 Not Found" in failure.value.message
    assert failure.value.hint and "openclaw-deploy deploy" in failure.value.hint
    assert sleeps == [postdeploy.BUILD_POLL_SECONDS] * 2


def test_owner_invitation_is_resent_only_when_it_lapses(aws_env: str) -> None:
    cognito = client("cognito-idp")
    pool = cognito.create_user_pool(PoolName="openclaw-mybot", UsernameAttributes=["email"])
    pool_id = pool["UserPool"]["Id"]
    cognito.admin_create_user(UserPoolId=pool_id, Username="me@example.com")
    outputs = {names.OUTPUT_USER_POOL_ID: pool_id}
    fresh = postdeploy.ensure_owner(cognito, outputs, "me@example.com")
    assert fresh == postdeploy.OwnerOutcome(login="me@example.com", status="invited")
    later = postdeploy.ensure_owner(
        cognito, outputs, "me@example.com", now=lambda: datetime.now(UTC) + timedelta(days=8)
    )
    assert later.status == "reinvited"
    assert postdeploy.ensure_owner(cognito, outputs, "nobody@example.com").status == "unknown"


def test_webhook_is_registered_with_its_secret_and_the_bot_named() -> None:
    with fake_telegram() as telegram:
        outcome = postdeploy.register_webhook(
            token=telegram.token,
            secret="s3cret-token_value",
            url="https://abc.execute-api.us-east-1.amazonaws.com/telegram",
            api_url=telegram.url,
        )
        webhook = dict(telegram.webhook)
        commands = [c["command"] for c in telegram.commands]
    assert commands == ["new", "status", "help"], "the command menu is registered at deploy"
    assert outcome.url.endswith("/telegram")
    assert outcome.bot
    assert webhook["url"] == "https://abc.execute-api.us-east-1.amazonaws.com/telegram"
    assert webhook["secret_token"] == "s3cret-token_value"


def test_a_refused_webhook_fails_without_showing_the_token() -> None:
    with fake_telegram() as telegram, pytest.raises(DeployFailedError) as failure:
        postdeploy.register_webhook(
            token="999:wrong-token-abcdefghijklmnopqrstuvwxyz",
            secret="s",
            url="https://x/telegram",
            api_url=telegram.url,
        )
    assert "Telegram refused the webhook" in failure.value.message
    assert "wrong-token" not in failure.value.message
