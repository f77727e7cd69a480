"""The data resources of a deployment, described once.

The CDK app builds its tables, queues, bucket and parameters from this description, the local
target provisions the same things on a moto server from it, and the Lambda handlers and the
bridge find them through the environment variables it names. Nothing else spells a table name.

Stdlib only: this module is imported by Lambda handlers and by the bridge.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

SSM_ROOT: Final = "/openclaw-deploy"
NAME_PATTERN: Final = r"^[a-z][a-z0-9-]{1,22}[a-z0-9]$"
"""Deployment names: short enough to prefix every AWS name (S3 buckets allow 63 characters)."""


@dataclass(frozen=True, kw_only=True)
class Table:
    """A DynamoDB table: string keys `pk` (and `sk`), on-demand billing."""

    key: str
    description: str
    sort_key: bool = False
    ttl: bool = False
    """Items carry `expires_at` (epoch seconds) and DynamoDB removes them after it."""
    user_data: bool = False
    """The user's own data: point-in-time recovery on, kept by `destroy` unless `--purge`."""

    @property
    def env_var(self) -> str:
        return "OPENCLAW_TABLE_" + self.key.upper().replace("-", "_")

    def physical_name(self, deployment: str) -> str:
        return f"{resource_prefix(deployment)}-{self.key}"


PARTITION_KEY: Final = "pk"
SORT_KEY: Final = "sk"
TTL_ATTRIBUTE: Final = "expires_at"

CONVERSATIONS: Final = Table(
    key="conversations",
    description="Chat history of every session, both sides, for the web UI.",
    sort_key=True,
    user_data=True,
)
SETTINGS: Final = Table(
    key="settings",
    description="Provider, model, idle timeout and other owner settings.",
    user_data=True,
)
TASK_STATE: Final = Table(
    key="task-state",
    description="The agent's lifecycle row (Idle/Starting/Running/Stopping), heartbeat, timings.",
)
CONNECTIONS: Final = Table(
    key="connections",
    description="Open WebSocket connections of the web UI.",
    ttl=True,
)
PAIRING: Final = Table(
    key="pairing",
    description="Paired Telegram users and pending pairing codes.",
    sort_key=True,
    ttl=True,
    user_data=True,
)
TICKETS: Final = Table(
    key="tickets",
    description="One-time WebSocket tickets (60 s, single use).",
    ttl=True,
)
DEDUPE: Final = Table(
    key="dedupe",
    description="Telegram update ids and client message ids already accepted (kept > 24 h).",
    ttl=True,
)
SCHEDULES: Final = Table(
    key="schedules",
    description="The last run of each schedule and its outcome (the schedules are in Scheduler).",
)
TABLES: Final[tuple[Table, ...]] = (
    CONVERSATIONS,
    SETTINGS,
    TASK_STATE,
    CONNECTIONS,
    PAIRING,
    TICKETS,
    DEDUPE,
    SCHEDULES,
)


@dataclass(frozen=True, kw_only=True)
class Queue:
    """An SQS FIFO queue with a dead-letter queue."""

    key: str
    description: str
    visibility_timeout_seconds: int
    max_receive_count: int
    retention_seconds: int

    @property
    def env_var(self) -> str:
        return "OPENCLAW_QUEUE_" + self.key.upper().replace("-", "_") + "_URL"

    def physical_name(self, deployment: str) -> str:
        return f"{resource_prefix(deployment)}-{self.key}.fifo"

    def dead_letter_name(self, deployment: str) -> str:
        return f"{resource_prefix(deployment)}-{self.key}-dlq.fifo"


INBOUND: Final = Queue(
    key="inbound",
    description="Messages for the agent, FIFO per session, deduplicated by channel message id.",
    # Short, and extended by the bridge every third of it while a turn runs (the SQS
    # heartbeat): a turn can take minutes, but a message whose task died (crash, OOM, Spot
    # reclaim, SIGKILL) is visible again within this many seconds, not after minutes.
    visibility_timeout_seconds=30,
    max_receive_count=5,
    retention_seconds=4 * 24 * 3600,
)
QUEUES: Final[tuple[Queue, ...]] = (INBOUND,)


@dataclass(frozen=True, kw_only=True)
class Bucket:
    key: str
    description: str
    versioned: bool = True

    @property
    def env_var(self) -> str:
        return "OPENCLAW_BUCKET_" + self.key.upper().replace("-", "_")

    def physical_name(self, deployment: str, account: str, region: str) -> str:
        # Bucket names are global: the account and region make them unique.
        return f"{resource_prefix(deployment)}-{self.key}-{account}-{region}"


STATE_BUCKET: Final = Bucket(
    key="state",
    description="Backups of the agent's own state (OpenClaw backup archives), versioned.",
)
BUCKETS: Final[tuple[Bucket, ...]] = (STATE_BUCKET,)


@dataclass(frozen=True, kw_only=True)
class Secret:
    """An SSM SecureString parameter (AWS-managed key) under the deployment's prefix."""

    key: str
    description: str
    env_var: str
    """Where the Lambdas and the task find the parameter's *name*; the value never sits in env
    except in the agent task, where ECS injects it from SSM under `task_env`."""
    task_env: str | None = None
    channel: str | None = None
    """Set for a chat channel's secrets (`openclaw-deploy channels add`): they are stored after
    a deploy, so the roles that read them are granted the name whether it exists yet or not."""

    def parameter_name(self, deployment: str) -> str:
        return f"{parameter_prefix(deployment)}/{self.key}"


LLM_API_KEY: Final = Secret(
    key="llm-api-key",
    description="The LLM provider's API key.",
    env_var="OPENCLAW_PARAM_LLM_API_KEY",
    task_env="OPENCLAW_LLM_API_KEY",
)
TELEGRAM_BOT_TOKEN: Final = Secret(
    key="telegram-bot-token",
    description="The Telegram bot token from @BotFather.",
    env_var="OPENCLAW_PARAM_TELEGRAM_BOT_TOKEN",
    task_env="OPENCLAW_TELEGRAM_BOT_TOKEN",
)
TELEGRAM_WEBHOOK_SECRET: Final = Secret(
    key="telegram-webhook-secret",
    description="The secret Telegram sends with every webhook call.",
    env_var="OPENCLAW_PARAM_TELEGRAM_WEBHOOK_SECRET",
)
SLACK_BOT_TOKEN: Final = Secret(
    key="slack-bot-token",
    description="The Slack app's bot token (xoxb-...).",
    env_var="OPENCLAW_PARAM_SLACK_BOT_TOKEN",
    channel="slack",
)
SLACK_SIGNING_SECRET: Final = Secret(
    key="slack-signing-secret",
    description="The Slack app's signing secret: every Events API request is signed with it.",
    env_var="OPENCLAW_PARAM_SLACK_SIGNING_SECRET",
    channel="slack",
)
DISCORD_APP: Final = Secret(
    key="discord-app",
    description="The Discord application: its id and public key as JSON (interactions are "
    "verified with the key).",
    env_var="OPENCLAW_PARAM_DISCORD_APP",
    channel="discord",
)
DISCORD_BOT_TOKEN: Final = Secret(
    key="discord-bot-token",
    description="The Discord bot token (registers and removes the slash commands).",
    env_var="OPENCLAW_PARAM_DISCORD_BOT_TOKEN",
    channel="discord",
)
CHANNEL_SECRETS: Final[tuple[Secret, ...]] = (
    SLACK_BOT_TOKEN,
    SLACK_SIGNING_SECRET,
    DISCORD_APP,
    DISCORD_BOT_TOKEN,
)
SECRETS: Final[tuple[Secret, ...]] = (
    LLM_API_KEY,
    TELEGRAM_BOT_TOKEN,
    TELEGRAM_WEBHOOK_SECRET,
    *CHANNEL_SECRETS,
)

# Plain (non-secret) environment shared by the handlers and the bridge.
ENV_DEPLOYMENT: Final = "OPENCLAW_DEPLOYMENT"
ENV_TELEGRAM_API_URL: Final = "OPENCLAW_TELEGRAM_API_URL"
ENV_WS_MANAGEMENT_URL: Final = "OPENCLAW_WS_MANAGEMENT_URL"
ENV_CLUSTER: Final = "OPENCLAW_CLUSTER"
ENV_TASK_DEFINITION: Final = "OPENCLAW_TASK_DEFINITION"
ENV_SUBNETS: Final = "OPENCLAW_SUBNETS"
ENV_SECURITY_GROUPS: Final = "OPENCLAW_SECURITY_GROUPS"
ENV_CONTAINER_NAME: Final = "OPENCLAW_CONTAINER_NAME"
ENV_SLACK_API_URL: Final = "OPENCLAW_SLACK_API_URL"
ENV_DISCORD_API_URL: Final = "OPENCLAW_DISCORD_API_URL"
"""Where the Slack Web API and Discord's API are (unset: the real ones; tests and the local
target may point them at stand-ins)."""
DEFAULT_TELEGRAM_API_URL: Final = "https://api.telegram.org"
DEFAULT_SLACK_API_URL: Final = "https://slack.com/api"
DEFAULT_DISCORD_API_URL: Final = "https://discord.com/api/v10"
CONTAINER_NAME: Final = "agent"


def resource_prefix(deployment: str) -> str:
    return f"openclaw-{deployment}"


def parameter_prefix(deployment: str) -> str:
    return f"{SSM_ROOT}/{deployment}"


ENV_KEYS_PATH: Final = "OPENCLAW_KEYS_PATH"
"""Where handlers and the bridge find the API keys' parameter path (`runtime.keys`)."""


def keys_path(deployment: str) -> str:
    """The parameter path holding one SecureString per provider or tool key (`.../keys`)."""
    return f"{parameter_prefix(deployment)}/keys"


def data_environment(
    deployment: str, *, account: str, region: str, queue_urls: dict[str, str]
) -> dict[str, str]:
    """The environment that names every data resource, as the handlers and bridge read it."""
    env = {ENV_DEPLOYMENT: deployment}
    for table in TABLES:
        env[table.env_var] = table.physical_name(deployment)
    for queue in QUEUES:
        env[queue.env_var] = queue_urls[queue.key]
    for bucket in BUCKETS:
        env[bucket.env_var] = bucket.physical_name(deployment, account, region)
    for secret in SECRETS:
        env[secret.env_var] = secret.parameter_name(deployment)
    env[ENV_KEYS_PATH] = keys_path(deployment)
    return env


def table_name(table: Table, environ: dict[str, str] | None = None) -> str:
    """The physical name of `table` from the environment, with a clear error when it is unset."""
    env = os.environ if environ is None else environ
    try:
        return env[table.env_var]
    except KeyError:
        raise RuntimeError(
            f"{table.env_var} is not set: the {table.key} table is unknown"
        ) from None
