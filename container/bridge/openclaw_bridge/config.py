"""The bridge's configuration, read once from the environment.

The task definition (or the local target) sets the data resource names (`resources`), the
secrets (`OPENCLAW_LLM_API_KEY`, `OPENCLAW_TELEGRAM_BOT_TOKEN`, injected by ECS from SSM) and
the provider chosen at `init`. Everything under `OPENCLAW_BRIDGE_*` is tuning with a sensible
default; tests shorten the timers through it.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.lifecycle import HEARTBEAT_SECONDS

ENV_HOME: Final = "OPENCLAW_BRIDGE_HOME"
"""Where the bridge keeps OpenClaw's state, the rendered config and scratch space."""
ENV_AGENT_USER: Final = "OPENCLAW_BRIDGE_AGENT_USER"
"""The user OpenClaw runs as (the image: `openclaw`); unset, it runs as the bridge's own user."""
ENV_AGENT_HOME: Final = "OPENCLAW_BRIDGE_AGENT_HOME"
"""Where OpenClaw's state, logs and scratch space live, owned by its user (default: the bridge's
home folder)."""
ENV_HELPERS: Final = "OPENCLAW_BRIDGE_HELPERS"
"""The folder of the helpers that switch to and signal the agent's user (`agent.AgentRunner`)."""
ENV_OPENCLAW_CMD: Final = "OPENCLAW_BRIDGE_OPENCLAW_CMD"
"""The command that runs OpenClaw: a JSON list or a shell-style string (default `openclaw`)."""
ENV_GATEWAY_PORT: Final = "OPENCLAW_BRIDGE_GATEWAY_PORT"
ENV_TEMPLATE: Final = "OPENCLAW_BRIDGE_TEMPLATE"
ENV_POLL_WAIT: Final = "OPENCLAW_BRIDGE_POLL_WAIT_SECONDS"
ENV_HEARTBEAT: Final = "OPENCLAW_BRIDGE_HEARTBEAT_SECONDS"
ENV_BACKUP_INTERVAL: Final = "OPENCLAW_BRIDGE_BACKUP_INTERVAL_SECONDS"
ENV_IDLE_TIMEOUT: Final = "OPENCLAW_BRIDGE_IDLE_TIMEOUT_SECONDS"
"""Overrides the owner's idle timeout setting (tests; the setting is in minutes)."""
ENV_STOP_TIMEOUT: Final = "OPENCLAW_BRIDGE_STOP_TIMEOUT_SECONDS"
ENV_READY_TIMEOUT: Final = "OPENCLAW_BRIDGE_READY_TIMEOUT_SECONDS"
ENV_TURN_WORKERS: Final = "OPENCLAW_BRIDGE_TURN_WORKERS"
ENV_BACKUP_KEY: Final = "OPENCLAW_BRIDGE_BACKUP_KEY"
ENV_LOG_LEVEL: Final = "OPENCLAW_BRIDGE_LOG_LEVEL"
ENV_UPSTREAMS: Final = "OPENCLAW_BRIDGE_UPSTREAMS"
ENV_SETTINGS_TTL: Final = "OPENCLAW_BRIDGE_SETTINGS_TTL_SECONDS"
"""How long the settings read before a turn are trusted (0: read before every turn)."""
ENV_WARM_UP: Final = "OPENCLAW_BRIDGE_WARM_UP"
"""`0`: no warm-up turn after a start without a waiting message (openclaw_bridge.warmup)."""

ENV_TASK_ARN: Final = "OPENCLAW_TASK_ARN"
ENV_ECS_METADATA: Final = "ECS_CONTAINER_METADATA_URI_V4"
ENV_PROVIDER: Final = "OPENCLAW_LLM_PROVIDER"
"""The provider chosen at `init`; the owner's settings row overrides it."""
ENV_MODEL: Final = "OPENCLAW_LLM_MODEL"
ENV_BASE_URL: Final = "OPENCLAW_LLM_BASE_URL"
"""An OpenAI-compatible provider's base URL (the offline model, a proxy, a test stand-in)."""

DEFAULT_HOME: Final = "/home/openclaw/agent"
DEFAULT_GATEWAY_PORT: Final = 18789
DEFAULT_BACKUP_KEY: Final = "agent/openclaw-state.tar.gz"
STOP_TIMEOUT_SECONDS: Final = 120.0
"""ECS `stopTimeout` (the maximum): SIGTERM to SIGKILL."""


class BridgeConfigError(RuntimeError):
    """The environment lacks something the bridge cannot run without."""


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BridgeConfigError(f"{name} must be a number, not {raw!r}") from None
    if value < 0:
        raise BridgeConfigError(f"{name} must not be negative")
    return value


def _upstreams(raw: str) -> dict[str, str]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise BridgeConfigError(f"{ENV_UPSTREAMS} is not a JSON object") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.startswith(("http://", "https://"))
        for k, v in value.items()
    ):
        raise BridgeConfigError(f"{ENV_UPSTREAMS} must map provider ids to http(s) URLs")
    return value


def parse_command(raw: str) -> list[str]:
    """A command from the environment: a JSON list of strings, or a shell-style string."""
    raw = raw.strip()
    if raw.startswith("["):
        try:
            value = json.loads(raw)
        except ValueError:
            raise BridgeConfigError(f"{ENV_OPENCLAW_CMD} is not a JSON list") from None
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise BridgeConfigError(f"{ENV_OPENCLAW_CMD} must be a non-empty list of strings")
        return value
    parts = shlex.split(raw)
    if not parts:
        raise BridgeConfigError(f"{ENV_OPENCLAW_CMD} is empty")
    return parts


def default_template() -> Path:
    # container/bridge/openclaw_bridge/ sits three levels below the folder holding templates/,
    # in a source checkout, in the wheel's _assets and in the image (/app) alike.
    return Path(__file__).resolve().parents[3] / "templates" / "openclaw.json5"


@dataclass(frozen=True, kw_only=True)
class BridgeConfig:
    home: Path
    openclaw_command: list[str]
    gateway_port: int
    template: Path
    queue_url: str
    task_state_table: str
    conversations_table: str
    connections_table: str
    settings_table: str
    state_bucket: str
    backup_key: str = DEFAULT_BACKUP_KEY
    ws_management_url: str | None = None
    telegram_api_url: str | None = None
    task_arn: str | None = None
    default_provider: str | None = None
    default_model: str | None = None
    llm_base_url: str | None = None
    keys_path: str | None = None
    """The SSM path of the per-provider keys (`openclaw_deploy.runtime.keys`)."""
    settings_ttl_seconds: float = 2.0
    upstreams: dict[str, str] = field(default_factory=dict)
    """Provider id -> API root, overriding the catalog's (`OPENCLAW_BRIDGE_UPSTREAMS`, a JSON
    object: stand-ins in tests, a company proxy)."""
    llm_api_key: str | None = field(default=None, repr=False)
    telegram_bot_token: str | None = field(default=None, repr=False)
    poll_wait_seconds: int = 20
    heartbeat_seconds: float = HEARTBEAT_SECONDS
    backup_interval_seconds: float = 600.0
    idle_timeout_seconds: float | None = None
    stop_timeout_seconds: float = STOP_TIMEOUT_SECONDS
    ready_timeout_seconds: float = 90.0
    turn_workers: int = 4
    log_level: str = "INFO"
    agent_user: str | None = None
    agent_home_dir: Path | None = None
    helpers_dir: Path | None = None
    warm_up: bool = True

    @property
    def agent_home(self) -> Path:
        """OpenClaw's own folder: its state, logs and scratch space (the agent's user owns it)."""
        return self.agent_home_dir or self.home

    @property
    def state_dir(self) -> Path:
        """OpenClaw's state (`OPENCLAW_STATE_DIR`): databases, sessions, the workspace."""
        return self.agent_home / "state"

    @property
    def config_path(self) -> Path:
        """The rendered OpenClaw config; the bridge's (OpenClaw reads it, cannot change it),
        outside the state folder, rewritten at every boot. It holds no secret."""
        return self.home / "config" / "openclaw.json"

    @property
    def log_file(self) -> Path:
        """OpenClaw's own full log (the task's log gets its warnings and errors only)."""
        return self.agent_home / "logs" / "openclaw.log"

    @property
    def scratch_dir(self) -> Path:
        """The bridge's: backup archives on their way to and from S3."""
        return self.home / "scratch"

    @property
    def agent_scratch_dir(self) -> Path:
        """The agent's: where its backup and restore runs unpack and pack archives."""
        return self.agent_home / "scratch"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a log line."""
        return tuple(v for v in (self.llm_api_key, self.telegram_bot_token) if v)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BridgeConfig:
        env = os.environ if environ is None else environ

        def need(name: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise BridgeConfigError(f"{name} is not set")
            return value

        def optional(name: str) -> str | None:
            return env.get(name, "").strip() or None

        port = int(_number(env, ENV_GATEWAY_PORT, DEFAULT_GATEWAY_PORT))
        idle = env.get(ENV_IDLE_TIMEOUT, "").strip()
        return cls(
            home=Path(env.get(ENV_HOME) or DEFAULT_HOME).expanduser(),
            openclaw_command=parse_command(env.get(ENV_OPENCLAW_CMD) or "openclaw"),
            gateway_port=port,
            template=Path(env[ENV_TEMPLATE]) if env.get(ENV_TEMPLATE) else default_template(),
            queue_url=need(resources.INBOUND.env_var),
            task_state_table=need(resources.TASK_STATE.env_var),
            conversations_table=need(resources.CONVERSATIONS.env_var),
            connections_table=need(resources.CONNECTIONS.env_var),
            settings_table=need(resources.SETTINGS.env_var),
            state_bucket=need(resources.STATE_BUCKET.env_var),
            backup_key=env.get(ENV_BACKUP_KEY) or DEFAULT_BACKUP_KEY,
            ws_management_url=optional(resources.ENV_WS_MANAGEMENT_URL),
            telegram_api_url=optional(resources.ENV_TELEGRAM_API_URL),
            task_arn=optional(ENV_TASK_ARN),
            default_provider=optional(ENV_PROVIDER),
            default_model=optional(ENV_MODEL),
            llm_base_url=optional(ENV_BASE_URL),
            keys_path=optional(resources.ENV_KEYS_PATH),
            upstreams=_upstreams(env.get(ENV_UPSTREAMS, "")),
            settings_ttl_seconds=_number(env, ENV_SETTINGS_TTL, 2.0),
            llm_api_key=optional(resources.LLM_API_KEY.task_env or ""),
            telegram_bot_token=optional(resources.TELEGRAM_BOT_TOKEN.task_env or ""),
            poll_wait_seconds=min(20, int(_number(env, ENV_POLL_WAIT, 20))),
            heartbeat_seconds=_number(env, ENV_HEARTBEAT, HEARTBEAT_SECONDS),
            backup_interval_seconds=_number(env, ENV_BACKUP_INTERVAL, 600.0),
            idle_timeout_seconds=_number(env, ENV_IDLE_TIMEOUT, 0) if idle else None,
            stop_timeout_seconds=_number(env, ENV_STOP_TIMEOUT, STOP_TIMEOUT_SECONDS),
            ready_timeout_seconds=_number(env, ENV_READY_TIMEOUT, 90.0),
            turn_workers=max(1, int(_number(env, ENV_TURN_WORKERS, 4))),
            log_level=(env.get(ENV_LOG_LEVEL) or "INFO").upper(),
            agent_user=optional(ENV_AGENT_USER),
            agent_home_dir=Path(env[ENV_AGENT_HOME]) if env.get(ENV_AGENT_HOME) else None,
            helpers_dir=Path(env[ENV_HELPERS]) if env.get(ENV_HELPERS) else None,
            warm_up=env.get(ENV_WARM_UP, "1").strip() != "0",
        )
