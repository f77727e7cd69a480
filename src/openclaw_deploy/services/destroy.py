"""`destroy`: remove a deployment and leave nothing billable — except the user's data, by choice.

`prepare_destroy` lists what goes and what stays; the command shows it and asks. Then, in an
order that survives being interrupted and re-run: the Telegram webhook is removed (while the
bot token still exists), running agent tasks are stopped (a running task blocks the cluster and
its network interface blocks the subnets), the web bucket is emptied, the stack is deleted and
followed to the end. The history table, settings, pairings and the state bucket are retained by
the stack; `--purge` deletes them afterwards. Last, the deployment's SSM parameters go.
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

TASK_STOP_WAIT_SECONDS: Final = 180.0
"""The agent gets up to 120 s (stopTimeout) to back its state up before it is killed."""
STOP_REASON: Final = "openclaw-deploy destroy"


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


def stop_agent_tasks(
    ecs: Any,
    cluster: str,
    *,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> int:
    """Stop every running task of the agent's cluster and wait until they are gone."""
    from botocore.exceptions import ClientError

    def running() -> list[str]:
        try:
            return list(ecs.list_tasks(cluster=cluster)["taskArns"])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ClusterNotFoundException":
                return []
            raise

    with translate_boto_errors("stop the agent's tasks"):
        tasks = running()
        for task in tasks:
            ecs.stop_task(cluster=cluster, task=task, reason=STOP_REASON)
        deadline = clock() + TASK_STOP_WAIT_SECONDS
        while tasks and running() and clock() < deadline:
            sleep(5)
    return len(tasks)


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
        with reporter.task("Removing the Telegram webhook"):
            webhook_removed = remove_webhook(store, deployment)
        if not webhook_removed:
            warnings.append(
                "Telegram did not confirm the webhook removal; the bot keeps "
                "calling a URL that no longer answers (harmless)."
            )

    stopped = 0
    stack_deleted = False
    if plan.stack_status is not None:
        cfn = CloudFormation(clients("cloudformation"))
        labels = construct_names(default_assembly_dir(plan.name), plan.stack_name)
        with reporter.task("Stopping the agent if it runs (it backs its state up first)"):
            stopped = stop_agent_tasks(
                clients("ecs"),
                names.cluster_name(plan.name),
                sleep=context.sleep,
                clock=context.clock,
            )
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
        stopped_tasks=stopped,
        webhook_removed=webhook_removed,
        kept=plan.keeping,
        purged=purged,
        parameters_deleted=plan.parameters,
        warnings=warnings,
    )
