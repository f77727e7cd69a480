"""`deploy`: from a configured deployment to a running system, in two halves.

`prepare_deploy` checks everything and changes nothing: credentials and account, the stack's
state, the CDK bootstrap, the secrets in SSM, the sources; then it synthesizes and works out
what will be created or changed and what it will cost. The command shows that plan and asks.
`execute_deploy` then replaces a stack left in ROLLBACK_COMPLETE (if the user agreed),
bootstraps (if agreed), runs the pinned CDK CLI while following CloudFormation's events, and
finishes the post-deploy steps (web files, owner login, image, Telegram webhook).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from openclaw_deploy.assets import asset_dir
from openclaw_deploy.aws.cloudformation import (
    CloudFormation,
    FailedResource,
    ProgressTracker,
    StackEvents,
    StackInfo,
    StackProgress,
    construct_names,
    following,
    utc_now,
    wait_for,
)
from openclaw_deploy.aws.errors import translate_boto_errors
from openclaw_deploy.aws.identity import caller_identity
from openclaw_deploy.aws.ssm import SecretStore
from openclaw_deploy.config import ConfigFile, Deployment, with_changes
from openclaw_deploy.errors import (
    AwsError,
    ConfigError,
    DeployFailedError,
    ToolchainError,
    UsageError,
)
from openclaw_deploy.infra import spec as names
from openclaw_deploy.infra.spec import InfraSpec
from openclaw_deploy.output import Reporter
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.providers import get_provider
from openclaw_deploy.services import postdeploy
from openclaw_deploy.services.cdk_cli import CdkCli, CdkRun
from openclaw_deploy.services.cost import CostEstimate, estimate
from openclaw_deploy.services.synth import (
    SynthResult,
    lookup_availability_zones,
    run_synth,
    synth_spec,
)

BOOTSTRAP_PARAMETER: Final = "/cdk-bootstrap/hnb659fds/version"
BOOTSTRAP_STACK: Final = "CDKToolkit"
MIN_BOOTSTRAP_VERSION: Final = 6
EVENT_POLL_SECONDS: Final = 2.0
DONE: Final = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
REPLACEABLE: Final = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"})
BOOTSTRAP_EXPLANATION: Final = (
    "The CDK deploys through a one-time setup per account and region, the CDKToolkit stack: "
    "an S3 bucket and an ECR repository for deployment assets (our Lambda code and the image "
    "build context) and the IAM roles CloudFormation deploys with. It costs cents a month "
    "(S3 storage of uploaded assets) and is shared by every CDK app in this account and region."
)


@dataclass(frozen=True, kw_only=True)
class DeployContext:
    """What lies outside the process, as the deploy and destroy services use it."""

    clients: Callable[[str], Any]
    """boto3 client for a service name, in the deployment's region."""
    cdk: CdkCli
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    synthesize: Callable[[InfraSpec, Path, Reporter], SynthResult] = field(
        default=lambda spec, output, reporter: run_synth(spec, output, reporter=reporter)
    )
    """How the plan's assembly is made (tests reuse one synthesis)."""


@dataclass(frozen=True)
class Change:
    action: str
    """`add`, `modify` or `remove`."""
    name: str
    resource_type: str


@dataclass(frozen=True, kw_only=True)
class DeployPlan:
    name: str
    stack_name: str
    account: str
    region: str
    availability_zones: list[str]
    stack_status: str | None
    replace_failed_stack: bool
    bootstrap_needed: bool
    bootstrap_version: int | None
    adopt: list[str]
    """User data kept by an earlier `destroy` that this deploy takes over again."""
    changes: list[Change]
    units: dict[str, int]
    """Resources per construct (`Data`: 13, ...)."""
    resources: int
    cost: CostEstimate
    assembly_dir: Path
    image_tag: str
    telegram: bool
    synth_seconds: float

    @property
    def first_deploy(self) -> bool:
        return self.stack_status is None or self.replace_failed_stack


@dataclass(frozen=True, kw_only=True)
class DeployResult:
    name: str
    stack_name: str
    status: str
    account: str
    region: str
    web_url: str | None
    api_url: str | None
    owner_login: str | None
    owner_status: str | None
    telegram_bot: str | None
    telegram_webhook: str | None
    image_tag: str
    image: str
    """`existing`, `codebuild`, `local-docker` or `skipped`."""
    seconds: float
    monthly_cost_usd: float
    skipped: list[str] = field(default_factory=list)
    """Post-deploy steps skipped because the stack lacked their outputs (moto, partial stacks)."""


# --- prepare -------------------------------------------------------------------------------


def bootstrap_version_of(ssm: Any) -> int | None:
    from botocore.exceptions import ClientError

    with translate_boto_errors("check the CDK bootstrap"):
        try:
            value = ssm.get_parameter(Name=BOOTSTRAP_PARAMETER)["Parameter"]["Value"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ParameterNotFound":
                return None
            raise
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def check_stack_state(info: StackInfo | None, name: str) -> bool:
    """True when a failed stack must be replaced; raises when the stack cannot be deployed."""
    if info is None:
        return False
    if info.in_progress:
        raise AwsError(
            f"The stack {info.name} is busy ({info.status}): CloudFormation is still on it.",
            hint="wait until it settles, then run openclaw-deploy deploy again",
        )
    if info.status == "UPDATE_ROLLBACK_FAILED":
        raise AwsError(
            f"The stack {info.name} is stuck in UPDATE_ROLLBACK_FAILED"
            + (f": {info.reason}" if info.reason else "."),
            hint=f"aws cloudformation continue-update-rollback --stack-name {info.name}, "
            f"or openclaw-deploy destroy --name {name}",
        )
    return info.status in REPLACEABLE


def _required_parameters(deployment: Deployment, store: SecretStore) -> dict[str, str]:
    """The secrets' parameter names, checked to exist in SSM (values are never read here)."""
    present = set(store.names_under(resources.parameter_prefix(deployment.name)))
    found: dict[str, str] = {}
    for secret in resources.SECRETS:
        name = deployment.parameters.get(secret.key) or secret.parameter_name(deployment.name)
        if name in present:
            found[secret.key] = name
    provider = get_provider(deployment.provider)
    if provider.needs_key and resources.LLM_API_KEY.key not in found:
        raise ConfigError(
            f"The {provider.label} API key of {deployment.name!r} is not in SSM "
            f"({resources.LLM_API_KEY.parameter_name(deployment.name)}).",
            hint=f"openclaw-deploy init --name {deployment.name}",
        )
    return found


def retained_data(clients: Callable[[str], Any], deployment: Deployment, account: str) -> list[str]:
    """Names of this deployment's user data that exist outside any stack (kept by destroy)."""
    from botocore.exceptions import ClientError

    found: list[str] = []
    dynamodb, s3 = clients("dynamodb"), clients("s3")
    with translate_boto_errors("look for data kept from an earlier deployment"):
        for table in resources.TABLES:
            if not table.user_data:
                continue
            name = table.physical_name(deployment.name)
            try:
                dynamodb.describe_table(TableName=name)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    continue
                raise
            found.append(name)
        for bucket in resources.BUCKETS:
            name = bucket.physical_name(deployment.name, account, deployment.region)
            try:
                s3.head_bucket(Bucket=name)
            except ClientError as error:
                if str(error.response.get("Error", {}).get("Code")) in ("404", "NoSuchBucket"):
                    continue
                raise
            found.append(name)
    return found


def _diff(old: dict[str, Any] | None, new: dict[str, Any], labels: dict[str, str]) -> list[Change]:
    before = (old or {}).get("Resources") or {}
    after = new.get("Resources") or {}
    changes: list[Change] = []
    for logical_id, resource in after.items():
        label = labels.get(logical_id, logical_id)
        if logical_id not in before:
            changes.append(Change("add", label, str(resource.get("Type"))))
        elif json.dumps(before[logical_id], sort_keys=True) != json.dumps(resource, sort_keys=True):
            changes.append(Change("modify", label, str(resource.get("Type"))))
    changes.extend(
        Change("remove", labels.get(logical_id, logical_id), str(resource.get("Type")))
        for logical_id, resource in before.items()
        if logical_id not in after
    )
    return changes


def _units(labels: dict[str, str], template: dict[str, Any]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for logical_id in template.get("Resources") or {}:
        counts[labels.get(logical_id, logical_id).split("/", 1)[0]] += 1
    return dict(counts)


def prepare_deploy(
    deployment: Deployment,
    *,
    context: DeployContext,
    reporter: Reporter,
    assembly_dir: Path,
) -> DeployPlan:
    """Check, synthesize and plan. Makes no change anywhere."""
    if deployment.target != "aws":
        raise UsageError(
            f"Deployment {deployment.name!r} targets {deployment.target}; deploy is for aws.",
            hint=f"openclaw-deploy init --name {deployment.name} --target aws",
        )
    clients = context.clients
    with reporter.task(f"Checking AWS credentials in {deployment.region}"):
        identity = caller_identity(clients("sts"), deployment.region)
    if deployment.account and deployment.account != identity.account:
        raise UsageError(
            f"These AWS credentials are for account {identity.account}, but {deployment.name!r} "
            f"was set up in account {deployment.account}.",
            hint=f"use credentials for {deployment.account} (e.g. --profile NAME), or run "
            f"openclaw-deploy init --name {deployment.name} again",
        )
    cfn = CloudFormation(clients("cloudformation"))
    stack_name = names.stack_name(deployment.name)
    info = cfn.describe(stack_name)
    replace = check_stack_state(info, deployment.name)
    parameters = _required_parameters(deployment, SecretStore(clients("ssm"), deployment.name))
    bootstrap_version = bootstrap_version_of(clients("ssm"))
    zones = lookup_availability_zones(clients("ec2"), deployment.region)
    adopt = retained_data(clients, deployment, identity.account) if info is None or replace else []

    spec = synth_spec(
        with_changes(deployment, parameters=parameters),
        account=identity.account,
        availability_zones=zones,
    )
    synth = context.synthesize(spec, assembly_dir, reporter)
    missing = list(synth.missing)
    try:
        asset_dir("web")
    except ToolchainError:
        missing.append("the built web UI (web/dist)")
    if missing:
        raise ToolchainError(
            "This installation cannot deploy; it lacks " + ", ".join(missing) + ".",
            hint="pip install --force-reinstall openclaw-deploy (from a checkout: "
            "scripts/build-web)",
        )
    template = json.loads(synth.template_file.read_text(encoding="utf-8"))
    labels = construct_names(synth.directory, stack_name)
    old = cfn.template(stack_name) if info is not None and not replace else None
    changes = _diff(old, template, labels) if old is not None else []
    image_tag = str(template.get("Outputs", {}).get(names.OUTPUT_IMAGE_TAG, {}).get("Value", ""))
    return DeployPlan(
        name=deployment.name,
        stack_name=stack_name,
        account=identity.account,
        region=deployment.region,
        availability_zones=list(zones),
        stack_status=info.status if info else None,
        replace_failed_stack=replace,
        bootstrap_needed=bootstrap_version is None or bootstrap_version < MIN_BOOTSTRAP_VERSION,
        bootstrap_version=bootstrap_version,
        adopt=adopt,
        changes=changes,
        units=_units(labels, template),
        resources=synth.resources,
        cost=estimate(deployment.agent),
        assembly_dir=synth.directory,
        image_tag=image_tag,
        telegram=resources.TELEGRAM_BOT_TOKEN.key in parameters,
        synth_seconds=synth.seconds,
    )


# --- execute -------------------------------------------------------------------------------


def failure_message(what: str, failures: list[FailedResource], status: str | None) -> str:
    lines = [f"{what} failed" + (f" ({status})" if status else "") + "."]
    if failures:
        lines.append("What failed, and why:")
        lines.extend(f"  - {f.name} ({f.resource_type}) {f.status}: {f.reason}" for f in failures)
    return "\n".join(lines)


def _follow(
    cfn: CloudFormation,
    events: StackEvents,
    tracker: ProgressTracker,
    sleep: Callable[[float], None],
) -> Callable[[subprocess.Popen[bytes]], None]:
    def follow(process: subprocess.Popen[bytes]) -> None:
        while process.poll() is None:
            tracker.feed(events.poll())
            sleep(EVENT_POLL_SECONDS)
        tracker.feed(events.poll())

    return follow


def delete_stack(
    cfn: CloudFormation,
    stack_name: str,
    *,
    progress: StackProgress,
    labels: dict[str, str],
    sleep: Callable[[float], None],
) -> tuple[StackInfo | None, ProgressTracker]:
    """Delete a stack and follow it to the end; returns what is left (None: gone)."""
    tracker = ProgressTracker(progress, stack_name, names=labels)
    events = StackEvents(cfn, stack_name, since=utc_now())
    with following(progress, stack_name):
        cfn.delete(stack_name)
        final = wait_for(cfn, stack_name, tracker=tracker, events=events, sleep=sleep)
    return final, tracker


def _bootstrap(
    plan: DeployPlan,
    context: DeployContext,
    cfn: CloudFormation,
    progress: StackProgress,
    reporter: Reporter,
) -> None:
    tracker = ProgressTracker(progress, BOOTSTRAP_STACK)
    events = StackEvents(cfn, BOOTSTRAP_STACK, since=utc_now())
    reporter.step(f"Bootstrapping the CDK in aws://{plan.account}/{plan.region}")
    with following(progress, BOOTSTRAP_STACK):
        run = context.cdk.bootstrap(
            plan.account, plan.region, while_running=_follow(cfn, events, tracker, context.sleep)
        )
        tracker.feed(events.poll())
    if not run.ok:
        raise DeployFailedError(
            failure_message("The CDK bootstrap", tracker.failures, tracker.last_stack_status)
            + _log_note(run),
            hint="check that your credentials may create IAM roles and S3 buckets, then run "
            "openclaw-deploy deploy again",
        )


def _log_note(run: CdkRun) -> str:
    tail = run.tail()
    return f"\nThe CDK CLI said (full log: {run.log_file}):\n{tail}" if tail else ""


def execute_deploy(
    plan: DeployPlan,
    deployment: Deployment,
    *,
    context: DeployContext,
    config: ConfigFile,
    reporter: Reporter,
    progress: StackProgress,
    local_docker: bool = False,
) -> DeployResult:
    started = context.clock()
    clients = context.clients
    cfn = CloudFormation(clients("cloudformation"))
    labels = construct_names(plan.assembly_dir, plan.stack_name)

    if plan.replace_failed_stack:
        reporter.step(f"Deleting the failed stack {plan.stack_name} ({plan.stack_status}) first")
        left, tracker = delete_stack(
            cfn, plan.stack_name, progress=progress, labels=labels, sleep=context.sleep
        )
        if left is not None:
            raise DeployFailedError(
                failure_message(f"Deleting {plan.stack_name}", tracker.failures, left.status),
                hint=f"openclaw-deploy destroy --name {plan.name}",
            )
    if plan.bootstrap_needed:
        _bootstrap(plan, context, cfn, progress, reporter)

    tracker = ProgressTracker(progress, plan.stack_name, names=labels)
    events = StackEvents(cfn, plan.stack_name, since=utc_now())
    if plan.adopt:
        reporter.step("Taking over data kept from an earlier deployment: " + ", ".join(plan.adopt))
    reporter.step(f"Deploying {plan.stack_name} with the CDK CLI")
    with following(progress, plan.stack_name):
        run = context.cdk.deploy(
            plan.assembly_dir,
            plan.stack_name,
            import_existing=bool(plan.adopt),
            while_running=_follow(cfn, events, tracker, context.sleep),
        )
        tracker.feed(events.poll())  # whatever arrived after the CLI's last poll
    info = cfn.describe(plan.stack_name)
    status = info.status if info else None
    if not run.ok or status not in DONE:
        cleanup = (
            f"openclaw-deploy destroy --name {plan.name}"
            if status in REPLACEABLE or status is None
            else f"fix the cause, then openclaw-deploy deploy --name {plan.name}"
        )
        note = "" if tracker.failures else _log_note(run)
        raise DeployFailedError(
            failure_message(f"Deploying {plan.stack_name}", tracker.failures, status) + note,
            hint=cleanup
            + (
                " (the first deploy rolled back: nothing billable is left, the command "
                "removes the empty stack)"
                if status == "ROLLBACK_COMPLETE"
                else ""
            ),
        )
    assert info is not None
    reporter.done(f"Stack {plan.stack_name} is {status}")
    return _finish(plan, deployment, info, context, config, reporter, local_docker, started)


def _finish(
    plan: DeployPlan,
    deployment: Deployment,
    info: StackInfo,
    context: DeployContext,
    config: ConfigFile,
    reporter: Reporter,
    local_docker: bool,
    started: float,
) -> DeployResult:
    clients = context.clients
    outputs = info.outputs
    skipped: list[str] = []

    def attempt(step: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except postdeploy.MissingOutputError as error:
            skipped.append(step)
            reporter.warn(f"Skipped {step}: {error.message}")
            return None

    attempt(
        "the web UI upload",
        lambda: postdeploy.publish_web(
            s3=clients("s3"),
            cloudfront=clients("cloudfront"),
            outputs=outputs,
            web_dir=asset_dir("web"),
            config=postdeploy.runtime_config(outputs, region=plan.region, deployment=plan.name),
            reporter=reporter,
        ),
    )
    owner: postdeploy.OwnerOutcome | None = None
    if deployment.owner_email:
        owner = attempt(
            "the owner login check",
            lambda: postdeploy.ensure_owner(
                clients("cognito-idp"), outputs, deployment.owner_email
            ),
        )
    image: postdeploy.ImageOutcome | None = attempt(
        "the agent image",
        lambda: postdeploy.ensure_image(
            ecr=clients("ecr"),
            codebuild=clients("codebuild"),
            logs=clients("logs"),
            outputs=outputs,
            tag=plan.image_tag,
            local_docker=local_docker,
            reporter=reporter,
            sleep=context.sleep,
            openclaw_version=deployment.openclaw_version,
        ),
    )
    webhook: postdeploy.WebhookOutcome | None = None
    if plan.telegram:
        store = SecretStore(clients("ssm"), plan.name)

        def register() -> postdeploy.WebhookOutcome:
            url = postdeploy.output(outputs, names.OUTPUT_TELEGRAM_WEBHOOK_URL)
            with reporter.task("Registering the Telegram webhook (with its secret token)"):
                return postdeploy.register_webhook(
                    token=store.get(resources.TELEGRAM_BOT_TOKEN.parameter_name(plan.name)),
                    secret=store.get(resources.TELEGRAM_WEBHOOK_SECRET.parameter_name(plan.name)),
                    url=url,
                    api_url=deployment.telegram_api_url,
                )

        webhook = attempt("the Telegram webhook", register)

    bot = (webhook.bot if webhook else None) or deployment.telegram_bot_username
    updated = with_changes(deployment, account=plan.account, telegram_bot_username=bot)
    if updated != deployment:
        config.upsert(updated, make_default=False)
        config.save()
    return DeployResult(
        name=plan.name,
        stack_name=plan.stack_name,
        status=info.status,
        account=plan.account,
        region=plan.region,
        web_url=outputs.get(names.OUTPUT_WEB_URL),
        api_url=outputs.get(names.OUTPUT_HTTP_API_URL),
        owner_login=owner.login if owner else None,
        owner_status=owner.status if owner else None,
        telegram_bot=bot,
        telegram_webhook=webhook.url if webhook else None,
        image_tag=plan.image_tag,
        image=image.how if image else "skipped",
        seconds=round(context.clock() - started, 1),
        monthly_cost_usd=plan.cost.total_usd,
        skipped=skipped,
    )
