"""`destroy`: remove a deployment and leave nothing billable — except the user's data, by choice.

`prepare_destroy` lists what goes and what stays; the command shows it and asks. Then, in an
order that survives being interrupted and re-run: the Telegram webhook is removed (while the
bot token still exists), the watchdog's schedule is disabled (it would start the agent again for
waiting mail), the inbound queue is purged (nothing left to wake it for), the agent's tasks are
stopped until none is left (a running task blocks the cluster and its network interface blocks
the subnets; the wait is bounded and its result told as it is), the web bucket is emptied, the
stack is deleted and followed to the end. The history table, settings, pairings and the state
bucket are retained by the stack; `--purge` deletes them afterwards. Last, the deployment's SSM
parameters go.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from openclaw_deploy.aws.cloudformation import CloudFormation, StackProgress, construct_names
from openclaw_deploy.aws.errors import translate_boto_errors
from openclaw_deploy.aws.identity import caller_identity
from openclaw_deploy.aws.ssm import SecretStore
from openclaw_deploy.config import ConfigFile, Deployment, with_changes
from openclaw_deploy.errors import DeployFailedError, UsageError
from openclaw_deploy.infra import spec as names
from openclaw_deploy.output import Reporter
from openclaw_deploy.runtime import resources
from openclaw_deploy.services.deploy import (
    DeployContext,
    delete_stack,
    failure_message,
    retained_data,
)
from openclaw_deploy.services.synth import default_assembly_dir


def watchdog_rule(name: str) -> str:
    """The watchdog's EventBridge rule (infra.watchdog names it so)."""
    return f"{resources.resource_prefix(name)}-watchdog"


TASK_STOP_WAIT_SECONDS: Final = 180.0
"""The agent gets up to 120 s (stopTimeout) to back its state up before it is killed."""
TASK_POLL_SECONDS: Final = 5.0
STOP_REASON: Final = "openclaw-deploy destroy"


@dataclass(frozen=True, kw_only=True)
class TaskStop:
    """What stopping the agent's tasks came to."""

    stopped: int
    """Tasks this run asked to stop."""
    left: int
    """Tasks still not STOPPED when the wait ended (0: the cluster is free)."""


@dataclass(frozen=True)
class Item:
    name: str
    kind: str


@dataclass(frozen=True, kw_only=True)
class DestroyPlan:
    name: str
    stack_name: str
    account: str
    region: str
    stack_status: str | None
    deleting: list[Item]
    keeping: list[str]
    purging: list[str]
    parameters: list[str]
    webhook: bool
    purge: bool

    @property
    def nothing_to_do(self) -> bool:
        return self.stack_status is None and not self.purging and not self.parameters


@dataclass(frozen=True, kw_only=True)
class DestroyResult:
    name: str
    stack_deleted: bool
    stopped_tasks: int
    webhook_removed: bool | None
    tasks_left: int = 0
    """Agent tasks still running when destroy stopped waiting (the stack delete may fail)."""
    watchdog_disabled: bool = False
    queue_purged: bool = False
    kept: list[str]
    purged: list[str]
    parameters_deleted: list[str]
    warnings: list[str] = field(default_factory=list)


def prepare_destroy(
    deployment: Deployment, *, context: DeployContext, reporter: Reporter, purge: bool
) -> DestroyPlan:
    if deployment.target != "aws":
        raise UsageError(
            f"Deployment {deployment.name!r} targets {deployment.target}; this destroy is for aws."
        )
    clients = context.clients
    with reporter.task(f"Checking AWS credentials in {deployment.region}"):
        identity = caller_identity(clients("sts"), deployment.region)
    if deployment.account and deployment.account != identity.account:
        raise UsageError(
            f"These AWS credentials are for account {identity.account}, but {deployment.name!r} "
            f"lives in account {deployment.account}.",
            hint=f"use credentials for {deployment.account} (e.g. --profile NAME)",
        )
    cfn = CloudFormation(clients("cloudformation"))
    stack_name = names.stack_name(deployment.name)
    info = cfn.describe(stack_name)
    deleting: list[Item] = []
    if info is not None:
        labels = construct_names(default_assembly_dir(deployment.name), stack_name)
        deleting = [
            Item(labels.get(r["LogicalResourceId"], r["LogicalResourceId"]), r["ResourceType"])
            for r in cfn.resources(stack_name)
            if r.get("ResourceStatus") != "DELETE_COMPLETE"
        ]
    kept_names = _user_data_names(deployment, identity.account)
    existing = set(retained_data(clients, deployment, identity.account))
    # While the stack exists its retained resources exist too, whatever the lookup says.
    data = [n for n in kept_names if n in existing or info is not None]
    store = SecretStore(clients("ssm"), deployment.name)
    parameters = store.names_under(resources.parameter_prefix(deployment.name))
    return DestroyPlan(
        name=deployment.name,
        stack_name=stack_name,
        account=identity.account,
        region=deployment.region,
        stack_status=info.status if info else None,
        deleting=deleting,
        keeping=[] if purge else data,
        purging=data if purge else [],
        parameters=parameters,
        webhook=resources.TELEGRAM_BOT_TOKEN.parameter_name(deployment.name) in parameters,
        purge=purge,
    )


def _user_data_names(deployment: Deployment, account: str) -> list[str]:
    tables = [t.physical_name(deployment.name) for t in resources.TABLES if t.user_data]
    buckets = [
        b.physical_name(deployment.name, account, deployment.region) for b in resources.BUCKETS
    ]
    return tables + buckets


def remove_webhook(store: SecretStore, deployment: Deployment) -> bool:
    from openclaw_deploy.runtime.telegram import TelegramBot, TelegramError

    token = store.get(resources.TELEGRAM_BOT_TOKEN.parameter_name(deployment.name))
    try:
        TelegramBot(token, api_url=deployment.telegram_api_url).delete_webhook()
    except TelegramError:
        return False
    return True


def remove_discord_commands(
    plan: DestroyPlan, store: SecretStore, deployment: Deployment, reporter: Reporter
) -> list[str]:
    """Unregister the slash commands `channels add discord` registered; the warnings."""
    if resources.DISCORD_BOT_TOKEN.parameter_name(plan.name) not in plan.parameters:
        return []
    from openclaw_deploy.services.channels import unregister_discord

    reporter.step("Removing the Discord slash commands")
    if unregister_discord(store, deployment):
        reporter.done("Discord removed /ask, /new and /status")
        return []
    warning = "Discord did not confirm removing the slash commands (harmless)."
    reporter.warn(warning)
    return [warning]


def disable_watchdog(events: Any, rule: str) -> bool:
    """Disable the watchdog's schedule so it cannot start the agent again; True if it was
    found (a missing rule is fine: the stack is half gone or never had it)."""
    from botocore.exceptions import ClientError

    with translate_boto_errors("disable the watchdog schedule"):
        try:
            events.disable_rule(Name=rule)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return False
            raise
    return True


def purge_inbound_queue(sqs: Any, queue_name: str) -> bool:
    """Drop the messages waiting for the agent (they would only wake it); True if purged."""
    from botocore.exceptions import ClientError

    with translate_boto_errors("purge the inbound queue"):
        try:
            url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
            sqs.purge_queue(QueueUrl=url)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
                return False
            if code in ("AWS.SimpleQueueService.PurgeQueueInProgress", "PurgeQueueInProgress"):
                return True  # purged a moment ago (a re-run)
            raise
    return True


def stop_agent_tasks(
    ecs: Any,
    cluster: str,
    *,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    wait_seconds: float = TASK_STOP_WAIT_SECONDS,
) -> TaskStop:
    """Stop every task of the agent's cluster until none is left running, for at most
    `wait_seconds`. A task asked to stop keeps running while it backs its state up (listed
    under desiredStatus STOPPED until it is), and one started meanwhile is stopped as well."""
    from botocore.exceptions import ClientError

    def listed(desired: str) -> list[str]:
        arns: list[str] = []
        paginator = ecs.get_paginator("list_tasks")
        for page in paginator.paginate(cluster=cluster, desiredStatus=desired):
            arns.extend(page.get("taskArns", []))
        return arns

    def not_stopped(arns: list[str]) -> list[str]:
        left: list[str] = []
        for start in range(0, len(arns), 100):
            described = ecs.describe_tasks(cluster=cluster, tasks=arns[start : start + 100])
            left.extend(
                t["taskArn"] for t in described.get("tasks", []) if t.get("lastStatus") != "STOPPED"
            )
        return left

    asked: set[str] = set()
    deadline = clock() + wait_seconds
    with translate_boto_errors("stop the agent's tasks"):
        try:
            while True:
                running = listed("RUNNING")
                for task in running:
                    if task not in asked:
                        ecs.stop_task(cluster=cluster, task=task, reason=STOP_REASON)
                        asked.add(task)
                stopping = not_stopped(listed("STOPPED"))
                left = len(set(running) | set(stopping))
                if left == 0 or clock() >= deadline:
                    return TaskStop(stopped=len(asked), left=left)
                sleep(TASK_POLL_SECONDS)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ClusterNotFoundException":
                return TaskStop(stopped=len(asked), left=0)
            raise


def empty_bucket(s3: Any, bucket: str) -> int:
    """Delete every object and object version in `bucket` (a missing bucket is empty)."""
    from botocore.exceptions import ClientError

    deleted = 0
    with translate_boto_errors(f"empty the bucket {bucket}"):
        try:
            paginator = s3.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=bucket):
                keys = [
                    {"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
                ]
                for start in range(0, len(keys), 1000):
                    batch = keys[start : start + 1000]
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
                    deleted += len(batch)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NoSuchBucket":
                return 0
            raise
    return deleted


def purge_data(clients: Callable[[str], Any], deployment: Deployment, account: str) -> list[str]:
    """Delete the retained user data: the tables and the (emptied) state bucket."""
    from botocore.exceptions import ClientError

    removed: list[str] = []
    dynamodb, s3 = clients("dynamodb"), clients("s3")
    with translate_boto_errors("delete the deployment's data (--purge)"):
        for table in resources.TABLES:
            if not table.user_data:
                continue
            name = table.physical_name(deployment.name)
            try:
                dynamodb.delete_table(TableName=name)
                removed.append(name)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
        for bucket in resources.BUCKETS:
            name = bucket.physical_name(deployment.name, account, deployment.region)
            empty_bucket(s3, name)
            try:
                s3.delete_bucket(Bucket=name)
                removed.append(name)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "NoSuchBucket":
                    raise
    return removed


def _web_bucket(cfn: CloudFormation, stack: str, labels: dict[str, str]) -> str | None:
    """The web bucket's name from the stack's resources (when the outputs are missing)."""
    for resource in cfn.resources(stack):
        logical_id = str(resource["LogicalResourceId"])
        label = labels.get(logical_id, logical_id)
        if resource["ResourceType"] == "AWS::S3::Bucket" and (
            label == "Web/Bucket" or logical_id.startswith("WebBucket")
        ):
            physical = resource.get("PhysicalResourceId")
            return str(physical) if physical else None
    return None


@dataclass(frozen=True, kw_only=True)
class Quiet:
    watchdog_disabled: bool = False
    queue_purged: bool = False
    stop: TaskStop = field(default_factory=lambda: TaskStop(stopped=0, left=0))
    warnings: list[str] = field(default_factory=list)


def quiet_the_agent(plan: DestroyPlan, *, context: DeployContext, reporter: Reporter) -> Quiet:
    """Disable the watchdog, drop waiting messages, then stop the agent's tasks: in this order,
    nothing can start the agent again once its tasks are stopped, so CloudFormation never meets
    a running task when it deletes the cluster."""
    clients = context.clients
    notes: list[str] = []
    with reporter.task("Disabling the watchdog schedule"):
        watchdog_disabled = disable_watchdog(clients("events"), watchdog_rule(plan.name))
    with reporter.task("Dropping messages waiting for the agent"):
        queue_purged = purge_inbound_queue(
            clients("sqs"), resources.INBOUND.physical_name(plan.name)
        )
    # Not a task (whose end is shown as done): the wait may end with tasks still running.
    reporter.step("Stopping the agent if it runs (it backs its state up first)")
    stop = stop_agent_tasks(
        clients("ecs"),
        names.cluster_name(plan.name),
        sleep=context.sleep,
        clock=context.clock,
    )
    if stop.left:
        warning = (
            f"{stop.left} agent task(s) still running after {TASK_STOP_WAIT_SECONDS:.0f} s; "
            "CloudFormation waits for them before it deletes the cluster."
        )
        reporter.warn(warning)
        notes.append(warning)
    else:
        reporter.done(f"No agent task left ({stop.stopped} stopped)")
    return Quiet(
        watchdog_disabled=watchdog_disabled, queue_purged=queue_purged, stop=stop, warnings=notes
    )


def execute_destroy(
    plan: DestroyPlan,
    deployment: Deployment,
    *,
    context: DeployContext,
    config: ConfigFile,
    reporter: Reporter,
    progress: StackProgress,
) -> DestroyResult:
    clients = context.clients
    store = SecretStore(clients("ssm"), plan.name)
    warnings: list[str] = []

    webhook_removed: bool | None = None
    if plan.webhook:
        # Not a task (whose end is shown as done): Telegram may not answer at all.
        reporter.step("Removing the Telegram webhook")
        webhook_removed = remove_webhook(store, deployment)
        if webhook_removed:
            reporter.done("Telegram removed the webhook")
        else:
            warning = (
                "Telegram did not confirm the webhook removal; the bot keeps "
                "calling a URL that no longer answers (harmless)."
            )
            reporter.warn(warning)
            warnings.append(warning)

    warnings.extend(remove_discord_commands(plan, store, deployment, reporter))

    quiet = Quiet()
    stack_deleted = False
    if plan.stack_status is not None:
        cfn = CloudFormation(clients("cloudformation"))
        labels = construct_names(default_assembly_dir(plan.name), plan.stack_name)
        quiet = quiet_the_agent(plan, context=context, reporter=reporter)
        warnings.extend(quiet.warnings)
        info = cfn.describe(plan.stack_name)
        bucket = info.outputs.get(names.OUTPUT_WEB_BUCKET) if info else None
        bucket = bucket or _web_bucket(cfn, plan.stack_name, labels)
        if bucket:
            with reporter.task("Emptying the web bucket"):
                empty_bucket(clients("s3"), bucket)
        reporter.step(f"Deleting the stack {plan.stack_name}")
        left, tracker = delete_stack(
            cfn, plan.stack_name, progress=progress, labels=labels, sleep=context.sleep
        )
        if left is not None:
            raise DeployFailedError(
                failure_message(f"Deleting {plan.stack_name}", tracker.failures, left.status),
                hint=f"fix the cause, then run openclaw-deploy destroy --name {plan.name} again",
            )
        stack_deleted = True
        reporter.done(f"Deleted the stack {plan.stack_name}")

    purged: list[str] = []
    if plan.purge:
        with reporter.task("Deleting the conversation history, settings and state backups"):
            purged = purge_data(clients, deployment, plan.account)
    if plan.parameters:
        with reporter.task(f"Deleting {len(plan.parameters)} SSM parameters"):
            store.delete(plan.parameters)

    if plan.purge:
        config.remove(plan.name)
    else:
        config.upsert(with_changes(deployment, parameters={}), make_default=False)
    if config.path.exists() or plan.purge:
        config.save()
    return DestroyResult(
        name=plan.name,
        stack_deleted=stack_deleted,
        stopped_tasks=quiet.stop.stopped,
        tasks_left=quiet.stop.left,
        watchdog_disabled=quiet.watchdog_disabled,
        queue_purged=quiet.queue_purged,
        webhook_removed=webhook_removed,
        kept=plan.keeping,
        purged=purged,
        parameters_deleted=plan.parameters,
        warnings=warnings,
    )
