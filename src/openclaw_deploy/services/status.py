"""`status`: one look at a deployment — where it runs, its URLs, the agent, its memory, Telegram,
and this month's task time with its cost.

The same code reads both targets: the local target's moto server and a real account hold the same
tables and bucket under the same names (`runtime.resources`). On AWS the stack (state, last
deploy, outputs, the reasons of a failed deploy) comes from CloudFormation, and Telegram's own
view of the webhook from `getWebhookInfo`. The reads after the stack's run side by side, so a
status costs about one round trip more than the stack's. Nothing here imports aws_cdk.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

from openclaw_deploy import toolchain
from openclaw_deploy.aws.errors import translate_boto_errors
from openclaw_deploy.config import Deployment
from openclaw_deploy.context import AppContext
from openclaw_deploy.errors import DeployError
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.lifecycle import IDLE, AgentStatus, Lifecycle, month_of
from openclaw_deploy.services.alarms import MonitoringInfo, local_monitoring, monitoring_info
from openclaw_deploy.services.cost import UsageInfo, usage_info

if TYPE_CHECKING:
    from openclaw_deploy.aws.cloudformation import CloudFormation, FailedResource, StackInfo
    from openclaw_deploy.local.service import LocalState
    from openclaw_deploy.services.channels import ChannelInfo

BACKUP_KEY = "agent/openclaw-state.tar.gz"
"""Where the bridge keeps the agent's latest state archive in the state bucket."""
USABLE: Final = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}
)
"""Stack states in which the deployment works (after a rolled-back update, as it was before)."""
OPERATION_STARTS: Final = frozenset(
    {"CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS", "DELETE_IN_PROGRESS", "IMPORT_IN_PROGRESS"}
)
MAX_EVENTS_READ: Final = 500
TELEGRAM_TIMEOUT_SECONDS: Final = 5.0


@dataclass(frozen=True, kw_only=True)
class AgentInfo:
    state: str
    phase: str | None
    since: float | None
    started_at: float | None
    heartbeat_at: float | None
    timings: dict[str, float]
    last_stop_reason: str | None
    failed_starts: int = 0
    """Starts in a row that never reached Running."""
    start_failure: str | None = None
    """Why the last failed start failed (until a start reaches Running)."""
    start_blocked: bool = False
    """Identical failed starts in a row: messages no longer wake the agent (they are kept)."""
    blocked_until: float | None = None
    recent_wakes: tuple[float, ...] = ()
    """Seconds from the start request to Running of the last few wakes, oldest first."""
    usual_wake: float | None = None
    """Their median: what the next wake will likely take."""
    """When one start is tried again on its own (`openclaw-deploy start` tries at once)."""


@dataclass(frozen=True, kw_only=True)
class MemoryInfo:
    last_backup_at: float | None
    size_bytes: int | None
    versions: int


@dataclass(frozen=True, kw_only=True)
class TelegramInfo:
    configured: bool
    bot: str | None
    webhook_url: str | None = None
    webhook_registered: bool | None = None
    """Telegram's own answer (None: not asked, e.g. on the local target)."""
    pending_updates: int | None = None
    last_error: str | None = None
    """The last delivery error Telegram reported for the webhook."""
    last_error_at: float | None = None
    check_error: str | None = None
    """Why Telegram could not be asked."""


@dataclass(frozen=True, kw_only=True)
class WarmInfo:
    """The owner's warm window (`config set warm`): when the agent is kept awake every day."""

    window: str
    """`08:00-09:00`, in `timezone`."""
    timezone: str
    hours_per_day: float
    monthly_usd: float
    """What it adds to a month at most (its hours × 30.4 days × the task's hour)."""
    now: bool
    """The time in its zone is inside it now."""


@dataclass(frozen=True, kw_only=True)
class FailureInfo:
    resource: str
    resource_type: str
    status: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class StatusReport:
    deployment: str
    target: str
    region: str
    running: bool
    """Local: the local cloud is up. AWS: the stack exists and is in a complete state."""
    stack_status: str | None
    urls: dict[str, str | None]
    agent: AgentInfo | None
    memory: MemoryInfo | None
    telegram: TelegramInfo
    notes: list[str] = field(default_factory=list)
    stack_reason: str | None = None
    last_deploy_at: float | None = None
    failures: list[FailureInfo] = field(default_factory=list)
    """What failed in the stack's last operation, and why (after a failed deploy)."""
    usage: UsageInfo | None = None
    openclaw_version: str = toolchain.OPENCLAW_VERSION
    local_task: str | None = None
    """Local target: how the agent task runs (process or image) and at what size, or why not."""
    monitoring: MonitoringInfo | None = None
    """The alarms' states, the dashboard's URL and the alert email's confirmation."""
    channels: list[ChannelInfo] = field(default_factory=list)
    """Slack and Discord: connected or not, and whether their API accepts the bot."""
    warm: WarmInfo | None = None
    """The warm window, when the owner set one."""


def lifecycle_for(app: AppContext, deployment: Deployment) -> Lifecycle:
    table = resources.TASK_STATE.physical_name(deployment.name)
    return Lifecycle(app.client("dynamodb", deployment.region), table, clock=app.clock)


def _agent(status: AgentStatus, now: float) -> AgentInfo:
    blocked = status.start_blocked(now)
    return AgentInfo(
        state=status.state,
        phase=status.phase,
        since=status.since or None,
        started_at=status.started_at,
        heartbeat_at=status.heartbeat_at,
        timings=dict(status.timings),
        last_stop_reason=status.last_stop_reason,
        failed_starts=status.failed_starts,
        start_failure=status.failure_reason if status.failed_starts else None,
        start_blocked=blocked,
        blocked_until=status.blocked_until if blocked else None,
        recent_wakes=status.recent_wakes,
        usual_wake=status.usual_wake,
    )


def agent_info(app: AppContext, deployment: Deployment) -> AgentInfo:
    with translate_boto_errors("read the agent's state"):
        return _agent(lifecycle_for(app, deployment).get(), app.clock())


def agent_and_usage(app: AppContext, deployment: Deployment) -> tuple[AgentInfo, UsageInfo]:
    """The lifecycle row and this month's usage row: the agent now, and its task time."""
    lifecycle = lifecycle_for(app, deployment)
    now = app.clock()
    month = month_of(now)
    with translate_boto_errors("read the agent's state"):
        status = lifecycle.get()
        recorded = lifecycle.usage(month)
    running_since = status.started_at if status.state != IDLE and status.task_arn else None
    usage = usage_info(
        month=month,
        ended_seconds=recorded.task_seconds,
        tasks=recorded.tasks,
        running_since=running_since,
        now=now,
        agent=deployment.agent,
    )
    return _agent(status, now), usage


def memory_info(
    app: AppContext, deployment: Deployment, account: str, *, bucket: str | None = None
) -> MemoryInfo:
    s3: Any = app.client("s3", deployment.region)
    bucket = bucket or resources.STATE_BUCKET.physical_name(
        deployment.name, account, deployment.region
    )
    from botocore.exceptions import ClientError

    with translate_boto_errors("read the agent's backups"):
        try:
            head = s3.head_object(Bucket=bucket, Key=BACKUP_KEY)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return MemoryInfo(last_backup_at=None, size_bytes=None, versions=0)
            raise
        versions = s3.list_object_versions(Bucket=bucket, Prefix=BACKUP_KEY).get("Versions", [])
    return MemoryInfo(
        last_backup_at=head["LastModified"].timestamp(),
        size_bytes=int(head["ContentLength"]),
        versions=len([v for v in versions if v.get("Key") == BACKUP_KEY]),
    )


def telegram_info(app: AppContext, deployment: Deployment, *, ask: bool) -> TelegramInfo:
    """The bot from the config file; with `ask`, Telegram's own view of the webhook
    (getWebhookInfo, with the token read from SSM and never shown)."""
    parameter = deployment.parameters.get(resources.TELEGRAM_BOT_TOKEN.key)
    info = TelegramInfo(configured=parameter is not None, bot=deployment.telegram_bot_username)
    if parameter is None or not ask:
        return info
    from openclaw_deploy.aws.ssm import SecretStore
    from openclaw_deploy.runtime.telegram import TelegramBot, TelegramError

    try:
        token = SecretStore(app.client("ssm", deployment.region), deployment.name).get(parameter)
    except DeployError as error:
        return replace(info, check_error=f"the bot token could not be read: {error.message}")
    bot = TelegramBot(token, api_url=deployment.telegram_api_url, timeout=TELEGRAM_TIMEOUT_SECONDS)
    try:
        answer = bot.get_webhook_info()
    except TelegramError as error:  # never carries the token
        return replace(info, check_error=f"Telegram said: {error.description}")
    url = str(answer.get("url") or "")
    pending = answer.get("pending_update_count")
    error_at = answer.get("last_error_date")
    return replace(
        info,
        webhook_url=url or None,
        webhook_registered=bool(url),
        pending_updates=int(pending) if isinstance(pending, int) else None,
        last_error=str(answer["last_error_message"]) if answer.get("last_error_message") else None,
        last_error_at=float(error_at) if isinstance(error_at, int | float) and error_at else None,
    )


def _version(deployment: Deployment) -> str:
    return deployment.openclaw_version or toolchain.OPENCLAW_VERSION


# --- the local target ------------------------------------------------------------------------


def local_status(app: AppContext, deployment: Deployment) -> StatusReport:
    from openclaw_deploy.local import service
    from openclaw_deploy.services.local import paths_for

    state = service.read_state(paths_for(app, deployment.name))
    telegram = replace(
        telegram_info(app, deployment, ask=False),
        webhook_url=state.telegram_webhook_url if state else None,
    )
    if state is None:
        return StatusReport(
            deployment=deployment.name,
            target="local",
            region=deployment.region,
            running=False,
            stack_status=None,
            urls={},
            agent=None,
            memory=None,
            telegram=telegram,
            notes=["The local cloud is not running: openclaw-deploy init --target local"],
            openclaw_version=_version(deployment),
            monitoring=local_monitoring(),
        )
    app.use_local_cloud(state.moto_url)
    agent, usage = agent_and_usage(app, deployment)
    return StatusReport(
        deployment=deployment.name,
        target="local",
        region=deployment.region,
        running=True,
        stack_status=None,
        urls={
            "web": state.web_url,
            "http_api": f"{state.api_url}/api/",
            "websocket": state.ws_url,
            "telegram_webhook": state.telegram_webhook_url,
        },
        agent=agent,
        memory=memory_info(app, deployment, str(state.resources["account"])),
        telegram=telegram,
        last_deploy_at=state.started_at,
        usage=usage,
        openclaw_version=_version(deployment),
        monitoring=local_monitoring(),
        local_task=local_task(state),
    )


ISOLATED = "the bridge and OpenClaw as two users"
NOT_ISOLATED = "one user: the agent is not kept from the bridge's secrets; --image splits them"
GUARDED = "kept off the local cloud's ports"
NOT_GUARDED = "NOT kept off the local cloud's ports"


def _network(state: LocalState) -> str:
    network = state.agent_network
    if not network:
        return ""
    if network.get("guarded"):
        return f"; {GUARDED}"
    return f"; {NOT_GUARDED}: {network.get('reason') or 'no firewall'}"


def local_task(state: LocalState) -> str:
    """How the local Fargate runs the agent task, for `status`."""
    runtime = (
        f"from the image built here ({ISOLATED}{_network(state)})"
        if state.agent_runtime == "image"
        else f"as a process ({NOT_ISOLATED})"
    )
    sizing = state.agent_sizing or {}
    if sizing.get("sized"):
        size = f"at {int(sizing['cpu']) / 1024:g} vCPU / {sizing['memory']} MB, as on Fargate"
    else:
        size = f"unsized ({sizing.get('reason') or 'this machine cannot limit it'})"
    return f"{runtime}, {size}"


# --- AWS -------------------------------------------------------------------------------------


def last_failures(
    cfn: CloudFormation, info: StackInfo, labels: dict[str, str]
) -> list[FailureInfo]:
    """The resources that failed in the stack's last operation, with CloudFormation's reasons
    (the "cancelled" echoes of the first failure left out)."""
    from openclaw_deploy.aws.cloudformation import NullProgress, ProgressTracker

    events = []
    for event in cfn.events(info.stack_id):  # newest first
        events.append(event)
        started = event.is_stack and event.logical_id == info.name
        if (started and event.status in OPERATION_STARTS) or len(events) >= MAX_EVENTS_READ:
            break
    tracker = ProgressTracker(NullProgress(), info.name, names=labels)
    tracker.feed(list(reversed(events)))
    return [_failure(f) for f in tracker.failures]


def _failure(failure: FailedResource) -> FailureInfo:
    return FailureInfo(
        resource=failure.name,
        resource_type=failure.resource_type,
        status=failure.status,
        reason=failure.reason,
    )


def _stack_notes(name: str, status: str) -> list[str]:
    if status in USABLE:
        if status == "UPDATE_ROLLBACK_COMPLETE":
            return [
                "The last deploy failed and was rolled back: the deployment runs as before it. "
                f"Fix the cause, then: openclaw-deploy deploy --name {name}"
            ]
        return []
    if status.endswith("_IN_PROGRESS"):
        return [f"CloudFormation is still working on the stack ({status}); look again shortly."]
    if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED"):
        return [
            "The first deploy failed and was rolled back; nothing billable is left. Fix the "
            f"cause, then: openclaw-deploy deploy --name {name} (it replaces the empty stack)"
        ]
    return [f"The stack is in {status}: openclaw-deploy deploy --name {name} to repair it."]


def aws_status(app: AppContext, deployment: Deployment) -> StatusReport:
    from openclaw_deploy.aws.cloudformation import CloudFormation, construct_names
    from openclaw_deploy.infra import spec
    from openclaw_deploy.services.synth import default_assembly_dir

    region = deployment.region
    cfn = CloudFormation(app.client("cloudformation", region))
    stack_name = spec.stack_name(deployment.name)
    info = cfn.describe(stack_name)
    base = StatusReport(
        deployment=deployment.name,
        target="aws",
        region=region,
        running=False,
        stack_status=None,
        urls={},
        agent=None,
        memory=None,
        telegram=telegram_info(app, deployment, ask=False),
        openclaw_version=_version(deployment),
    )
    if info is None:
        return replace(
            base,
            notes=[f"Not deployed (no stack {stack_name}): openclaw-deploy deploy"],
        )
    outputs = info.outputs
    failures: list[FailureInfo] = []
    if info.status not in USABLE or info.status == "UPDATE_ROLLBACK_COMPLETE":
        labels = construct_names(default_assembly_dir(deployment.name), stack_name)
        failures = last_failures(cfn, info, labels)
    report = replace(
        base,
        running=info.status in USABLE,
        stack_status=info.status,
        stack_reason=info.reason,
        last_deploy_at=info.changed_at.timestamp() if info.changed_at else None,
        urls={
            "web": outputs.get(spec.OUTPUT_WEB_URL),
            "http_api": outputs.get(spec.OUTPUT_HTTP_API_URL),
            "websocket": outputs.get(spec.OUTPUT_WS_URL),
            "telegram_webhook": outputs.get(spec.OUTPUT_TELEGRAM_WEBHOOK_URL),
        },
        failures=failures,
        notes=_stack_notes(deployment.name, info.status),
    )
    if not report.running:
        return report

    # Independent reads, side by side. Clients are built here first: building is not
    # thread-safe, using them is.
    for service in ("dynamodb", "s3", "ssm", "cloudwatch", "sns"):
        app.client(service, region)
    bucket = outputs.get(spec.OUTPUT_STATE_BUCKET)
    account = deployment.account or ""
    if not account:  # the config names it after init; the alarm topic's ARN needs it
        from openclaw_deploy.aws.identity import caller_identity

        account = caller_identity(app.client("sts", region), region).account
    with ThreadPoolExecutor(max_workers=4) as pool:
        agent_usage = pool.submit(agent_and_usage, app, deployment)
        monitoring = pool.submit(monitoring_info, app, deployment, account)
        memory = pool.submit(memory_info, app, deployment, account, bucket=bucket)
        telegram = pool.submit(telegram_info, app, deployment, ask=True)
        notes = list(report.notes)
        agent, usage = agent_usage.result()
        try:
            memory_result: MemoryInfo | None = memory.result()
        except DeployError as error:
            memory_result = None
            notes.append(f"The agent's backups could not be read: {error.message}")
        return replace(
            report,
            agent=agent,
            usage=usage,
            memory=memory_result,
            telegram=telegram.result(),
            notes=notes,
            monitoring=monitoring.result(),
        )


def deployment_status(app: AppContext, deployment: Deployment) -> StatusReport:
    if deployment.target == "local":
        report = local_status(app, deployment)
    else:
        report = aws_status(app, deployment)
    if not report.running:
        return report
    from openclaw_deploy.services.channels import list_channels

    try:
        report = replace(report, warm=warm_info(app, deployment))
    except DeployError as error:
        report = replace(report, notes=[*report.notes, f"Warm window not read: {error.message}"])
    try:
        listed = list_channels(app, deployment, urls=False)  # the stack was just described
        channels = [c for c in listed if c.channel != "telegram"]
    except DeployError as error:
        return replace(report, notes=[*report.notes, f"Channels not checked: {error.message}"])
    return replace(report, channels=channels)


def warm_info(app: AppContext, deployment: Deployment) -> WarmInfo | None:
    """The warm window kept in the owner's settings row (None: none)."""
    from datetime import UTC, datetime

    from openclaw_deploy.runtime.settings import Settings
    from openclaw_deploy.runtime.warm import parse_stored
    from openclaw_deploy.services.cost import task_hour_usd

    dynamodb = app.client("dynamodb", deployment.region)
    store = Settings(dynamodb, resources.SETTINGS.physical_name(deployment.name))
    with translate_boto_errors("read the warm window"):
        try:
            window = parse_stored(store.get().warm)
        except dynamodb.exceptions.ResourceNotFoundException:
            return None
    if window is None:
        return None
    return WarmInfo(
        window=window.span,
        timezone=window.zone,
        hours_per_day=round(window.awake_hours, 4),
        monthly_usd=window.monthly_usd(task_hour_usd(deployment.agent)),
        now=window.holds(datetime.fromtimestamp(app.clock(), UTC)),
    )
