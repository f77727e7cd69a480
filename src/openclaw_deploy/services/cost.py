"""The monthly cost of a deployment, itemized, from its settings and a usage assumption.

One price table (`PRICES`, us-east-1 list prices, dated), one usage profile (`Usage`, default:
the agent awake 2 hours a day), and `estimate()` that turns an `AgentSpec` into line items.
Always-free allowances that every account keeps (Lambda, SQS, CloudWatch Logs ingestion,
CloudFront, Cognito Essentials, scheduled rules) are applied; time-limited new-account free
tiers are not. `deploy` shows the total before asking; `--json` carries every line.

`cost_report` (the `cost` command) prices the deployment's own settings, read from its task
definition and cluster when it is deployed, and sets this month's recorded task time beside the
estimate (`status` shows the same figure).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from openclaw_deploy.config import AgentSpec
from openclaw_deploy.infra.spec import STATE_NONCURRENT_DAYS, STATE_NONCURRENT_VERSIONS_KEPT
from openclaw_deploy.runtime.lifecycle import HEARTBEAT_SECONDS

if TYPE_CHECKING:
    from openclaw_deploy.config import Deployment
    from openclaw_deploy.context import AppContext

PRICES_AS_OF = "2026-06-01"
PRICES_REGION = "us-east-1"


@dataclass(frozen=True, kw_only=True)
class Prices:
    """List prices in USD (us-east-1). Recheck before quoting: AWS changes them."""

    fargate_arm_vcpu_hour: float = 0.03238
    fargate_arm_gb_hour: float = 0.00356
    spot_discount: float = 0.65
    """Fargate Spot is sold 50-70 % below on-demand at a rate AWS moves slowly; 65 % is the
    planning figure (`spot_discount_range` gives the band)."""
    spot_discount_range: tuple[float, float] = (0.50, 0.70)
    public_ipv4_hour: float = 0.005
    ecr_gb_month: float = 0.10
    logs_ingest_gb: float = 0.50
    logs_free_ingest_gb: float = 5.0
    logs_storage_gb_month: float = 0.03
    dynamodb_write_million: float = 0.625
    dynamodb_read_million: float = 0.125
    dynamodb_pitr_gb_month: float = 0.20
    dynamodb_storage_gb_month: float = 0.25
    dynamodb_free_storage_gb: float = 25.0
    s3_gb_month: float = 0.023
    s3_put_thousand: float = 0.005
    s3_get_thousand: float = 0.0004
    http_api_million: float = 1.00
    ws_message_million: float = 1.00
    ws_connection_minute_million: float = 0.25
    lambda_free_requests: float = 1_000_000
    lambda_request_million: float = 0.20
    sqs_free_requests: float = 1_000_000
    sqs_fifo_million: float = 0.50
    codebuild_arm_small_minute: float = 0.0034
    codebuild_free_minutes: float = 100


PRICES = Prices()


@dataclass(frozen=True, kw_only=True)
class Usage:
    """What a month of personal use looks like (override any field to model another)."""

    agent_hours_per_day: float = 2.0
    days: int = 30
    messages_per_day: int = 40
    web_hours_per_day: float = 2.0
    """How long a web tab stays connected (WebSocket connection minutes)."""
    image_gb: float = 0.6
    """The compressed agent image in ECR (Node 24 + OpenClaw); three are kept."""
    images_kept_gb_extra: float = 0.2
    """What older kept images add (most layers are shared)."""
    backup_gb: float = 0.015
    """One compressed backup of OpenClaw's state (databases, sessions, workspace); the bucket
    holds the current one and the old versions its lifecycle rule keeps (`state_versions`)."""
    user_data_gb: float = 0.02
    """History, settings and pairings in DynamoDB (PITR is billed on this)."""
    log_gb: float = 0.2
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    """The bridge's heartbeat write to the lifecycle row while it runs."""
    backup_minutes: int = 10
    watchdog_minutes: int = 1
    ws_frames_per_reply: int = 25
    sqs_polls_per_hour: int = 180
    """The bridge long-polls the queue (20 s waits) while it runs."""
    image_build_minutes: float = 8.0

    @property
    def agent_hours(self) -> float:
        return self.agent_hours_per_day * self.days

    @property
    def messages(self) -> int:
        return self.messages_per_day * self.days


@dataclass(frozen=True)
class CostItem:
    item: str
    monthly_usd: float
    basis: str


@dataclass(frozen=True, kw_only=True)
class CostEstimate:
    items: list[CostItem]
    total_usd: float
    total_range_usd: tuple[float, float]
    """The total at the low and high end of the Spot discount band (equal without Spot)."""
    one_time: list[CostItem]
    prices_as_of: str = PRICES_AS_OF
    region: str = PRICES_REGION
    assumptions: dict[str, float | int | str] = field(default_factory=dict)


def _money(value: float) -> float:
    return round(value, 4)


def estimate(agent: AgentSpec, usage: Usage | None = None, prices: Prices = PRICES) -> CostEstimate:
    """Itemized monthly cost of a deployment whose agent is `agent`."""
    use = usage or Usage()
    items = _items(agent, use, prices)
    total = sum(item.monthly_usd for item in items)
    if agent.spot:
        low_p, high_p = (replace(prices, spot_discount=d) for d in prices.spot_discount_range)
        band = sorted(sum(i.monthly_usd for i in _items(agent, use, p)) for p in (low_p, high_p))
        total_range = (_money(band[0]), _money(band[1]))
    else:
        total_range = (_money(total), _money(total))
    build_minutes = use.image_build_minutes
    one_time = [
        CostItem(
            "Image build (CodeBuild arm1.small)",
            _money(
                max(0.0, build_minutes - prices.codebuild_free_minutes)
                * prices.codebuild_arm_small_minute
            ),
            f"~{build_minutes:.0f} min per changed image; {prices.codebuild_free_minutes:.0f} "
            "free minutes a month",
        )
    ]
    return CostEstimate(
        items=items,
        total_usd=_money(total),
        total_range_usd=total_range,
        one_time=one_time,
        assumptions={
            "agent_hours_per_day": use.agent_hours_per_day,
            "days": use.days,
            "messages_per_day": use.messages_per_day,
            "cpu_units": agent.cpu,
            "memory_mib": agent.memory,
            "capacity": "FARGATE_SPOT" if agent.spot else "FARGATE",
            "spot_discount": prices.spot_discount if agent.spot else 0.0,
        },
    )


def state_versions(backups_per_day: float) -> int:
    """How many versions of the state backup the bucket holds in steady state: the current one,
    every old one younger than `STATE_NONCURRENT_DAYS`, and never fewer than
    `STATE_NONCURRENT_VERSIONS_KEPT` old ones (the lifecycle rule in infra.data)."""
    recent = math.ceil(backups_per_day * STATE_NONCURRENT_DAYS)
    return 1 + max(STATE_NONCURRENT_VERSIONS_KEPT, recent)


def task_hour_usd(agent: AgentSpec, prices: Prices = PRICES) -> float:
    """What one hour of the agent task costs: Fargate compute (Spot price when Spot is on) and
    its public IPv4 address. Everything else barely moves with task time."""
    return _compute_hour(agent, prices) + prices.public_ipv4_hour


def _on_demand_hour(agent: AgentSpec, p: Prices) -> float:
    return agent.cpu / 1024 * p.fargate_arm_vcpu_hour + agent.memory / 1024 * p.fargate_arm_gb_hour


def _compute_hour(agent: AgentSpec, p: Prices) -> float:
    on_demand = _on_demand_hour(agent, p)
    return on_demand * (1 - p.spot_discount) if agent.spot else on_demand


def _items(agent: AgentSpec, use: Usage, p: Prices) -> list[CostItem]:
    hours = use.agent_hours
    vcpu = agent.cpu / 1024
    gb = agent.memory / 1024
    on_demand = hours * _on_demand_hour(agent, p)
    compute = hours * _compute_hour(agent, p)
    if agent.spot:
        capacity = f"Spot at {p.spot_discount:.0%} off on-demand ${on_demand:.2f}"
    else:
        capacity = "on-demand"
    compute_basis = f"{hours:.0f} task-hours x {vcpu:g} vCPU / {gb:g} GB ARM64, {capacity}"

    starts = use.days  # about one wake-up a day
    writes = (
        use.messages * 6  # dedupe claim, history in/out, lifecycle, queue bookkeeping
        + hours * 3600 / use.heartbeat_seconds
        + starts * 6
    )
    watchdog_runs = use.days * 24 * 60 / use.watchdog_minutes
    reads = watchdog_runs + use.messages * 4
    dynamodb = (
        writes / 1e6 * p.dynamodb_write_million
        + reads / 1e6 * p.dynamodb_read_million
        + use.user_data_gb * p.dynamodb_pitr_gb_month
        + max(0.0, use.user_data_gb - p.dynamodb_free_storage_gb) * p.dynamodb_storage_gb_month
    )
    backups = hours * 60 / use.backup_minutes + starts
    versions = state_versions(backups / use.days)
    state_gb = versions * use.backup_gb
    s3 = (
        state_gb * p.s3_gb_month
        + backups / 1000 * p.s3_put_thousand
        + starts / 1000 * p.s3_get_thousand
    )
    http_requests = use.messages * 3 + starts * 10
    ws_messages = use.messages * use.ws_frames_per_reply
    ws_minutes = use.web_hours_per_day * 60 * use.days
    apis = (
        http_requests / 1e6 * p.http_api_million
        + ws_messages / 1e6 * p.ws_message_million
        + ws_minutes / 1e6 * p.ws_connection_minute_million
    )
    lambda_requests = use.messages * 3 + watchdog_runs + http_requests
    lambda_cost = (
        max(0.0, lambda_requests - p.lambda_free_requests) / 1e6 * p.lambda_request_million
    )
    sqs_requests = hours * use.sqs_polls_per_hour + use.messages * 4 + watchdog_runs
    sqs = max(0.0, sqs_requests - p.sqs_free_requests) / 1e6 * p.sqs_fifo_million
    logs = (
        max(0.0, use.log_gb - p.logs_free_ingest_gb) * p.logs_ingest_gb
        + use.log_gb * p.logs_storage_gb_month
    )
    ecr_gb = use.image_gb + use.images_kept_gb_extra
    return [
        CostItem("Fargate compute", _money(compute), compute_basis),
        CostItem(
            "Public IPv4 address",
            _money(hours * p.public_ipv4_hour),
            f"{hours:.0f} h x ${p.public_ipv4_hour}/h while the task runs (no NAT gateway)",
        ),
        CostItem("ECR image storage", _money(ecr_gb * p.ecr_gb_month), f"{ecr_gb:g} GB stored"),
        CostItem(
            "DynamoDB (on-demand, PITR on user data)",
            _money(dynamodb),
            f"{writes:,.0f} writes, {reads:,.0f} reads, PITR on {use.user_data_gb:g} GB",
        ),
        CostItem(
            "S3 state backups (versioned)",
            _money(s3),
            f"{state_gb:.2g} GB stored: {versions} versions of a {use.backup_gb * 1000:g} MB "
            f"backup (current + old ones kept {STATE_NONCURRENT_DAYS} days, at least "
            f"{STATE_NONCURRENT_VERSIONS_KEPT}), {backups:,.0f} backups",
        ),
        CostItem(
            "API Gateway (HTTP + WebSocket)",
            _money(apis),
            f"{http_requests:,} requests, {ws_messages:,} frames, {ws_minutes:,.0f} conn-minutes",
        ),
        CostItem(
            "CloudWatch Logs",
            _money(logs),
            f"{use.log_gb:g} GB ingested (5 GB free), 30-day retention",
        ),
        CostItem(
            "SQS FIFO queue",
            _money(sqs),
            f"{sqs_requests:,.0f} requests (long polls while awake, sends, deletes; 1 M free)",
        ),
        CostItem(
            "Lambda, EventBridge schedule",
            _money(lambda_cost),
            f"{lambda_requests:,.0f} invocations (1 M free); scheduled rules are free",
        ),
        CostItem(
            "Cognito, CloudFront, VPC, SSM",
            0.0,
            "Essentials tier (10k users free), CloudFront always-free 1 TB, gateway endpoints "
            "and standard parameters cost nothing",
        ),
    ]


# --- what a deployment actually uses --------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class UsageInfo:
    """The agent's task time this calendar month (UTC) and what it cost."""

    month: str
    task_hours: float
    """Ended tasks plus the running one so far."""
    tasks: int
    running_hours: float
    """The part of `task_hours` from a task still running."""
    estimated_usd: float
    """`task_hours` at the hourly price of compute and the public IPv4 address."""
    projected_hours: float
    """The whole month at this month's pace so far."""
    projected_usd: float
    hour_usd: float


@dataclass(frozen=True, kw_only=True)
class AgentSettings:
    """The agent's size and capacity, as deployed when that can be read."""

    cpu: int
    memory: int
    spot: bool
    source: str
    """`task definition` (read from ECS) or `config file`."""

    @property
    def spec(self) -> AgentSpec:
        return AgentSpec(cpu=self.cpu, memory=self.memory, spot=self.spot)


@dataclass(frozen=True, kw_only=True)
class CostReport:
    deployment: str
    target: str
    settings: AgentSettings
    estimate: CostEstimate
    used: UsageInfo | None
    notes: list[str] = field(default_factory=list)
    region: str | None = None
    """Where the deployment runs (the prices are `PRICES_REGION`'s)."""


def month_bounds(now: float) -> tuple[float, float]:
    """Start and end (epoch seconds) of the UTC calendar month holding `now`."""
    import calendar
    import time

    year, month = time.gmtime(now)[:2]
    start = calendar.timegm((year, month, 1, 0, 0, 0))
    end = calendar.timegm((year + month // 12, month % 12 + 1, 1, 0, 0, 0))
    return float(start), float(end)


def usage_info(
    *,
    month: str,
    ended_seconds: float,
    tasks: int,
    running_since: float | None,
    now: float,
    agent: AgentSpec,
    prices: Prices = PRICES,
) -> UsageInfo:
    """This month's use: the ended tasks' recorded time plus the running task's so far."""
    start, end = month_bounds(now)
    running = max(0.0, now - max(running_since, start)) if running_since else 0.0
    hours = (ended_seconds + running) / 3600
    elapsed = max(now - start, 3600.0)  # an hour into the month is too early to extrapolate
    projected = hours * (end - start) / elapsed
    hour_usd = task_hour_usd(agent, prices)
    return UsageInfo(
        month=month,
        task_hours=round(hours, 3),
        tasks=tasks + (1 if running else 0),
        running_hours=round(running / 3600, 3),
        estimated_usd=_money(hours * hour_usd),
        projected_hours=round(projected, 1),
        projected_usd=_money(projected * hour_usd),
        hour_usd=_money(hour_usd),
    )


def read_usage(app: AppContext, deployment: Deployment, agent: AgentSpec) -> UsageInfo | None:
    """This month's use from the lifecycle table (the context must point at the deployment);
    None when there is no such table (nothing deployed)."""
    from botocore.exceptions import ClientError

    from openclaw_deploy.aws.errors import translate_boto_errors
    from openclaw_deploy.runtime import resources
    from openclaw_deploy.runtime.lifecycle import IDLE, Lifecycle, month_of

    now = app.clock()
    month = month_of(now)
    lifecycle = Lifecycle(
        app.client("dynamodb", deployment.region),
        resources.TASK_STATE.physical_name(deployment.name),
    )
    with translate_boto_errors("read this month's task time"):
        try:
            recorded = lifecycle.usage(month)
            status = lifecycle.get()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise
    running_since = status.started_at if status.state != IDLE and status.task_arn else None
    return usage_info(
        month=month,
        ended_seconds=recorded.task_seconds,
        tasks=recorded.tasks,
        running_since=running_since,
        now=now,
        agent=agent,
    )


def configured_settings(deployment: Deployment) -> AgentSettings:
    agent = deployment.agent
    return AgentSettings(cpu=agent.cpu, memory=agent.memory, spot=agent.spot, source="config file")


def deployed_settings(app: AppContext, deployment: Deployment) -> AgentSettings:
    """The agent's size from its registered task definition and its capacity from the cluster's
    capacity providers; the config file's values when the deployment cannot be read."""
    from botocore.exceptions import BotoCoreError, ClientError

    from openclaw_deploy.errors import DeployError

    try:
        cluster, family = _agent_names(app, deployment)
        ecs: Any = app.client("ecs", deployment.region)
        definition = ecs.describe_task_definition(taskDefinition=family)["taskDefinition"]
        clusters = ecs.describe_clusters(clusters=[cluster]).get("clusters") or []
    except (DeployError, ClientError, BotoCoreError):
        return configured_settings(deployment)
    providers = (clusters[0].get("capacityProviders") or []) if clusters else []
    return AgentSettings(
        cpu=int(definition.get("cpu") or deployment.agent.cpu),
        memory=int(definition.get("memory") or deployment.agent.memory),
        # A cluster without capacity providers (moto, the local target) says nothing of Spot.
        spot="FARGATE_SPOT" in providers if providers else deployment.agent.spot,
        source="task definition",
    )


def _agent_names(app: AppContext, deployment: Deployment) -> tuple[str, str]:
    if deployment.target == "local":
        from openclaw_deploy.services.agent import task_config

        config = task_config(app, deployment)
        return config.cluster, config.task_definition
    from openclaw_deploy.infra import spec

    return spec.cluster_name(deployment.name), spec.task_family(deployment.name)


def cost_report(
    app: AppContext, deployment: Deployment, *, hours_per_day: float | None = None
) -> CostReport:
    """The itemized monthly estimate from the deployment's own settings, beside what this month
    actually used. Needs the deployment's cloud only for the actual part and the settings."""
    from openclaw_deploy.errors import DeployError
    from openclaw_deploy.services.target import connect

    notes: list[str] = []
    try:
        connect(app, deployment)
        reachable = True
    except DeployError as error:
        reachable = False
        notes.append(f"{error.message} The estimate uses the config file's settings.")
    settings = deployed_settings(app, deployment) if reachable else configured_settings(deployment)
    configured = deployment.agent
    if settings.source == "task definition" and (settings.cpu, settings.memory, settings.spot) != (
        configured.cpu,
        configured.memory,
        configured.spot,
    ):
        notes.append(
            "The config file asks for a different agent size or capacity than is deployed: "
            f"openclaw-deploy deploy --name {deployment.name} applies it."
        )
    usage = Usage() if hours_per_day is None else Usage(agent_hours_per_day=hours_per_day)
    used: UsageInfo | None = None
    if reachable:
        try:
            used = read_usage(app, deployment, settings.spec)
        except DeployError as error:
            notes.append(f"This month's use could not be read: {error.message}")
    return CostReport(
        deployment=deployment.name,
        target=deployment.target,
        settings=settings,
        estimate=estimate(settings.spec, usage),
        used=used,
        notes=notes,
        region=None if deployment.target == "local" else deployment.region,
    )
