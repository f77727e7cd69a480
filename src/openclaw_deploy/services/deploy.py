"""`deploy`: from a configured deployment to a running system, in two halves.

`prepare_deploy` checks everything and changes nothing: credentials and account, the stack's
state, the CDK bootstrap, the secrets in SSM, the sources; then it synthesizes and works out
what will be created or changed and what it will cost. The command shows that plan and asks.
`execute_deploy` then creates the ECS service-linked role when the account has none yet,
replaces a stack left in ROLLBACK_COMPLETE (if the user agreed), bootstraps (if agreed), runs the
pinned CDK CLI while following CloudFormation's events, and finishes the post-deploy steps (web
files, owner login, image, Telegram webhook).

The task definition never names an image that is not in ECR: when the sources' image is not
built yet, the stack is first deployed with the task still on the image it runs now (and without
the owner's Cognito user, whose creation emails the invitation), the image is built, and a
second, small deploy switches the task to it and invites the owner.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
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
from openclaw_deploy.runtime.keys import key_parameter, set_key_command
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
ECS_SERVICE: Final = "ecs.amazonaws.com"
ECS_SERVICE_LINKED_ROLE: Final = "AWSServiceRoleForECS"
WEBHOOK_RESERVED_CONCURRENCY: Final = 5
"""Webhook invocations at most at once when the account has room to set them aside."""
MIN_UNRESERVED_CONCURRENCY: Final = 100
"""Lambda refuses a reservation that leaves less than this unreserved in the account."""
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
    spec: InfraSpec | None = None
    """What was synthesized (None in plans made by hand)."""
    image_ready: bool = True
    """The image for `image_tag` is in ECR already: one deploy, no build in between."""
    running_tag: str | None = None
    """The tag the deployed task definition runs, when that image exists in ECR."""
    owner_in_stack: bool = False
    """The deployed stack already holds the owner's Cognito user (invitation sent)."""
    webhook_concurrency: Concurrency | None = None

    @property
    def first_deploy(self) -> bool:
        return self.stack_status is None or self.replace_failed_stack


@dataclass(frozen=True, kw_only=True)
class Concurrency:
    """What the Telegram webhook function gets set aside, and why."""

    reserved: int | None
    note: str


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
    deploys: int = 1
    """CloudFormation deploys run: 2 when the image was built between them."""
    notes: list[str] = field(default_factory=list)
    service_linked_role_created: bool = False

    @property
    def missing(self) -> list[str]:
        """What keeps the deployment from being used, though the stack is complete."""
        missing = [] if self.web_url else ["no web chat URL in the stack's outputs"]
        if not self.api_url:
            missing.append("no HTTP API URL in the stack's outputs")
        return missing + [f"skipped {step}" for step in self.skipped]


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
    # Keys live one per provider under keys/ (an older deployment's single key still counts).
    key = key_parameter(resources.keys_path(deployment.name), provider.id)
    if provider.needs_key and key not in present and resources.LLM_API_KEY.key not in found:
        raise ConfigError(
            f"The {provider.label} API key of {deployment.name!r} is not in SSM ({key}).",
            hint=f"{set_key_command(provider.id)} --name {deployment.name}",
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


def image_repository(name: str) -> str:
    return f"{resources.resource_prefix(name)}/agent"


def image_in_ecr(ecr: Any, repository: str, tag: str | None) -> bool:
    """Whether `repository` holds an image tagged `tag` (a missing repository holds none)."""
    from botocore.exceptions import ClientError

    if not tag:
        return False
    with translate_boto_errors(f"look for the image {tag}"):
        try:
            found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in ("ImageNotFoundException", "RepositoryNotFoundException"):
                return False
            raise
    return bool(found.get("imageDetails"))


def webhook_concurrency(lambda_client: Any, function_name: str) -> Concurrency:
    """Reserve concurrency for the webhook only where the account can spare it: Lambda keeps
    at least 100 executions unreserved, and new accounts start with a limit of 10."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        limits = lambda_client.get_account_settings()["AccountLimit"]
        unreserved = int(limits["UnreservedConcurrentExecutions"])
        total = int(limits["ConcurrentExecutions"])
    except (BotoCoreError, ClientError, KeyError, TypeError, ValueError):
        return Concurrency(
            reserved=None,
            note="Lambda's account settings could not be read, so no concurrency is reserved "
            "for the Telegram webhook; the /telegram route's own throttle still bounds a flood.",
        )
    try:
        # What this function holds already comes back to the pool if it is set again.
        current = lambda_client.get_function_concurrency(FunctionName=function_name)
        unreserved += int(current.get("ReservedConcurrentExecutions") or 0)
    except (BotoCoreError, ClientError):
        pass
    if unreserved - WEBHOOK_RESERVED_CONCURRENCY >= MIN_UNRESERVED_CONCURRENCY:
        return Concurrency(
            reserved=WEBHOOK_RESERVED_CONCURRENCY,
            note=f"The Telegram webhook may run {WEBHOOK_RESERVED_CONCURRENCY} at once.",
        )
    return Concurrency(
        reserved=None,
        note=f"This account's Lambda concurrency limit is {total} (new accounts start at 10 and "
        f"AWS keeps {MIN_UNRESERVED_CONCURRENCY} unreserved), so none is reserved for the "
        "Telegram webhook; the /telegram route's own throttle bounds what a flood costs. Ask for "
        "more in Service Quotas (Lambda, Concurrent executions) and deploy again to reserve it.",
    )


def _has_owner(template: dict[str, Any] | None) -> bool:
    return any(
        r.get("Type") == "AWS::Cognito::UserPoolUser"
        for r in ((template or {}).get("Resources") or {}).values()
    )


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
    replace_stack = check_stack_state(info, deployment.name)
    parameters = _required_parameters(deployment, SecretStore(clients("ssm"), deployment.name))
    bootstrap_version = bootstrap_version_of(clients("ssm"))
    zones = lookup_availability_zones(clients("ec2"), deployment.region)
    adopt = (
        retained_data(clients, deployment, identity.account)
        if info is None or replace_stack
        else []
    )

    concurrency = webhook_concurrency(
        clients("lambda"), names.function_name(deployment.name, "telegram")
    )
    spec = replace(
        synth_spec(
            with_changes(deployment, parameters=parameters),
            account=identity.account,
            availability_zones=zones,
        ),
        webhook_reserved_concurrency=concurrency.reserved,
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
    old = cfn.template(stack_name) if info is not None and not replace_stack else None
    changes = _diff(old, template, labels) if old is not None else []
    image_tag = str(template.get("Outputs", {}).get(names.OUTPUT_IMAGE_TAG, {}).get("Value", ""))
    ecr = clients("ecr")
    repository = image_repository(deployment.name)
    image_ready = image_in_ecr(ecr, repository, image_tag)
    deployed_tag = info.outputs.get(names.OUTPUT_IMAGE_TAG) if info is not None else None
    running_tag = (
        deployed_tag
        if not image_ready and not replace_stack and image_in_ecr(ecr, repository, deployed_tag)
        else None
    )
    return DeployPlan(
        name=deployment.name,
        stack_name=stack_name,
        account=identity.account,
        region=deployment.region,
        availability_zones=list(zones),
        stack_status=info.status if info else None,
        replace_failed_stack=replace_stack,
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
        spec=spec,
        image_ready=image_ready,
        running_tag=running_tag,
        owner_in_stack=_has_owner(old),
        webhook_concurrency=concurrency,
    )


# --- execute -------------------------------------------------------------------------------


def failure_message(what: str, failures: list[FailedResource], status: str | None) -> str:
    # A status that did not fail (the CDK CLI failed after CloudFormation finished) is said as
    # what it is, not in brackets after "failed" as though it were the failure.
    failed_status = status and ("FAILED" in status or "ROLLBACK" in status)
    lines = [f"{what} failed" + (f" ({status})" if failed_status else "") + "."]
    if status and not failed_status:
        lines.append(f"The stack itself is {status}.")
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


def ensure_service_linked_role(iam: Any) -> bool:
    """Create ECS's service-linked role when the account has none yet (a fresh account: ECS
    makes it on first use, but CloudFormation's capacity-provider setup fails without it).
    Returns whether it was created here."""
    from botocore.exceptions import ClientError

    with translate_boto_errors("check the ECS service-linked role"):
        try:
            iam.get_role(RoleName=ECS_SERVICE_LINKED_ROLE)
            return False
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "NoSuchEntity":
                raise
        try:
            iam.create_service_linked_role(AWSServiceName=ECS_SERVICE)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            message = str(error.response.get("Error", {}).get("Message", ""))
            # Created meanwhile (by ECS itself, or another deploy): what we wanted.
            if code == "EntityAlreadyExists" or (
                code == "InvalidInput" and "has been taken" in message
            ):
                return False
            raise
    return True


def _codebuild_quota_hint(failures: list[FailedResource]) -> str | None:
    if any("AccountLimitExceeded" in f.reason for f in failures):
        return postdeploy.CODEBUILD_QUOTA_HINT
    return None


def _deploy_stack(
    plan: DeployPlan,
    assembly: Path,
    *,
    context: DeployContext,
    progress: StackProgress,
    reporter: Reporter,
    import_existing: bool,
) -> StackInfo:
    """One `cdk deploy` of `assembly`, followed to the end; raises with each failure's reason."""
    cfn = CloudFormation(context.clients("cloudformation"))
    labels = construct_names(assembly, plan.stack_name)
    tracker = ProgressTracker(progress, plan.stack_name, names=labels)
    events = StackEvents(cfn, plan.stack_name, since=utc_now())
    with following(progress, plan.stack_name):
        run = context.cdk.deploy(
            assembly,
            plan.stack_name,
            import_existing=import_existing,
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
            hint=_codebuild_quota_hint(tracker.failures)
            or cleanup
            + (
                " (the first deploy rolled back: nothing billable is left, the command "
                "removes the empty stack)"
                if status == "ROLLBACK_COMPLETE"
                else ""
            ),
        )
    assert info is not None
    reporter.done(f"Stack {plan.stack_name} is {status}")
    return info


def staged_spec(plan: DeployPlan) -> InfraSpec | None:
    """What to deploy before the image exists, or None when one deploy is safe: the task keeps
    the image it runs now, and the owner is not invited yet (nothing can answer them)."""
    if plan.image_ready or plan.spec is None:
        return None
    running = plan.running_tag if plan.running_tag != plan.image_tag else None
    invite = plan.owner_in_stack or not plan.spec.owner_email
    if running is None and invite:
        # Nothing runs yet and nobody is invited by this deploy: no second deploy is needed
        # (the webhook is registered only after the build).
        return None
    return replace(plan.spec, running_image_tag=running, invite_owner=plan.owner_in_stack)


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

    with reporter.task("Checking the ECS service-linked role"):
        created_role = ensure_service_linked_role(clients("iam"))
    if created_role:
        reporter.done(f"Created the ECS service-linked role {ECS_SERVICE_LINKED_ROLE}")
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

    if plan.adopt:
        reporter.step("Taking over data kept from an earlier deployment: " + ", ".join(plan.adopt))
    staged = staged_spec(plan)
    second: Callable[[], StackInfo] | None = None
    if staged is None:
        reporter.step(f"Deploying {plan.stack_name} with the CDK CLI")
        assembly = plan.assembly_dir
    else:
        staged_dir = plan.assembly_dir.with_name(f"{plan.assembly_dir.name}-before-image")
        assembly = context.synthesize(staged, staged_dir, reporter).directory
        reporter.step(
            f"Deploying {plan.stack_name} with the CDK CLI (1 of 2: "
            + (
                f"the agent stays on image {staged.running_image_tag}"
                if staged.running_image_tag
                else "the owner is invited once the agent's image exists"
            )
            + ")"
        )

        def second_deploy() -> StackInfo:
            reporter.step(
                f"Deploying {plan.stack_name} with the CDK CLI (2 of 2: the agent runs "
                f"image {plan.image_tag}"
                + (", the owner is invited" if plan.spec and plan.spec.owner_email else "")
                + ")"
            )
            return _deploy_stack(
                plan,
                plan.assembly_dir,
                context=context,
                progress=progress,
                reporter=reporter,
                import_existing=False,
            )

        second = second_deploy
    info = _deploy_stack(
        plan,
        assembly,
        context=context,
        progress=progress,
        reporter=reporter,
        import_existing=bool(plan.adopt),
    )
    return _finish(
        plan,
        deployment,
        info,
        context,
        config,
        reporter,
        local_docker,
        started,
        second_deploy=second,
        created_role=created_role,
    )


def _clear_start_failures(dynamodb: Any, name: str, reporter: Reporter) -> None:
    """Whatever made the agent's starts fail may be fixed by this deploy: messages wake it
    again (the same as `services.agent.clear_start_failures`, with the deploy's clients)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from openclaw_deploy.runtime.lifecycle import Lifecycle

    try:
        Lifecycle(dynamodb, resources.TASK_STATE.physical_name(name)).clear_failures()
    except (ClientError, BotoCoreError) as error:
        reporter.warn(f"Could not reset the agent's failed starts: {error}")


def _finish(
    plan: DeployPlan,
    deployment: Deployment,
    info: StackInfo,
    context: DeployContext,
    config: ConfigFile,
    reporter: Reporter,
    local_docker: bool,
    started: float,
    *,
    second_deploy: Callable[[], StackInfo] | None = None,
    created_role: bool = False,
) -> DeployResult:
    clients = context.clients
    outputs = info.outputs
    skipped: list[str] = []
    notes = [plan.webhook_concurrency.note] if plan.webhook_concurrency else []

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
            browser=deployment.agent.browser,
        ),
    )
    deploys = 1
    if second_deploy is not None:
        if image is None:
            # Without the image the task must stay where it is (and nobody is invited yet).
            skipped.append("the switch to the new image and the owner's invitation")
        else:
            info = second_deploy()
            outputs = info.outputs
            deploys = 2
    # Only now can the agent answer: the owner's login (and a lapsing invitation) comes after.
    owner: postdeploy.OwnerOutcome | None = None
    if deployment.owner_email:
        owner = attempt(
            "the owner login check",
            lambda: postdeploy.ensure_owner(
                clients("cognito-idp"), outputs, deployment.owner_email
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

    _clear_start_failures(clients("dynamodb"), plan.name, reporter)
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
        deploys=deploys,
        notes=notes,
        service_linked_role_created=created_role,
    )
