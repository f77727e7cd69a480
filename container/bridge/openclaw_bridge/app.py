"""The bridge's life: boot, serve, sleep.

Boot: read the owner's settings and the queue, restore the state from S3, render OpenClaw's
config, start OpenClaw and wait for it, then mark the lifecycle row Running with the phase
timings. A start that fails, whatever the exception, marks the row Idle with a reason that names
the step and the refusal (never a traceback: that goes to the log), tells whoever is waiting,
and exits non-zero; the lifecycle stops waking an agent that keeps failing the same way.

Serve: long-poll the inbound queue; each message becomes a turn (one at a time per session),
streamed to the web UI and Telegram, written to the history table, and deleted from the queue
only once its reply was delivered. A keep-alive thread heartbeats and keeps in-flight messages
invisible (the queue's visibility is short, so a message whose task died comes back within
about half a minute); nothing slow runs on it, so a long backup never makes a live task look
frozen. The main thread backs up periodically and watches for the idle timeout.

Sleep (idle timeout, SIGTERM, or the row taken over): stop taking messages, let running turns
finish within the stop budget or hand them back, stop OpenClaw, back up, mark the row Idle, exit.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from openclaw_bridge import health, logs, warmup
from openclaw_bridge.activity import Activity, ToolEvents
from openclaw_bridge.agent import HELPERS_DIR, AgentRunner
from openclaw_bridge.attachments import Attachments, OpenAITranscriber, OutboundFile
from openclaw_bridge.browser import choose_browser
from openclaw_bridge.chat_out import ChannelStream, DiscordStream, SlackStream
from openclaw_bridge.config import BridgeConfig, BridgeConfigError
from openclaw_bridge.control import AgentControl
from openclaw_bridge.gateway import (
    GatewayClient,
    GatewayStartError,
    OpenClawProcess,
    TurnCancelledError,
    TurnError,
    openclaw_start_phases,
)
from openclaw_bridge.inbound import InboundQueue, Received
from openclaw_bridge.keys import BridgeKeys, refused_notice
from openclaw_bridge.proxy import KeyLookup, ModelProxy, upstream_for
from openclaw_bridge.reminders import GatewaySocket, GatewaySocketError, Reminders, watch
from openclaw_bridge.render import (
    BrowserChoice,
    ModelChoice,
    RenderError,
    choose_model,
    openclaw_env,
    render_config,
)
from openclaw_bridge.schedules import settle_answered
from openclaw_bridge.skills import SkillSync
from openclaw_bridge.skills import watch as watch_skills
from openclaw_bridge.state import StateError, StateStore
from openclaw_bridge.task import process_started_at, start_phases, task_arn
from openclaw_bridge.telegram_out import DeliveryError, TelegramStream
from openclaw_bridge.turns import SessionScheduler
from openclaw_bridge.web import WebPoster, WebStream
from openclaw_bridge.websearch import BRAVE, brave_upstream, plugin_dir, web_search_config
from openclaw_deploy.runtime import metrics, resources
from openclaw_deploy.runtime.connections import Connections
from openclaw_deploy.runtime.contract import ContractError, QueueMessage, StopRequest
from openclaw_deploy.runtime.corrections import Corrections
from openclaw_deploy.runtime.discord import DiscordClient
from openclaw_deploy.runtime.history import History
from openclaw_deploy.runtime.lifecycle import IDLE, RUNNING, STARTING, STOPPING, Lifecycle
from openclaw_deploy.runtime.providers import PROVIDERS, get_provider, resolve_model
from openclaw_deploy.runtime.settings import Settings
from openclaw_deploy.runtime.skills import SkillStore
from openclaw_deploy.runtime.slack import SlackClient
from openclaw_deploy.runtime.telegram import (
    PHOTO_LIMIT_BYTES,
    TelegramBot,
    TelegramError,
    escape_html,
)
from openclaw_deploy.runtime.warm import WarmWindow, parse_stored

if TYPE_CHECKING:
    from openclaw_deploy.offline_model import OfflineModel

log = logging.getLogger("openclaw_bridge")

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
STOP_RESERVE_SECONDS: Final = 45.0
"""Of the stop budget, kept for stopping OpenClaw, the last backup and the lifecycle write."""
REMINDER_HOLD_SECONDS: Final = 180.0
"""A reminder due sooner than this keeps the task up past its idle timeout."""
WARM_REREAD_SECONDS: Final = 60.0
"""While idleness is held off by the warm window, the settings row is read again this often
(a window changed or turned off with `config set warm` applies within a minute)."""
RETRY_SOON_SECONDS: Final = 15
SLACK_TOKEN_SECONDS: Final = 300
"""Visibility given to a message whose turn hit a passing problem (it comes back then)."""

REASON_IDLE: Final = "idle timeout"
REASON_SIGNAL: Final = "the task was told to stop (SIGTERM): Spot reclaim or a stop from outside"
REASON_SUPERSEDED: Final = "the lifecycle row no longer names this task"
REASON_OPENCLAW_DIED: Final = "OpenClaw exited unexpectedly"

USER_START_FAILED: Final = "Your agent could not start: {reason}"
USER_TURN_FAILED: Final = "Sorry, your agent could not answer this message: {reason}"
USER_NO_TELEGRAM: Final = "the agent has no Telegram bot token"
STOPPED_NOTE: Final = "⏹ Stopped"
STOP_MEMORY_SECONDS: Final = 900.0
"""How long a stop for a message not seen yet is kept (its message may still wait in the queue
while the agent wakes)."""


@dataclass(kw_only=True)
class Clients:
    """The AWS clients the bridge uses, built once (boto3 clients are thread-safe)."""

    dynamodb: Any
    sqs: Any
    s3: Any
    connections_api: Any | None
    ssm: Any | None = None
    """Reads the Slack bot token when the first Slack reply starts."""
    scheduler: Any | None = None
    """Leaves the agent's wake-up for its reminders before the task sleeps."""

    @classmethod
    def create(cls, config: BridgeConfig) -> Clients:
        session = boto3.session.Session()

        def tuned(read_timeout: float) -> Config:
            return Config(
                connect_timeout=5,
                read_timeout=read_timeout,
                max_pool_connections=32,
                retries={"mode": "standard", "max_attempts": 5},
            )

        quick = tuned(15)
        api = None
        if config.ws_management_url:
            api = session.client(
                "apigatewaymanagementapi", endpoint_url=config.ws_management_url, config=quick
            )
        return cls(
            dynamodb=session.client("dynamodb", config=quick),
            # A long poll holds its connection for up to 20 s.
            sqs=session.client("sqs", config=tuned(config.poll_wait_seconds + 15)),
            s3=session.client("s3", config=tuned(120)),
            connections_api=api,
            ssm=session.client("ssm", config=quick),
            scheduler=session.client("scheduler", config=quick),
        )


class BootError(RuntimeError):
    """The agent could not start; the message is shown to the owner."""


def describe_failure(error: BaseException, service: str = "") -> str:
    """What went wrong, in one line a person can act on: an AWS refusal as its code, action and
    message (`AccessDenied on sqs:GetQueueUrl: ...`), anything else as its message."""
    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        code = info.get("Code") or "Error"
        action = f"{service}:{error.operation_name}" if service else error.operation_name
        message = str(info.get("Message") or "").strip()
        return f"{code} on {action}" + (f": {message}" if message else "")
    text = str(error).strip()
    if isinstance(error, BootError | StateError | RenderError | GatewayStartError) and text:
        return text  # ours: written to be read
    if isinstance(error, BotoCoreError | OSError) and text:
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


@contextlib.contextmanager
def boot_step(what: str, service: str = "") -> Iterator[None]:
    """Any exception inside becomes a BootError: "the agent could not {what}: {why}", where
    `service` is the IAM prefix of the AWS calls the step makes."""
    try:
        yield
    except BootError:
        raise
    except Exception as error:
        log.warning("boot step failed: %s", what, exc_info=True)
        raise BootError(f"the agent could not {what}: {describe_failure(error, service)}") from None


@dataclass(eq=False)
class Turn:
    item: Received
    message: QueueMessage
    cancel_stream: Callable[[], None] | None = None
    cancelled: bool = False
    stopped: bool = False
    """The owner pressed Stop: the reply ends here (not handed back)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set_canceller(self, cancel: Callable[[], None]) -> None:
        with self.lock:
            self.cancel_stream = cancel
            if self.cancelled:
                cancel()

    def cancel(self) -> None:
        with self.lock:
            self.cancelled = True
            if self.cancel_stream is not None:
                self.cancel_stream()

    def stop(self) -> None:
        """End the reply where it is: closing the stream makes OpenClaw abort the run."""
        with self.lock:
            self.stopped = True
        self.cancel()


# OpenClaw derives ports from its gateway's (its docs, gateway/multiple-gateways.md): the
# browser control service listens on +2, the browser's CDP ports start at +11.
DERIVED_PORT_OFFSETS: Final = (2, 11)


def free_port() -> int:
    """A free loopback port for OpenClaw's gateway whose derived ports are free too. In a task
    the network is the task's own; on a shared host (the local target's process mode, tests) a
    random port's neighbours may be taken, and OpenClaw's browser then fails to start."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
            if _all_free(port + offset for offset in DERIVED_PORT_OFFSETS):
                return port
    raise OSError("no free loopback port with free neighbours for OpenClaw's gateway")


def _all_free(ports: Iterable[int]) -> bool:
    with contextlib.ExitStack() as held:
        for port in ports:
            if port > 65535:
                return False
            neighbour = held.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            try:
                neighbour.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


class Bridge:
    def __init__(
        self,
        config: BridgeConfig,
        *,
        clients: Clients,
        redactor: logs.Redactor,
        arn: str,
        started_at: float | None = None,
        clock: Callable[[], float] = time.time,
        key_for: KeyLookup | None = None,
    ) -> None:
        self.config = config
        self.clients = clients
        self.redact = redactor
        self.arn = arn
        self.clock = clock
        self.started_at = started_at if started_at is not None else clock()
        self.lifecycle = Lifecycle(clients.dynamodb, config.task_state_table, clock=clock)
        self.history = History(clients.dynamodb, config.conversations_table, clock=clock)
        self.settings = Settings(clients.dynamodb, config.settings_table, clock=clock)
        self.web = WebPoster(
            Connections(clients.dynamodb, config.connections_table, clock=clock)
            if clients.connections_api is not None
            else None,
            clients.connections_api,
        )
        self.queue = InboundQueue(clients.sqs, config.queue_url)
        self.telegram = (
            TelegramBot(config.telegram_bot_token, api_url=config.telegram_api_url)
            if config.telegram_bot_token
            else None
        )
        self.stop_event = threading.Event()
        self.stop_reason: str | None = None
        self.timings: dict[str, float] = {}
        self.process: OpenClawProcess | None = None
        self.gateway: GatewayClient | None = None
        self.store: StateStore | None = None
        self.offline_model: OfflineModel | None = None
        self._warm_up_model: OfflineModel | None = None
        self._warm_up_ref: str | None = None
        self._gateway_token = ""
        self.proxy: ModelProxy | None = None
        self.agent = AgentRunner()
        self.reminders: Reminders | None = None
        self.control: AgentControl | None = None
        self.skill_sync: SkillSync | None = None
        # Per-provider keys from SSM (read with the task role, a few seconds cached), today's
        # one key from the environment for a deployment that has not moved it there yet.
        self.key_for: KeyLookup = key_for or BridgeKeys.from_env(
            clients.ssm, config.keys_path, fallback=self._env_key
        )
        self._boot_choice: ModelChoice | None = None
        self.browser = BrowserChoice()
        self._turn_choice: tuple[float, ModelChoice] | None = None
        self._key_provider: str | None = None
        self.idle_timeout = 15 * 60.0
        self.warm: WarmWindow | None = None
        """The owner's warm window: no sleeping for idleness inside it (`_warm_holds`)."""
        self._warm_read_at = float("-inf")
        self._warm_holding = False
        self.scheduler: SessionScheduler[Turn] = SessionScheduler(
            self._run_turn, workers=config.turn_workers
        )
        self._inflight: dict[str, Turn] = {}
        self._inflight_lock = threading.Lock()
        self._stops: dict[str, float] = {}
        """Stops for messages not taken yet: message id -> when the stop came (monotonic)."""
        self._last_activity = time.monotonic()
        self._dirty = False
        self._poller: threading.Thread | None = None
        self._slack_token_cache: tuple[str, float] | None = None

    def _env_key(self, provider_id: str) -> str | None:
        """Today's one key (the task's `OPENCLAW_LLM_API_KEY`), for the provider chosen at
        `init` or in the settings; the model proxy asks for it per request."""
        if provider_id != self._key_provider:
            return None  # never one provider's key to another
        return self.config.llm_api_key or None

    # -- control -------------------------------------------------------------------------------

    def request_stop(self, reason: str) -> None:
        if not self.stop_event.is_set():
            self.stop_reason = reason
            log.info("stopping: %s", reason)
            self.stop_event.set()

    def install_signal_handlers(self) -> None:
        def on_signal(signum: int, _frame: FrameType | None) -> None:
            self.request_stop(REASON_SIGNAL if signum == signal.SIGTERM else "interrupted")

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def run(self) -> int:
        try:
            self.boot()
        except Exception as error:  # every boot failure, whatever it is, is a failed start
            if self.stop_event.is_set():
                return self._stopped_while_starting()
            if not isinstance(error, BootError):
                log.error("unexpected boot failure", exc_info=True)
                error = BootError(f"the agent could not start: {describe_failure(error)}")
            reason = self.redact(str(error))
            log.error("the agent could not start: %s", reason)
            self._stop_openclaw(timeout=10)
            self._fail_start(reason)
            self._close()
            return EXIT_FAILED
        try:
            running = self.lifecycle.mark_running(self.arn, self.timings)
        except (ClientError, BotoCoreError) as error:
            log.error("could not mark the agent running: %s", error)
            running = False
        if not running:
            log.error("the lifecycle row moved on while the agent started; exiting")
            self._stop_openclaw(timeout=15)
            self._close()
            return EXIT_FAILED
        self.web.broadcast("agent.status", state=RUNNING, phase="ready", since=self.clock())
        for phase, seconds in start_phases(self.timings).items():
            metrics.record(metrics.START_PHASE_SECONDS, seconds, Phase=phase)
        log.info(
            "agent ready in %.2f s (restore %.2f s, OpenClaw %.2f s); idle timeout %.0f s",
            self.timings["boot"],
            self.timings["restore"],
            self.timings["openclaw"],
            self.idle_timeout,
        )
        ready_at = time.monotonic()
        waiting = self._messages_waiting() if self._warm_up_ref is not None else 0
        self._poller = threading.Thread(target=self._poll, name="poller", daemon=True)
        self._poller.start()
        if waiting:
            log.info("a message was waiting at ready: its turn warms OpenClaw, no warm-up")
            self._end_warm_up()
        elif self._warm_up_ref is not None and self.process is not None:
            socket = GatewaySocket(
                self.process.base_url.replace("http://", "ws://", 1), self._gateway_token
            )
            threading.Thread(
                target=self._warm_up, args=(ready_at, socket), name="warm-up", daemon=True
            ).start()
        threading.Thread(target=self._keep_alive, name="keep-alive", daemon=True).start()
        if self.reminders is not None:
            reminders = self.reminders
            threading.Thread(
                target=lambda: watch(reminders, self.stop_event, on_delivered=self._active),
                name="reminders",
                daemon=True,
            ).start()
        if self.skill_sync is not None:
            sync = self.skill_sync
            threading.Thread(
                target=lambda: watch_skills(sync, self.stop_event), name="skills", daemon=True
            ).start()
        self._supervise()
        return self.shutdown()

    def _stopped_while_starting(self) -> int:
        reason = self.stop_reason or REASON_SIGNAL
        self._stop_openclaw(timeout=10)
        try:
            self.lifecycle.begin_stop(self.arn, reason)
            self.lifecycle.mark_idle(self.arn, reason)
        except (ClientError, BotoCoreError) as error:
            log.error("could not mark the agent idle: %s", error)
        self._close()
        return EXIT_OK

    # -- boot ----------------------------------------------------------------------------------

    def _phase(self, phase: str) -> None:
        try:
            if not self.lifecycle.set_phase(self.arn, phase):
                log.warning("the lifecycle row did not take phase %r (not this task's row?)", phase)
            # Whoever is waiting in the web UI sees the wake-up progress as it happens.
            self.web.broadcast("agent.status", state=STARTING, phase=phase, since=self.clock())
        except (ClientError, BotoCoreError) as error:
            log.warning("could not record phase %r: %s", phase, error)

    def boot(self) -> None:
        config = self.config
        with boot_step("prepare its folders"):
            self.agent = AgentRunner.for_user(
                config.agent_user, helpers=config.helpers_dir or HELPERS_DIR
            )
            for folder in (config.home, config.config_path.parent):
                folder.mkdir(parents=True, exist_ok=True)
            config.scratch_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            # OpenClaw's folders are its user's: made as that user.
            self.agent.run(
                ["mkdir", "-p", str(config.state_dir), str(config.log_file.parent)], timeout=30
            )
            health.touch(config.home)
        port = config.gateway_port or free_port()
        token = secrets.token_urlsafe(32)
        self.redact.add(token)

        with boot_step("read its settings", "dynamodb"):
            stored = self.settings.get()
            self._keep_warm(stored.warm)
            decision = choose_browser(stored.browser)
            self.browser = decision.choice
            log.info("browser: %s", decision.reason)
            choice = choose_model(
                settings_provider=stored.provider,
                settings_model=stored.model,
                default_provider=config.default_provider,
                default_model=config.default_model,
                base_url=config.llm_base_url,
            )
        # Before anything slow: a queue the task cannot use fails the start in a second.
        with boot_step("read its queue", "sqs"):
            self.queue.discover()
        self.idle_timeout = (
            config.idle_timeout_seconds
            if config.idle_timeout_seconds is not None
            else stored.idle_timeout_minutes * 60.0
        )
        if choice.provider.id == "offline" and not choice.base_url:
            with boot_step("start the offline demo model"):
                choice = self._start_offline_model(choice)
        self._key_provider = choice.provider.id
        needs_key = choice.provider.key_env and not getattr(choice.provider, "key_optional", False)
        if needs_key and not self.key_for(choice.provider.id):
            raise BootError(
                f"{choice.provider.label} needs an API key and none was given to the agent"
            )
        with boot_step("start its model proxy"):
            self._start_proxy(choice)
        if config.warm_up:
            self._warm_up_ref = self._warm_up_model_ref(choice)
        env = openclaw_env(
            state_dir=str(config.state_dir),
            config_path=str(config.config_path),
            gateway_token=token,
            gateway_port=port,
            home=self.agent.home,
        )
        # The backup commands need the paths, not the token.
        backup_env = {k: v for k, v in env.items() if k != "OPENCLAW_GATEWAY_TOKEN"}
        self.store = StateStore(
            self.clients.s3,
            bucket=config.state_bucket,
            key=config.backup_key,
            openclaw_command=config.openclaw_command,
            env=backup_env,
            state_dir=config.state_dir,
            scratch_dir=config.scratch_dir,
            agent_scratch_dir=config.agent_scratch_dir,
            runner=self.agent,
        )

        self._restore()
        with boot_step("fetch the owner's skills", "s3"):
            self.skill_sync = SkillSync(
                SkillStore(self.clients.s3, config.state_bucket),
                config.home / "skills",
                staging=config.home / "skills-staging",
                clock=self.clock,
            )
            self.skill_sync.prepare()
            self.skill_sync.sync()
        self._start_openclaw(choice, env, port, token)

    def _restore(self) -> None:
        assert self.store is not None
        self._phase("restoring")
        with boot_step("restore its memory", "s3"):
            restored = self.store.restore()
        self.timings["restore"] = round(restored.seconds, 3)
        if restored.restored:
            log.info(
                "restored %d bytes of state in %.2f s (download %.2f s)",
                restored.archive_bytes,
                restored.seconds,
                restored.download_seconds,
            )
        else:
            log.info("no state backup yet: the agent starts fresh")

    def _start_openclaw(
        self, choice: ModelChoice, env: dict[str, str], port: int, token: str
    ) -> None:
        config = self.config
        self._phase("loading")
        try:
            template = config.template.read_text(encoding="utf-8")
            assert self.proxy is not None
            # Every provider the proxy can reach is described, so the owner's next choice
            # applies at the next turn (`x-openclaw-model`), not at the next start.
            others = [
                p
                for p in PROVIDERS.values()
                if self.proxy.upstream(p.id) is not None or p.needs_base_url
            ]
            rendered = render_config(
                template,
                choice,
                gateway_port=port,
                proxy_url=f"http://127.0.0.1:{self.proxy.port}",
                log_file=str(config.log_file),
                others=others,
                web_search=self._web_search(),
                browser=self.browser,
                skills=self.skill_sync.config_section() if self.skill_sync else None,
            )
            self._boot_choice = choice
        except (OSError, RenderError) as error:
            raise BootError(f"the OpenClaw config could not be rendered: {error}") from None
        # Readable by OpenClaw's user, writable by the bridge's only; it holds no secret.
        _write_config(config.config_path, rendered)

        self.process = OpenClawProcess(
            config.openclaw_command,
            port=port,
            env=env,
            cwd=config.agent_home,
            redact=self.redact,
            runner=self.agent,
        )
        log.info(
            "starting OpenClaw (%s) with %s", " ".join(self.process.command[-6:]), choice.model_ref
        )
        try:
            self.process.start()
        except OSError as error:
            raise BootError(f"OpenClaw could not be run: {error}") from None
        try:
            ready = self.process.wait_ready(config.ready_timeout_seconds, abort=self.stop_event)
        except GatewayStartError as error:
            raise BootError(str(error)) from None
        self.gateway = GatewayClient(self.process.base_url, token)
        self._gateway_token = token
        self.files.connect(self.process.base_url, token)
        self.control = AgentControl(self.process.base_url, token)
        tool_events = ToolEvents(self.process.base_url.replace("http://", "ws://", 1), token)
        threading.Thread(
            target=tool_events.listen,
            args=(self._on_activity, self.stop_event),
            name="tool-events",
            daemon=True,
        ).start()
        if self.skill_sync is not None:
            self.skill_sync.connect(self.process.base_url, token)
        self.reminders = Reminders.create(
            base_url=self.process.base_url,
            token=token,
            dynamodb=self.clients.dynamodb,
            scheduler=self.clients.scheduler,
            history=self.history,
            web=self.web,
            telegram=self.telegram,
            clock=self.clock,
            environ=os.environ,
        )
        if self.process.spawned_at is not None:
            phases = openclaw_start_phases(
                self.agent.read_text(config.log_file), self.process.spawned_at, ready
            )
            log.info(
                "OpenClaw start phases: %s",
                ", ".join(f"{name} {seconds:.2f} s" for name, seconds in phases.items()),
            )
        self.timings["openclaw"] = round(ready, 3)
        self.timings["boot"] = round(self.clock() - self.started_at, 3)

    def _failure_reason(self, choice: ModelChoice | None, error: TurnError) -> str:
        """What the owner is told: a refused key by name, with the command that replaces it."""
        refused = refused_notice(choice.provider.id, str(error)) if choice else None
        if refused is None or choice is None:
            return str(error)
        if isinstance(self.key_for, BridgeKeys):
            self.key_for.forget(choice.provider.id)  # a replaced key is read again at once
        return refused

    def _model_for_turn(self) -> ModelChoice | None:
        """The provider and model the owner's settings name now (looked at before each turn,
        at most every few seconds): a change made while the agent runs applies to its next
        turn. None before the boot has chosen one."""
        boot = self._boot_choice
        if boot is None:
            return None
        now = time.monotonic()
        cached = self._turn_choice
        if cached is not None and now - cached[0] < self.config.settings_ttl_seconds:
            return cached[1]
        try:
            stored = self.settings.get()
        except (ClientError, BotoCoreError) as error:
            log.warning("could not read the settings; keeping the model: %s", error)
            return cached[1] if cached is not None else boot
        self._keep_warm(stored.warm)
        config = self.config
        try:
            choice = choose_model(
                settings_provider=stored.provider,
                settings_model=stored.model,
                default_provider=config.default_provider,
                default_model=config.default_model,
                base_url=config.llm_base_url,
            )
        except RenderError as error:
            log.warning("the settings name no usable model (%s); keeping the last one", error)
            return cached[1] if cached is not None else boot
        if choice.provider.id == boot.provider.id and not stored.base_url:
            choice = boot  # its endpoint (e.g. the offline model's) as started
        else:
            choice = self._route_choice(choice, stored.base_url)
        if cached is None or cached[1].model_ref != choice.model_ref:
            log.info("turns now use %s", choice.model_ref)
        self._turn_choice = (now, choice)
        return choice

    def _route_choice(self, choice: ModelChoice, base_url: str | None) -> ModelChoice:
        """`choice` with the model id calls go to, and its endpoint routed by the proxy."""
        region = _region()
        model = resolve_model(choice.provider.id, choice.model, region)
        if base_url and self.proxy is not None and choice.provider.needs_base_url:
            current = self.proxy.upstream(choice.provider.id)
            if current is None or current.base_url != base_url:
                route = upstream_for(choice.provider, base_url=base_url, region=region)
                self.proxy.set_upstream(route)
        return replace(choice, model=model, base_url=base_url or choice.base_url)

    def _start_proxy(self, choice: ModelChoice) -> None:
        """The loopback model proxy: a route for every provider (the chosen one at its base
        URL override), so a switch of provider needs no new proxy."""
        region = _region()
        routes = []
        for provider in PROVIDERS.values():
            base_url = choice.base_url if provider.id == choice.provider.id else None
            base_url = base_url or self.config.upstreams.get(provider.id)
            try:
                routes.append(upstream_for(provider, base_url=base_url, region=region))
            except ValueError:
                continue  # no base URL to forward to (the offline model when not chosen)
        routes.append(brave_upstream(self.config.upstreams.get(BRAVE)))
        session = boto3.session.Session()
        self.proxy = ModelProxy(
            routes, key_for=self.key_for, credentials=session.get_credentials
        ).start()
        log.info(
            "model proxy on 127.0.0.1:%d; OpenClaw runs as %s",
            self.proxy.port,
            f"the user {self.agent.user}" if self.agent.separate else "the bridge's own user",
        )

    def _web_search(self) -> dict[str, Any]:
        """Brave search for `web_search` when its plugin is installed and a brave key is set
        (read at the start: a key added later counts from the next start)."""
        assert self.proxy is not None
        plugin = plugin_dir(self.config.openclaw_command)
        has_key = plugin is not None and bool(self.key_for(BRAVE))
        if plugin is not None:
            log.info("web_search: %s", "Brave" if has_key else "no brave key, no provider")
        return web_search_config(
            plugin=plugin, proxy_url=f"http://127.0.0.1:{self.proxy.port}", has_key=has_key
        )

    def _warm_up_model_ref(self, choice: ModelChoice) -> str:
        """The model of the warm-up turn: the offline demo model, never the owner's (the one
        chosen when it is the offline model; otherwise one started for the warm-up alone and
        routed by the proxy, so the rendered config describes it)."""
        from openclaw_deploy.offline_model import OfflineModel

        if choice.provider.id == "offline":
            return choice.model_ref
        assert self.proxy is not None
        offline = get_provider("offline")
        self._warm_up_model = OfflineModel.start()
        self.proxy.set_upstream(
            upstream_for(offline, base_url=self._warm_up_model.base_url, region=_region())
        )
        return ModelChoice(provider=offline, model=offline.default_model or "demo").model_ref

    def _messages_waiting(self) -> int:
        try:
            return self.queue.waiting()
        except (ClientError, BotoCoreError) as error:
            log.warning("could not count the waiting messages: %s", error)
            return 0

    def _end_warm_up(self) -> None:
        if self._warm_up_model is not None:
            self._warm_up_model.stop()
            self._warm_up_model = None

    def _warm_up(self, ready_at: float, socket: GatewaySocket) -> None:
        """OpenClaw's first turn, taken now when no message was waiting at ready (and none
        came in the seconds after: its own turn is the first then)."""
        try:
            if self.stop_event.wait(warmup.SETTLE_SECONDS):
                return
            if self._last_activity > ready_at or self.scheduler.busy():
                log.info("a message came right after ready: its turn warms OpenClaw, no warm-up")
                return
            assert self.gateway is not None
            assert self._warm_up_ref is not None
            seconds = warmup.warm_up(self.gateway, socket, self._warm_up_ref)
            log.info("warmed OpenClaw's first turn in %.2f s on %s", seconds, self._warm_up_ref)
        except Exception as error:  # noqa: BLE001 - a failed warm-up only leaves a slower turn
            log.warning("the warm-up turn failed (the first turn will be slower): %s", error)
        finally:
            socket.close()
            self._end_warm_up()

    def _start_offline_model(self, choice: ModelChoice) -> ModelChoice:
        from openclaw_deploy.offline_model import OfflineModel

        self.offline_model = OfflineModel.start()
        log.info("using the offline demo model at %s", self.offline_model.base_url)
        return ModelChoice(
            provider=choice.provider, model=choice.model, base_url=self.offline_model.base_url
        )

    def _fail_start(self, reason: str) -> None:
        try:
            self.lifecycle.fail_start(reason)
        except (ClientError, BotoCoreError) as error:
            log.error("could not record the failed start: %s", error)
        self.web.broadcast("agent.status", state=IDLE, phase=None, since=self.clock())
        self._tell_waiting(USER_START_FAILED.format(reason=reason))

    def _tell_waiting(self, text: str) -> None:
        """Tell the people whose messages wait in the queue, and leave the messages there."""
        try:
            waiting = self.queue.receive(wait_seconds=0)
        except (ClientError, BotoCoreError) as error:
            log.warning("could not look at the waiting messages: %s", error)
            waiting = []
        told_chats: set[int] = set()
        for item in waiting:
            try:
                msg = self.queue.parse(item)
            except ContractError:
                self.queue.release(item)
                continue
            if msg.channel == "telegram" and msg.reply.chat_id is not None:
                if msg.reply.chat_id not in told_chats and self.telegram is not None:
                    told_chats.add(msg.reply.chat_id)
                    with contextlib.suppress(TelegramError):
                        self.telegram.send_message(msg.reply.chat_id, _plain(text))
            else:
                self.web.broadcast("error", id=msg.message_id, code="agent_failed", message=text)
            self.queue.release(item)
        if not waiting:
            self.web.broadcast("error", id="agent", code="agent_failed", message=text)

    # -- serve ---------------------------------------------------------------------------------

    def _poll(self) -> None:
        while not self.stop_event.is_set():
            try:
                received = self.queue.receive(self.config.poll_wait_seconds)
            except (ClientError, BotoCoreError) as error:
                log.warning("could not receive from the queue: %s", error)
                self.stop_event.wait(2.0)
                continue
            if self.stop_event.is_set():
                for item in received:
                    self.queue.release(item)
                return
            for item in received:
                self._dispatch(item)

    def _dispatch(self, item: Received) -> None:
        try:
            stop = StopRequest.from_json(item.body)
            if stop is not None:
                self._stop_reply(stop, item)
                return
            msg = self.queue.parse(item)
        except ContractError as error:
            try:
                self.queue.dead_letter(item, error)
            except (ClientError, BotoCoreError) as failure:
                log.error(
                    "could not move message %s to the dead-letter queue: %s", item.sqs_id, failure
                )
            return
        with self._inflight_lock:
            known = self._inflight.get(msg.message_id)
            if known is not None:
                # Redelivered while we still work on it: keep the newest receipt handle.
                known.item.receipt = item.receipt
                return
            turn = Turn(
                item=item, message=msg, stopped=self._stops.pop(msg.message_id, None) is not None
            )
            self._inflight[msg.message_id] = turn
            self._last_activity = time.monotonic()
        if not self.scheduler.submit(msg.session, turn):
            self._forget(turn)
            self.queue.release(item)

    def _on_activity(self, activity: Activity) -> None:
        """OpenClaw started or ended a tool for a session: tell the web chat, for the reply the
        session is writing (an `agent.activity` frame)."""
        with self._inflight_lock:
            running = [
                turn
                for turn in self._inflight.values()
                if turn.message.session == activity.session
                and turn.cancel_stream is not None
                and not turn.cancelled
            ]
        for turn in running[:1]:
            self.web.broadcast(
                "agent.activity",
                id=turn.message.message_id,
                session=activity.session,
                activity=activity.kind,
                tool=activity.tool,
                detail=activity.detail,
            )

    def _stop_reply(self, stop: StopRequest, item: Received) -> None:
        """The owner pressed Stop: end the running turn, or the one its message will start."""
        now = time.monotonic()
        with self._inflight_lock:
            turn = self._inflight.get(stop.message_id)
            if turn is None:
                for known, at in list(self._stops.items()):
                    if now - at > STOP_MEMORY_SECONDS:
                        del self._stops[known]
                self._stops[stop.message_id] = now
        if turn is not None:
            log.info("stopping the reply to %s", stop.message_id)
            turn.stop()
        else:
            log.info("a stop for %s, not taken yet: it ends when it comes", stop.message_id)
        try:
            self.queue.delete(item)
        except (ClientError, BotoCoreError) as error:
            log.warning("could not delete the stop for %s: %s", stop.message_id, error)

    def _forget(self, turn: Turn) -> None:
        with self._inflight_lock:
            self._inflight.pop(turn.message.message_id, None)
            self._last_activity = time.monotonic()

    def _run_turn(self, turn: Turn) -> None:
        msg = turn.message
        if self.reminders is not None:
            self.reminders.note(msg)  # a reminder asked for here is answered here
        try:
            if turn.stopped:
                self._finish(
                    turn,
                    WebStream(self.web, message_id=msg.message_id, session=msg.session),
                    None,
                    "",
                    stopped=True,
                )
                return
            if turn.cancelled:
                self.queue.release(turn.item)
                return
            try:
                if self.history.is_answered(msg):
                    log.info("message %s was answered before; not answering again", msg.message_id)
                    self.queue.delete(turn.item)
                    return
            except (ClientError, BotoCoreError) as error:
                log.warning("could not check message %s: %s", msg.message_id, error)
                self._retry_soon(turn)
                return
            self._answer(turn)
        finally:
            self._forget(turn)
            if self.reminders is not None:
                self.reminders.poke()

    def _retry_soon(self, turn: Turn) -> None:
        try:
            self.queue.extend(turn.item, RETRY_SOON_SECONDS)
        except (ClientError, BotoCoreError) as error:
            log.warning("could not reschedule message %s: %s", turn.message.message_id, error)

    def _answer(self, turn: Turn) -> None:
        msg = self._corrected(turn)
        assert self.gateway is not None
        started = time.monotonic()
        recorder = threading.Thread(target=self._record_user, args=(msg,), daemon=True)
        recorder.start()
        web = WebStream(self.web, message_id=msg.message_id, session=msg.session)
        telegram = self._telegram_stream(turn)
        web.start()
        if telegram is not None:
            telegram.start()
        pieces: list[str] = []
        first_token: float | None = None
        choice = self._model_for_turn()
        prompt, images = self._turn_input(msg, choice, web, telegram, pieces)
        try:
            for piece in self.gateway.stream_reply(
                msg.session,
                prompt,
                on_open=turn.set_canceller,
                model=choice.model_ref if choice is not None else None,
                images=images,
            ):
                if first_token is None:
                    first_token = time.monotonic() - started
                pieces.append(piece)
                web.delta(piece)
                if telegram is not None:
                    telegram.delta(piece)
        except TurnCancelledError:
            if turn.stopped:
                recorder.join(timeout=10)
                log.info("the owner stopped the reply to %s", msg.message_id)
                if self.control is not None:
                    self.control.record_stopped(msg.session, "".join(pieces))
                self._finish(turn, web, telegram, "".join(pieces), stopped=True)
                return
            log.info("turn for message %s handed back", msg.message_id)
            web.abandon()
            if telegram is not None:
                telegram.abandon()
            self.queue.release(turn.item)
            return
        except TurnError as error:
            recorder.join(timeout=10)
            self._turn_failed(turn, web, telegram, self._failure_reason(choice, error))
            return
        recorder.join(timeout=10)
        reply, files = self._files_out(msg, "".join(pieces))
        if not self._finish(turn, web, telegram, reply, files=files):
            return
        self._delivered(msg, telegram)
        self._dirty = True
        metrics.record(metrics.TURN_SECONDS, round(time.monotonic() - started, 3))
        log.info(
            "answered %s (%s) in %.2f s, first text after %s",
            msg.message_id,
            msg.channel,
            time.monotonic() - started,
            f"{first_token * 1000:.0f} ms" if first_token is not None else "-",
        )

    def _corrected(self, turn: Turn) -> QueueMessage:
        """The turn's message, with the text of a Telegram edit made before this moment (from
        now on an edit is told it came too late: `runtime.corrections`)."""
        msg = turn.message
        table = os.environ.get(resources.DEDUPE.env_var)
        chat, number = msg.reply.chat_id, msg.reply.reply_to_message_id
        if msg.channel != "telegram" or chat is None or number is None or not table:
            return msg
        try:
            text = Corrections(self.clients.dynamodb, table, clock=self.clock).start(chat, number)
        except (ClientError, BotoCoreError) as error:
            log.warning("could not look for an edit of %s: %s", msg.message_id, error)
            return msg
        if text and text != msg.text:
            log.info("message %s was edited before its answer began", msg.message_id)
            turn.message = replace(msg, text=text)
        return turn.message

    @functools.cached_property
    def files(self) -> Attachments:
        """Files in and out of the agent (its workspace, the state bucket, Telegram's files)."""
        return Attachments(
            self.clients.s3,
            self.config.state_bucket,
            workspace=self.config.state_dir / "workspace",
            runner=self.agent,
            telegram=self.telegram,
        )

    def _turn_input(
        self,
        msg: QueueMessage,
        choice: ModelChoice | None,
        web: WebStream,
        telegram: ChannelStream | None,
        pieces: list[str],
    ) -> tuple[str, list[dict[str, Any]] | None]:
        """The turn's text and image parts; what the person must know about their files
        (refused, not seen, not transcribed) opens the reply."""
        if not msg.attachments:
            return msg.text, None
        model = choice or self._boot_choice
        pair = (model.provider.id, model.model) if model is not None else ("offline", "demo")
        prepared = self.files.prepare(msg, model=pair, transcribe=self._transcriber(model))
        for notice in prepared.notices:
            piece = notice + "\n\n"
            pieces.append(piece)
            web.delta(piece)
            if telegram is not None:
                telegram.delta(piece)
        return prepared.text, prepared.images or None

    def _transcriber(self, choice: ModelChoice | None) -> OpenAITranscriber | None:
        """The provider's speech-to-text, when it has one (OpenAI's) and its key is set."""
        if choice is None or choice.provider.id != "openai":
            return None
        key = self.key_for(choice.provider.id)
        base_url = choice.base_url or choice.provider.base_url
        return OpenAITranscriber(base_url, key) if key and base_url else None

    def _files_out(self, msg: QueueMessage, text: str) -> tuple[str, list[OutboundFile]]:
        """The reply without `MEDIA:` lines, and the files the turn attached, stored."""
        paths = self.files.produced(msg.session)
        if not paths and "MEDIA:" not in text:
            return text, []
        shown, files, problems = self.files.publish(msg.session, text, paths)
        return "\n\n".join(filter(None, (shown, *problems))), files

    def _send_files(self, msg: QueueMessage, files: list[OutboundFile]) -> None:
        """The agent's files to the Telegram chat: images as photos (within Telegram's photo
        limit), everything else as documents. The reply's text is out already: a file that
        cannot be sent is logged, not answered again."""
        chat_id = msg.reply.chat_id
        if self.telegram is None or chat_id is None:
            return
        for item in files:
            try:
                self.telegram.send_file(
                    chat_id,
                    name=item.name,
                    data=item.data,
                    content_type=item.content_type,
                    as_photo=item.is_image and item.size <= PHOTO_LIMIT_BYTES,
                )
            except TelegramError as error:
                log.warning("could not send the agent's file %s to Telegram: %s", item.name, error)

    def _telegram_stream(self, turn: Turn) -> ChannelStream | None:
        msg = turn.message
        if msg.channel in ("slack", "discord"):
            return self._chat_stream(msg)
        if msg.channel != "telegram" or msg.reply.chat_id is None or self.telegram is None:
            return None
        return TelegramStream(
            self.telegram,
            msg.reply.chat_id,
            reply_to=msg.reply.reply_to_message_id,
            # Taken before: a task that died mid-reply may have left a preview to finish.
            resume=self._draft(msg) if turn.item.receive_count > 1 else None,
            on_shown=lambda ids: self._remember_draft(msg, ids),
        )

    def _chat_stream(self, msg: QueueMessage) -> ChannelStream | None:
        """The reply's stream to a Slack thread or a Discord interaction."""
        conversation, thread = msg.reply.conversation, msg.reply.thread
        if conversation is None or thread is None:
            return None
        if msg.channel == "discord":
            api_url = os.environ.get(resources.ENV_DISCORD_API_URL)
            return DiscordStream(DiscordClient(api_url=api_url), conversation, thread)
        try:
            token = self._slack_token()
        except (ClientError, BotoCoreError, KeyError) as error:
            log.error(
                "message %s came from Slack but its bot token is unreadable: %s",
                msg.message_id,
                error,
            )
            return None
        api_url = os.environ.get(resources.ENV_SLACK_API_URL)
        return SlackStream(SlackClient(token, api_url=api_url), conversation, thread)

    def _slack_token(self) -> str:
        """The Slack bot token from SSM, read again every few minutes (`channels add` may
        replace it while the task runs)."""
        now = time.monotonic()
        cached = self._slack_token_cache
        if cached is not None and now - cached[1] < SLACK_TOKEN_SECONDS:
            return cached[0]
        if self.clients.ssm is None:
            raise KeyError("no SSM client")
        name = os.environ[resources.SLACK_BOT_TOKEN.env_var]
        answer = self.clients.ssm.get_parameter(Name=name, WithDecryption=True)
        token = str(answer["Parameter"]["Value"])
        self.redact.add(token)
        self._slack_token_cache = (token, now)
        return token

    def _draft(self, msg: QueueMessage) -> list[int]:
        try:
            return self.history.draft(msg)
        except (ClientError, BotoCoreError) as error:
            log.warning("could not look up the earlier reply to %s: %s", msg.message_id, error)
            return []

    def _remember_draft(self, msg: QueueMessage, message_ids: list[int]) -> None:
        try:
            self.history.remember_draft(msg, message_ids)
        except (ClientError, BotoCoreError) as error:
            log.warning("could not remember the reply's messages: %s", error)

    def _delivered(self, msg: QueueMessage, telegram: ChannelStream | None) -> None:
        """The answer reached its channel: no draft to finish any more, and a schedule's
        firing is marked answered."""
        self._forget_draft(msg, telegram)
        settle_answered(self.clients.dynamodb, msg)

    def _forget_draft(self, msg: QueueMessage, telegram: ChannelStream | None) -> None:
        if telegram is None or not telegram.shown:
            return
        try:
            self.history.forget_draft(msg)
        except (ClientError, BotoCoreError) as error:
            log.warning("could not forget the reply's messages: %s", error)

    def _finish(
        self,
        turn: Turn,
        web: WebStream,
        telegram: ChannelStream | None,
        text: str,
        *,
        stopped: bool = False,
        files: list[OutboundFile] | None = None,
    ) -> bool:
        """Record the reply, deliver its end, then let the queue go; False when the message
        stays on the queue (it is answered again).

        Recorded before the final frame, so a client that reads the history as soon as the
        reply is final finds it there. The row's key is the message's: an answer given again
        overwrites it."""
        msg = turn.message
        unrecorded: Exception | None = None
        try:
            self.history.record_reply(
                msg, text, stopped=stopped, attachments=[f.record() for f in files or []]
            )
        except (ClientError, BotoCoreError) as error:
            unrecorded = error
        try:
            shown = [{**f.record(), "url": self.files.download_url(f.key)} for f in files or []]
            shown = [{k: v for k, v in f.items() if k != "key"} for f in shown]
            web.finish(text, stopped=stopped, attachments=shown or None)
            if telegram is not None:
                telegram.finish(f"{text}\n\n{STOPPED_NOTE}".strip() if stopped else text)
            if files and msg.channel == "telegram":
                self._send_files(msg, files)
        except DeliveryError as error:
            log.warning(
                "the reply to %s was not delivered (%s); it will be answered again",
                msg.message_id,
                error,
            )
            self._retry_soon(turn)
            return False
        if msg.channel == "telegram" and self.telegram is None:
            log.error("message %s came from Telegram but %s", msg.message_id, USER_NO_TELEGRAM)
        if unrecorded is not None:
            log.error(
                "the reply to %s was delivered but not recorded: %s", msg.message_id, unrecorded
            )
            return False
        try:
            self.queue.delete(turn.item)
        except (ClientError, BotoCoreError) as error:
            log.error("the reply to %s was delivered but stays queued: %s", msg.message_id, error)
            return False
        return True

    def _record_user(self, msg: QueueMessage) -> None:
        try:
            self.history.record_user(msg)
        except (ClientError, BotoCoreError) as error:
            log.warning("could not record message %s: %s", msg.message_id, error)

    def _turn_failed(
        self, turn: Turn, web: WebStream, telegram: ChannelStream | None, reason: str
    ) -> None:
        msg = turn.message
        if self.process is not None and not self.process.alive():
            # OpenClaw itself went away: the next task answers this message.
            web.abandon()
            if telegram is not None:
                telegram.abandon()
            self.queue.release(turn.item)
            self.request_stop(REASON_OPENCLAW_DIED)
            return
        log.error("OpenClaw could not answer %s: %s", msg.message_id, reason)
        metrics.record(metrics.TURN_ERRORS, 1)
        notice = USER_TURN_FAILED.format(reason=reason)
        web.fail("agent_failed", notice)
        if telegram is not None:
            telegram.fail(_plain(notice))
        try:
            self.history.record_reply(msg, notice)
            self.queue.delete(turn.item)
        except (ClientError, BotoCoreError) as error:
            log.error("could not settle message %s: %s", msg.message_id, error)

    # -- supervise -----------------------------------------------------------------------------

    def _keep_alive(self) -> None:
        """Heartbeat and SQS visibility, on their own thread: the watchdog's stale-heartbeat
        threshold and the queue's visibility are short, so nothing else may delay these.
        Runs until the task ends (in-flight messages stay invisible while it shuts down)."""
        next_heartbeat = time.monotonic() + self.config.heartbeat_seconds
        while True:
            now = time.monotonic()
            if now >= next_heartbeat and not self.stop_event.is_set():
                next_heartbeat = now + self.config.heartbeat_seconds
                self._heartbeat()
            self._keep_invisible(time.monotonic())
            time.sleep(0.5)

    def _supervise(self) -> None:
        config = self.config
        next_backup = time.monotonic() + config.backup_interval_seconds
        next_touch = 0.0
        while not self.stop_event.wait(0.25):
            now = time.monotonic()
            if now >= next_touch:
                next_touch = now + 5.0
                health.touch(config.home)
            if self.process is not None and not self.process.alive():
                self.request_stop(REASON_OPENCLAW_DIED)
                break
            with self._inflight_lock:
                idle_for = now - self._last_activity if not self._inflight else 0.0
            if (
                idle_for >= self.idle_timeout
                and not self._reminder_due()
                and not self._warm_holds()
            ):
                self.request_stop(REASON_IDLE)
                break
            if now >= next_backup:
                next_backup = now + config.backup_interval_seconds
                if self._dirty:
                    self._backup("periodic")

    def _active(self, _delivered: int = 0) -> None:
        self._last_activity = time.monotonic()

    def _keep_warm(self, stored: str | None) -> None:
        self._warm_read_at = time.monotonic()
        window = parse_stored(stored)
        if window != self.warm:
            log.info("warm window: %s", window or "none")
        self.warm = window

    def _warm_holds(self) -> bool:
        """Inside the owner's warm window (in its zone, by the injected clock): stay up however
        long idle. The window is read again from the settings while it holds off a stop."""
        if time.monotonic() - self._warm_read_at >= WARM_REREAD_SECONDS:
            try:
                self._keep_warm(self.settings.get().warm)
            except (ClientError, BotoCoreError) as error:
                self._warm_read_at = time.monotonic()
                log.warning("could not read the warm window; keeping it: %s", error)
        window = self.warm
        holds = window is not None and window.holds(datetime.fromtimestamp(self.clock(), UTC))
        if holds != self._warm_holding:
            self._warm_holding = holds
            if holds:
                log.info("idle, but awake for the warm window %s", window)
            else:
                log.info("the warm window is over; the idle timeout applies")
        return holds

    def _reminder_due(self) -> bool:
        """A reminder runs before the task could sleep and wake again: stay up for it."""
        return self.reminders is not None and self.reminders.due_within(REMINDER_HOLD_SECONDS)

    def _leave_wake_up(self) -> None:
        """Before OpenClaw stops: deliver what just ran, then leave the wake-up for the
        earliest pending reminder (replacing an earlier one, or removing it if none)."""
        if self.reminders is None:
            return
        try:
            self.reminders.look()
        except (GatewaySocketError, ClientError, BotoCoreError) as error:
            log.warning("could not look at the reminders before sleeping: %s", error)
        try:
            self.reminders.leave_wake_up()
        except (GatewaySocketError, ClientError, BotoCoreError) as error:
            # Never in the way of the stop; the log says what failed.
            log.error("could not leave the reminders' wake-up: %s", describe_failure(error))

    def _heartbeat(self) -> None:
        try:
            if not self.lifecycle.heartbeat(self.arn):
                self.request_stop(REASON_SUPERSEDED)
        except (ClientError, BotoCoreError) as error:
            log.warning("heartbeat failed: %s", error)

    def _keep_invisible(self, now: float) -> None:
        every = max(5.0, self.queue.visibility_timeout / 3)
        with self._inflight_lock:
            turns = list(self._inflight.values())
        for turn in turns:
            if now - turn.item.extended_at >= every:
                try:
                    self.queue.extend(turn.item)
                except (ClientError, BotoCoreError) as error:
                    log.warning("could not extend message %s: %s", turn.message.message_id, error)
                    turn.item.extended_at = now

    def _backup(self, why: str, *, timeout: float = 90.0) -> bool:
        if self.store is None:
            return False
        self._dirty = False
        try:
            result = self.store.backup(timeout=timeout)
        except (StateError, ClientError, BotoCoreError, OSError) as error:
            self._dirty = True
            log.error("%s backup failed: %s", why, error)
            return False
        log.info("%s backup: %d bytes in %.2f s", why, result.archive_bytes, result.seconds)
        return True

    # -- sleep ---------------------------------------------------------------------------------

    def shutdown(self) -> int:
        reason = self.stop_reason or REASON_SIGNAL
        stop_started = time.monotonic()
        budget = self.config.stop_timeout_seconds
        superseded = reason == REASON_SUPERSEDED
        if not superseded:
            try:
                self.lifecycle.begin_stop(self.arn, reason)
            except (ClientError, BotoCoreError) as error:
                log.warning("could not record the stop: %s", error)
            self.web.broadcast("agent.status", state=STOPPING, phase="stopping", since=self.clock())
        for turn in self.scheduler.close():
            self._forget(turn)
            self.queue.release(turn.item)
        drain = max(0.0, budget - STOP_RESERVE_SECONDS)
        if not self.scheduler.wait_idle(timeout=drain):
            with self._inflight_lock:
                running = list(self._inflight.values())
            log.warning("handing back %d unfinished turn(s)", len(running))
            for turn in running:
                turn.cancel()
            self.scheduler.wait_idle(timeout=10)
        self.scheduler.shutdown()
        if not superseded:
            self._leave_wake_up()
        left = budget - (time.monotonic() - stop_started)
        self._stop_openclaw(timeout=min(15.0, max(2.0, left - 30)))
        if not superseded:
            left = budget - (time.monotonic() - stop_started)
            self._backup("final", timeout=max(5.0, left - 8))
        status_reason = reason
        try:
            status = self.lifecycle.get()
            if status.state == STOPPING and status.task_arn == self.arn and reason == REASON_SIGNAL:
                status_reason = status.last_stop_reason or reason  # the owner's or the watchdog's
            if not superseded:
                self.lifecycle.mark_idle(self.arn, status_reason)
        except (ClientError, BotoCoreError) as error:
            log.error("could not mark the agent idle: %s", error)
        if not superseded:
            self.web.broadcast("agent.status", state=IDLE, phase=None, since=self.clock())
        if self._poller is not None:
            # Usually long done; it hands back anything its last receive brought.
            left = budget - (time.monotonic() - stop_started)
            self._poller.join(timeout=max(0.0, min(self.config.poll_wait_seconds + 5, left - 2)))
        self._close()
        log.info("stopped after %.1f s: %s", time.monotonic() - stop_started, status_reason)
        return EXIT_FAILED if reason == REASON_OPENCLAW_DIED else EXIT_OK

    def _stop_openclaw(self, timeout: float) -> None:
        if self.process is not None:
            code = self.process.stop(timeout=timeout)
            log.info("OpenClaw stopped (exit %s)", code)

    def _close(self) -> None:
        if self.reminders is not None:
            self.reminders.close()
        if self.gateway is not None:
            self.gateway.close()
        if self.control is not None:
            self.control.close()
        if self.proxy is not None:
            self.proxy.stop()
        if self.offline_model is not None:
            self.offline_model.stop()
        if self._warm_up_model is not None:
            self._warm_up_model.stop()


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _plain(text: str) -> str:
    """Text for Telegram's HTML parse mode."""
    return escape_html(text)


def _write_config(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o755)  # whatever the umask: the agent's user reads it
    temporary = path.with_name(path.name + ".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.fchmod(fd, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    temporary.replace(path)


def main() -> int:
    started_at = process_started_at()
    redactor = logs.Redactor()
    try:
        config = BridgeConfig.from_env()
    except BridgeConfigError as error:
        logs.setup(redactor)
        log.error("cannot start: %s", error)
        return EXIT_FAILED
    redactor.add(*config.secrets)
    logs.setup(redactor, config.log_level)
    if config.agent_user:
        os.umask(0o077)  # what the bridge writes is its own (the config is opened up on purpose)
    bridge = Bridge(
        config,
        clients=Clients.create(config),
        redactor=redactor,
        arn=task_arn(),
        started_at=started_at,
    )
    bridge.install_signal_handlers()
    log.info("bridge %s starting for task %s", os.getpid(), bridge.arn)
    return bridge.run()
