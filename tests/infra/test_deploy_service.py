"""The deploy and destroy services end to end: moto for every AWS service, a stand-in for
CloudFormation and the CDK CLI (to reach ROLLBACK_COMPLETE and failed resources, which moto
cannot), and the stand-in Telegram. The real CDK CLI against moto is in test_moto_deploy.py."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from openclaw_deploy.aws.cloudformation import ResourceProgress, StackInfo
from openclaw_deploy.aws.ssm import SecretStore
from openclaw_deploy.config import ConfigFile, Deployment, load_config
from openclaw_deploy.errors import AwsError, ConfigError, DeployFailedError, UsageError
from openclaw_deploy.infra import spec as names
from openclaw_deploy.infra.spec import InfraSpec
from openclaw_deploy.local.provision import provision_tables
from openclaw_deploy.output import RecordingReporter
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.lifecycle import BLOCK_AFTER_FAILURES, Lifecycle
from openclaw_deploy.services import deploy as service
from openclaw_deploy.services.destroy import execute_destroy, prepare_destroy
from openclaw_deploy.services.synth import SynthResult, run_synth
from tests.fakes.telegram_api import FakeTelegram, fake_telegram
from tests.infra.fake_cloudformation import Deployed, FakeCdk, FakeCloudFormation

NAME = "mybot"
STACK = names.stack_name(NAME)
REGION = "us-east-1"
ACCOUNT = "123456789012"
CANARY_KEY = "sk-canary-SERVICE-0123456789abcdefghij"


class RecordingProgress:
    def __init__(self) -> None:
        self.resources: list[ResourceProgress] = []
        self.stacks: list[str] = []
        self.operations: list[str] = []

    def start(self, stack: str) -> None:
        self.operations.append(f"start {stack}")

    def finish(self) -> None:
        self.operations.append("finish")

    def resource(self, progress: ResourceProgress) -> None:
        self.resources.append(progress)

    def stack(self, status: str, reason: str | None) -> None:
        self.stacks.append(status)


_SYNTHESES: dict[str, SynthResult] = {}


def reuse_synthesis(spec: InfraSpec, output: Path, reporter: Any) -> SynthResult:
    """Synthesize each distinct spec once per session; later plans get a copy of it."""
    key = repr(spec)
    if key not in _SYNTHESES:
        _SYNTHESES[key] = run_synth(spec, output.parent / "first-synthesis", reporter=reporter)
    first = _SYNTHESES[key]
    shutil.rmtree(output, ignore_errors=True)
    shutil.copytree(first.directory, output)
    return replace(first, directory=output, template_file=output / first.template_file.name)


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with fake_telegram() as fake:
        yield fake


@pytest.fixture
def world(
    aws_env: str, tmp_path: Path, telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    monkeypatch.setenv("OPENCLAW_DEPLOY_CACHE", str(tmp_path / "cache"))
    ssm = boto3.client("ssm", region_name=REGION)
    store = SecretStore(ssm, NAME)
    parameters = {}
    for secret, value in (
        (resources.LLM_API_KEY, CANARY_KEY),
        (resources.TELEGRAM_BOT_TOKEN, telegram.token),
        (resources.TELEGRAM_WEBHOOK_SECRET, "webhook-secret-value"),
    ):
        store.put(secret.parameter_name(NAME), value, description="test")
        parameters[secret.key] = secret.parameter_name(NAME)
    ssm.put_parameter(Name=service.BOOTSTRAP_PARAMETER, Value="30", Type="String")
    deployment = Deployment(
        name=NAME,
        region=REGION,
        provider="openai",
        model="gpt-5-mini",
        owner_email="me@example.com",
        telegram_api_url=telegram.url,
        parameters=parameters,
    )
    config = ConfigFile(path=tmp_path / "openclaw-deploy.yaml")
    config.upsert(deployment)
    config.save()
    cfn = FakeCloudFormation()
    cdk = FakeCdk(cfn, tmp_path / "logs")

    def clients(name: str) -> Any:
        return cfn if name == "cloudformation" else boto3.client(name, region_name=REGION)  # type: ignore[call-overload]

    context = service.DeployContext(
        clients=clients,
        cdk=cdk,
        sleep=lambda _: None,
        synthesize=reuse_synthesis,  # type: ignore[arg-type]
    )
    return {
        "deployment": deployment,
        "config": config,
        "cfn": cfn,
        "cdk": cdk,
        "context": context,
        "tmp": tmp_path,
    }


def _plan(world: dict[str, Any], deployment: Deployment | None = None) -> service.DeployPlan:
    return service.prepare_deploy(
        deployment or world["deployment"],
        context=world["context"],
        reporter=RecordingReporter(),
        assembly_dir=world["tmp"] / "assembly",
    )


def test_a_failed_first_deploy_is_replaced_and_each_failure_reported(world: dict[str, Any]) -> None:
    cfn: FakeCloudFormation = world["cfn"]
    cdk: FakeCdk = world["cdk"]
    cfn.add(STACK, "ROLLBACK_COMPLETE")
    plan = _plan(world)
    assert plan.replace_failed_stack and plan.first_deploy and not plan.bootstrap_needed
    assert plan.units["Data"] >= 9 and plan.resources > 80
    assert plan.cost.total_usd <= 1.0

    cdk.failures = [
        ("DataConversations41BA6FE0", "Resource handler returned message: Table already exists"),
        ("AgentTaskDefinitionAF7B9E34", "Invalid request provided: memory is too small"),
    ]
    progress = RecordingProgress()
    with pytest.raises(DeployFailedError) as failure:
        service.execute_deploy(
            plan,
            world["deployment"],
            context=world["context"],
            config=world["config"],
            reporter=RecordingReporter(),
            progress=progress,
        )
    calls = [c for c in cfn.calls if c.startswith("delete_stack")]
    assert calls == [f"delete_stack {STACK}"]
    message = failure.value.message
    assert "(ROLLBACK_COMPLETE)" in message
    assert "Data/Conversations (AWS::DynamoDB::Table) CREATE_FAILED: Resource handler" in message
    assert "Agent/TaskDefinition" in message and "memory is too small" in message
    assert "cancelled" not in message  # noise from resources that never started is left out
    assert failure.value.hint and f"openclaw-deploy destroy --name {NAME}" in failure.value.hint
    assert failure.value.exit_code == 8
    # Progress saw every resource event, named by construct path, with durations.
    done = [p for p in progress.resources if p.status == "CREATE_FAILED" and p.seconds is not None]
    assert {p.name for p in done} == {"Data/Conversations", "Agent/TaskDefinition"}
    assert "ROLLBACK_COMPLETE" in progress.stacks
    # Two operations (delete the old stack, deploy), each closed even though the second failed.
    assert progress.operations == [f"start {STACK}", "finish", f"start {STACK}", "finish"]


def _outputs_in_moto(telegram: FakeTelegram) -> dict[str, str]:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="openclaw-mybot-web")
    ecr = boto3.client("ecr", region_name=REGION)
    uri = ecr.create_repository(repositoryName="openclaw-mybot/agent")["repository"][
        "repositoryUri"
    ]
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool = cognito.create_user_pool(PoolName=STACK, UsernameAttributes=["email"])["UserPool"]["Id"]
    cognito.admin_create_user(UserPoolId=pool, Username="me@example.com")
    return {
        names.OUTPUT_WEB_URL: "https://d111.cloudfront.net",
        names.OUTPUT_WEB_BUCKET: "openclaw-mybot-web",
        names.OUTPUT_HTTP_API_URL: "https://abc.execute-api.us-east-1.amazonaws.com",
        names.OUTPUT_WS_URL: "wss://def.execute-api.us-east-1.amazonaws.com/live",
        names.OUTPUT_COGNITO_ENDPOINT: "https://cognito-idp.us-east-1.amazonaws.com/",
        names.OUTPUT_USER_POOL_ID: pool,
        names.OUTPUT_USER_POOL_CLIENT_ID: "client",
        names.OUTPUT_TELEGRAM_WEBHOOK_URL: "https://abc.execute-api.us-east-1.amazonaws.com/telegram",
        names.OUTPUT_REPOSITORY_URI: uri,
        names.OUTPUT_IMAGE_PROJECT: "openclaw-mybot-image",
    }


def test_a_deploy_finishes_every_step_and_records_the_account(
    world: dict[str, Any], telegram: FakeTelegram
) -> None:
    cfn: FakeCloudFormation = world["cfn"]
    plan = _plan(world)
    assert plan.stack_status is None and not plan.adopt
    outputs = _outputs_in_moto(telegram)
    # The image for this tag exists already: deploy must not rebuild it.
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}
    )
    boto3.client("ecr", region_name=REGION).put_image(
        repositoryName="openclaw-mybot/agent", imageManifest=manifest, imageTag=plan.image_tag
    )
    original = world["cdk"].deploy

    def deploy(*args: Any, **kwargs: Any) -> Any:
        run = original(*args, **kwargs)
        cfn.stacks[STACK].outputs = outputs
        return run

    world["cdk"].deploy = deploy
    # The agent had stopped waking after the same failed start three times.
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    provision_tables(dynamodb, NAME)
    blocked = Lifecycle(dynamodb, resources.TASK_STATE.physical_name(NAME))
    for _ in range(BLOCK_AFTER_FAILURES):
        assert blocked.try_begin_start() and blocked.fail_start("CannotPullContainerError")
    assert blocked.get().start_blocked(time.time())
    result = service.execute_deploy(
        plan,
        world["deployment"],
        context=world["context"],
        config=world["config"],
        reporter=RecordingReporter(),
        progress=RecordingProgress(),
    )
    assert not blocked.get().start_blocked(time.time()), "a successful deploy lifts the block"
    # The image was not there when planned: the first deploy left the owner out, the second
    # (once the image was found) invited them.
    assert result.status == "UPDATE_COMPLETE" and result.skipped == [] and result.deploys == 2
    assert world["cdk"].deployed == [
        Deployed(image_tag=plan.image_tag, owner=False),
        Deployed(image_tag=plan.image_tag, owner=True),
    ]
    assert result.web_url == "https://d111.cloudfront.net"
    assert (result.owner_login, result.owner_status) == ("me@example.com", "invited")
    assert result.image == "existing"
    assert telegram.webhook["url"] == outputs[names.OUTPUT_TELEGRAM_WEBHOOK_URL]
    assert telegram.webhook["secret_token"] == "webhook-secret-value"
    assert result.telegram_bot
    config = json.loads(
        boto3.client("s3", region_name=REGION)
        .get_object(Bucket="openclaw-mybot-web", Key="config.json")["Body"]
        .read()
    )
    assert config["cognito"]["userPoolId"] == outputs[names.OUTPUT_USER_POOL_ID]
    saved = load_config(world["config"].path).deployments[NAME]
    assert saved.account == ACCOUNT and saved.telegram_bot_username == result.telegram_bot
    # Nothing of this run may carry the API key.
    assert CANARY_KEY not in json.dumps(config) and CANARY_KEY not in repr(result)


def test_kept_data_is_taken_over_by_the_next_deploy(world: dict[str, Any]) -> None:
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=resources.CONVERSATIONS.physical_name(NAME),
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    plan = _plan(world)
    assert plan.adopt == [resources.CONVERSATIONS.physical_name(NAME)]
    service.execute_deploy(
        plan,
        world["deployment"],
        context=world["context"],
        config=world["config"],
        reporter=RecordingReporter(),
        progress=RecordingProgress(),
    )
    assert world["cdk"].calls == [f"deploy {STACK} import=True"]


def test_bootstrap_runs_first_when_missing(world: dict[str, Any]) -> None:
    boto3.client("ssm", region_name=REGION).delete_parameter(Name=service.BOOTSTRAP_PARAMETER)
    plan = _plan(world)
    assert plan.bootstrap_needed and plan.bootstrap_version is None
    service.execute_deploy(
        plan,
        world["deployment"],
        context=world["context"],
        config=world["config"],
        reporter=RecordingReporter(),
        progress=RecordingProgress(),
    )
    assert world["cdk"].calls == [f"bootstrap {ACCOUNT} {REGION}", f"deploy {STACK} import=False"]


def test_an_update_shows_what_changes(world: dict[str, Any]) -> None:
    plan = _plan(world)
    template = json.loads((plan.assembly_dir / f"{STACK}.template.json").read_text())
    old = json.loads(json.dumps(template))
    old["Resources"]["Gone"] = {"Type": "AWS::SNS::Topic", "Properties": {}}
    del old["Resources"]["WatchdogScheduleD5E067EF"]
    old["Resources"]["DataConversations41BA6FE0"]["Properties"]["BillingMode"] = "PROVISIONED"
    world["cfn"].add(STACK, "UPDATE_COMPLETE", template=old)
    plan = _plan(world)
    changes = {(c.action, c.name) for c in plan.changes}
    assert changes == {
        ("add", "Watchdog/Schedule"),
        ("remove", "Gone"),
        ("modify", "Data/Conversations"),
    }
    assert not plan.first_deploy


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("UPDATE_IN_PROGRESS", "busy"),
        ("UPDATE_ROLLBACK_FAILED", "continue-update-rollback"),
    ],
)
def test_stacks_that_cannot_be_deployed_now_are_refused(status: str, expected: str) -> None:
    info = StackInfo(name=STACK, stack_id="id", status=status, reason=None, outputs={})
    with pytest.raises(AwsError) as error:
        service.check_stack_state(info, NAME)
    assert expected in error.value.message + (error.value.hint or "")


def test_prepare_refuses_wrong_account_missing_key_and_local_target(world: dict[str, Any]) -> None:
    with pytest.raises(UsageError, match="account 123456789012"):
        _plan(world, replace(world["deployment"], account="999999999999"))
    boto3.client("ssm", region_name=REGION).delete_parameter(
        Name=resources.LLM_API_KEY.parameter_name(NAME)
    )
    with pytest.raises(ConfigError) as missing:
        _plan(world)
    assert missing.value.hint == f"openclaw-deploy keys set openai --name {NAME}"
    with pytest.raises(UsageError, match="targets local"):
        _plan(world, replace(world["deployment"], target="local"))


def test_destroy_removes_everything_but_the_kept_data(
    world: dict[str, Any], telegram: FakeTelegram
) -> None:
    cfn: FakeCloudFormation = world["cfn"]
    outputs = _outputs_in_moto(telegram)
    boto3.client("s3", region_name=REGION).put_object(
        Bucket="openclaw-mybot-web", Key="index.html", Body=b"x"
    )
    cfn.add(STACK, "CREATE_COMPLETE", outputs=outputs)
    state = resources.STATE_BUCKET.physical_name(NAME, ACCOUNT, REGION)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=state)
    telegram.webhook = {"url": "https://old/telegram", "secret_token": "x"}

    plan = prepare_destroy(
        world["deployment"], context=world["context"], reporter=RecordingReporter(), purge=False
    )
    assert plan.webhook and len(plan.parameters) == 3
    assert state in plan.keeping and not plan.purging
    result = execute_destroy(
        plan,
        world["deployment"],
        context=world["context"],
        config=world["config"],
        reporter=RecordingReporter(),
        progress=RecordingProgress(),
    )
    assert result.stack_deleted and result.webhook_removed
    assert telegram.webhook["url"] == ""
    assert (
        boto3.client("s3", region_name=REGION)
        .list_objects_v2(Bucket="openclaw-mybot-web")
        .get("KeyCount")
        == 0
    )
    assert (
        SecretStore(boto3.client("ssm", region_name=REGION), NAME).names_under(
            "/openclaw-deploy/mybot"
        )
        == []
    )
    boto3.client("s3", region_name=REGION).head_bucket(Bucket=state)  # kept
    assert load_config(world["config"].path).deployments[NAME].parameters == {}


def test_destroy_purge_deletes_the_kept_data_and_the_config_entry(world: dict[str, Any]) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    state = resources.STATE_BUCKET.physical_name(NAME, ACCOUNT, REGION)
    s3.create_bucket(Bucket=state)
    s3.put_bucket_versioning(Bucket=state, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"v1", b"v2"):
        s3.put_object(Bucket=state, Key="backup.tar.gz", Body=body)
    plan = prepare_destroy(
        world["deployment"], context=world["context"], reporter=RecordingReporter(), purge=True
    )
    assert plan.stack_status is None and plan.purging == [state]
    result = execute_destroy(
        plan,
        world["deployment"],
        context=world["context"],
        config=world["config"],
        reporter=RecordingReporter(),
        progress=RecordingProgress(),
    )
    assert result.purged == [state] and not result.stack_deleted
    assert state not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert NAME not in load_config(world["config"].path).deployments


# --- deploy order, fresh accounts --------------------------------------------------------------


class FakeCodeBuild:
    """Plays CodeBuild (moto cannot run a build): a build pushes the image to moto's ECR, or
    the account's quota refuses it as AWS does on many new accounts."""

    def __init__(self, tag: str, *, quota: int = 1) -> None:
        self.tag = tag
        self.quota = quota
        self.started: list[str] = []

    def start_build(self, projectName: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        if self.quota == 0:
            raise ClientError(
                {
                    "Error": {
                        "Code": "AccountLimitExceededException",
                        "Message": "Cannot have more than 0 builds in queue for the account",
                    }
                },
                "StartBuild",
            )
        self.started.append(projectName)
        manifest = json.dumps(
            {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}
        )
        boto3.client("ecr", region_name=REGION).put_image(
            repositoryName="openclaw-mybot/agent", imageManifest=manifest, imageTag=self.tag
        )
        return {"build": {"id": "build-1"}}

    def batch_get_builds(self, ids: list[str]) -> dict[str, Any]:
        return {"builds": [{"id": ids[0], "buildStatus": "SUCCEEDED", "currentPhase": "COMPLETED"}]}


def _with_codebuild(world: dict[str, Any], codebuild: FakeCodeBuild) -> None:
    inner = world["context"].clients
    world["context"] = replace(
        world["context"], clients=lambda name: codebuild if name == "codebuild" else inner(name)
    )


def _put_image(tag: str) -> None:
    manifest = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}
    )
    boto3.client("ecr", region_name=REGION).put_image(
        repositoryName="openclaw-mybot/agent", imageManifest=manifest, imageTag=tag
    )


def _image_exists(tag: str | None) -> bool:
    return service.image_in_ecr(
        boto3.client("ecr", region_name=REGION), "openclaw-mybot/agent", tag
    )


def _guard_every_deploy(world: dict[str, Any]) -> None:
    """Fails the deploy that would let a task or an invitation meet an image not in ECR."""

    def check(deployed: Deployed) -> None:
        if deployed.owner or world["cfn"].stacks.get(STACK) is not None:
            assert _image_exists(deployed.image_tag), deployed

    world["cdk"].on_deploy = check


def test_an_update_with_new_sources_keeps_the_running_image_until_the_new_one_is_built(
    world: dict[str, Any], telegram: FakeTelegram
) -> None:
    outputs = _outputs_in_moto(telegram)
    old_tag = "src-0123456789abcdef0123456789abcdef"
    _put_image(old_tag)
    owner = {"Owner": {"Type": "AWS::Cognito::UserPoolUser", "Properties": {}}}
    world["cfn"].add(
        STACK,
        "UPDATE_COMPLETE",
        outputs={**outputs, names.OUTPUT_IMAGE_TAG: old_tag},
        template={"Resources": owner},
    )
    plan = _plan(world)
    assert not plan.image_ready and plan.running_tag == old_tag and plan.owner_in_stack
    codebuild = FakeCodeBuild(plan.image_tag)
    _with_codebuild(world, codebuild)
    _guard_every_deploy(world)
    result = service.execute_deploy(
        plan,
        world["deployment"],
        context=world["context"],
        config=world["config"],
        reporter=RecordingReporter(),
        progress=RecordingProgress(),
    )
    # First the stack (and the build project) moved on with the task still on the old image,
    # then CodeBuild built the new one, then the task definition switched to it.
    assert world["cdk"].deployed == [
        Deployed(image_tag=old_tag, owner=True),
        Deployed(image_tag=plan.image_tag, owner=True),
    ]
    assert codebuild.started == ["openclaw-mybot-image"]
    assert result.image == "codebuild" and result.deploys == 2


def test_a_first_deploy_invites_the_owner_only_once_the_image_is_built(
    world: dict[str, Any], telegram: FakeTelegram
) -> None:
    plan = _plan(world)
    assert not plan.image_ready and plan.running_tag is None and not plan.owner_in_stack
    codebuild = FakeCodeBuild(plan.image_tag)
    _with_codebuild(world, codebuild)
    events: list[str] = []
    outputs: dict[str, str] = {}
    original = world["cdk"].deploy

    def deploy(*args: Any, **kwargs: Any) -> Any:
        run = original(*args, **kwargs)
        outputs.update(outputs or _outputs_in_moto(telegram))  # the resources exist once
        world["cfn"].stacks[STACK].outputs = outputs
        events.append(f"deploy owner={world['cdk'].deployed[-1].owner}")
        return run

    world["cdk"].deploy = deploy
    inner_start = codebuild.start_build

    def start_build(projectName: str) -> dict[str, Any]:  # noqa: N803
        events.append("build")
        return inner_start(projectName)

    codebuild.start_build = start_build  # type: ignore[method-assign]
    result = service.execute_deploy(
        plan,
        world["deployment"],
        context=world["context"],
        config=world["config"],
        reporter=RecordingReporter(),
        progress=RecordingProgress(),
    )
    assert events == ["deploy owner=False", "build", "deploy owner=True"]
    assert result.owner_status == "invited"
    # The webhook (the other way a message arrives) was registered after the build too.
    assert telegram.webhook["url"].endswith("/telegram")


def test_a_codebuild_quota_of_zero_is_explained_with_the_fix(
    world: dict[str, Any], telegram: FakeTelegram
) -> None:
    plan = _plan(world)
    _with_codebuild(world, FakeCodeBuild(plan.image_tag, quota=0))
    outputs = _outputs_in_moto(telegram)
    original = world["cdk"].deploy

    def deploy(*args: Any, **kwargs: Any) -> Any:
        run = original(*args, **kwargs)
        world["cfn"].stacks[STACK].outputs = outputs
        return run

    world["cdk"].deploy = deploy
    with pytest.raises(AwsError) as refused:
        service.execute_deploy(
            plan,
            world["deployment"],
            context=world["context"],
            config=world["config"],
            reporter=RecordingReporter(),
            progress=RecordingProgress(),
        )
    assert "AccountLimitExceededException" in refused.value.message
    hint = refused.value.hint or ""
    assert "Service Quotas" in hint and "--local-docker" in hint
    assert refused.value.exit_code == 5
    # Nothing moved on to an image that does not exist, and nobody was invited.
    assert world["cdk"].deployed == [Deployed(image_tag=plan.image_tag, owner=False)]
    assert telegram.webhook.get("url", "") == ""


def test_the_ecs_service_linked_role_is_created_once_on_a_fresh_account(
    world: dict[str, Any],
) -> None:
    iam = boto3.client("iam", region_name=REGION)
    assert service.ensure_service_linked_role(iam) is True
    # Present now (moto spells the name its own way; AWS answers "has been taken"): no error.
    assert service.ensure_service_linked_role(iam) is False


class FakeLambdaSettings:
    def __init__(self, limit: int, unreserved: int, ours: int | None = None) -> None:
        self.limit, self.unreserved, self.ours = limit, unreserved, ours

    def get_account_settings(self) -> dict[str, Any]:
        return {
            "AccountLimit": {
                "ConcurrentExecutions": self.limit,
                "UnreservedConcurrentExecutions": self.unreserved,
            }
        }

    def get_function_concurrency(self, FunctionName: str) -> dict[str, Any]:  # noqa: N803
        return {"ReservedConcurrentExecutions": self.ours} if self.ours else {}


def test_webhook_concurrency_is_reserved_only_where_the_account_can_spare_it(
    world: dict[str, Any],
) -> None:
    function = names.function_name(NAME, "telegram")
    new_account = service.webhook_concurrency(FakeLambdaSettings(10, 10), function)
    assert new_account.reserved is None and "limit is 10" in new_account.note
    assert "throttle" in new_account.note
    assert service.webhook_concurrency(FakeLambdaSettings(1000, 1000), function).reserved == 5
    # 104 unreserved + the 5 this function holds already: setting 5 again leaves 104.
    assert (
        service.webhook_concurrency(FakeLambdaSettings(1000, 104, ours=5), function).reserved == 5
    )
    assert service.webhook_concurrency(FakeLambdaSettings(1000, 104), function).reserved is None
    # moto has no account settings: unknown means no reservation, and the plan says so.
    unknown = service.webhook_concurrency(boto3.client("lambda", region_name=REGION), function)
    assert unknown.reserved is None and "could not be read" in unknown.note
    plan = _plan(world)
    assert plan.spec is not None and plan.spec.webhook_reserved_concurrency is None
