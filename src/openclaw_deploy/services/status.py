"""`status`: one look at a deployment — where it runs, its URLs, the agent, its memory, Telegram.

The same code reads both targets: the local target's moto server and a real account hold the same
tables and bucket under the same names (`runtime.resources`). Nothing here imports aws_cdk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openclaw_deploy.aws.errors import translate_boto_errors
from openclaw_deploy.config import Deployment
from openclaw_deploy.context import AppContext
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.lifecycle import Lifecycle

BACKUP_KEY = "agent/openclaw-state.tar.gz"
"""Where the bridge keeps the agent's latest state archive in the state bucket."""


@dataclass(frozen=True, kw_only=True)
class AgentInfo:
    state: str
    phase: str | None
    since: float | None
    started_at: float | None
    heartbeat_at: float | None
    timings: dict[str, float]
    last_stop_reason: str | None


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
    pending_updates: int | None = None
    last_error: str | None = None


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


def agent_info(app: AppContext, deployment: Deployment) -> AgentInfo:
    table = resources.TASK_STATE.physical_name(deployment.name)
    with translate_boto_errors("read the agent's state"):
        status = Lifecycle(app.client("dynamodb", deployment.region), table).get()
    return AgentInfo(
        state=status.state,
        phase=status.phase,
        since=status.since or None,
        started_at=status.started_at,
        heartbeat_at=status.heartbeat_at,
        timings=dict(status.timings),
        last_stop_reason=status.last_stop_reason,
    )


def memory_info(app: AppContext, deployment: Deployment, account: str) -> MemoryInfo:
    s3: Any = app.client("s3", deployment.region)
    bucket = resources.STATE_BUCKET.physical_name(deployment.name, account, deployment.region)
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
        versions=len(versions),
    )


def local_status(app: AppContext, deployment: Deployment) -> StatusReport:
    from openclaw_deploy.local import service
    from openclaw_deploy.services.local import paths_for

    state = service.read_state(paths_for(app, deployment.name))
    telegram = TelegramInfo(
        configured=resources.TELEGRAM_BOT_TOKEN.key in deployment.parameters,
        bot=deployment.telegram_bot_username,
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
        )
    app.use_local_cloud(state.moto_url)
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
        agent=agent_info(app, deployment),
        memory=memory_info(app, deployment, str(state.resources["account"])),
        telegram=telegram,
    )
