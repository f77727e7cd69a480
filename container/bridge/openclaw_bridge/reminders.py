"""The agent's own reminders: OpenClaw's cron jobs that the owner asked for in a chat.

When the owner says "remind me in 2 hours to ...", OpenClaw records a cron job (its `automations`
tool, reached through Tool Search's `tool_call`) tied to the session the request came from
(`sessionTarget: "current"`). When it runs, OpenClaw commits the run's answer to that session's
transcript only: our sessions come in over HTTP, so OpenClaw has no channel to announce it on.

Two things make such a job work for an agent that sleeps:

* before the task sleeps, the bridge reads the pending jobs the owner asked for (OpenClaw's own
  built-in jobs, such as its heartbeat or memory dreaming, never count: they would wake the agent
  every day at a cost) and leaves ONE one-time EventBridge Scheduler wake-up (`agent-wake`, in
  the deployment's group) a little ahead of the earliest, replacing any earlier one;
* while it runs, the bridge watches the sessions that have jobs: once a job's run committed its
  answer to the transcript, the answer goes to the channel the session belongs to (the owner's
  Telegram chat or the web conversation), exactly once (a conditional write keyed by the
  transcript message claims it).

OpenClaw is reached over its gateway WebSocket (protocol v4) on loopback as the backend client
with the gateway token: `cron.list` and `chat.history`.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError
from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from openclaw_bridge.gateway import openclaw_session_key
from openclaw_bridge.web import WebPoster, WebStream
from openclaw_deploy.runtime import ddb, resources
from openclaw_deploy.runtime.contract import MAX_TEXT_CHARS, QueueMessage, ReplyTarget
from openclaw_deploy.runtime.history import History
from openclaw_deploy.runtime.pairing import PairedUser, Pairing
from openclaw_deploy.runtime.schedules import AGENT_PREFIX, Firing, Names
from openclaw_deploy.runtime.schedules import target as schedule_target
from openclaw_deploy.runtime.telegram import TelegramBot, TelegramError

log = logging.getLogger("openclaw_bridge.reminders")

PROTOCOL: Final = 4
CLIENT_ID: Final = "gateway-client"
CLIENT_MODE: Final = "backend"
SCOPES: Final = ("operator.read", "operator.write", "operator.admin")
BUILT_IN_PREFIXES: Final = ("heartbeat-", "memory-dreaming", "skill-collection-review-")
"""Jobs OpenClaw makes for itself (ids or names); never the owner's."""
BUILT_IN_NAMES: Final = ("memory dreaming promotion",)
AGENT_SESSION_PREFIX: Final = "agent:main:"


class GatewaySocketError(RuntimeError):
    """The gateway refused a request or the connection failed."""


class GatewaySocket:
    """One request at a time over the gateway's WebSocket (events in between are skipped)."""

    def __init__(self, url: str, token: str, *, timeout: float = 10.0) -> None:
        self._url = url
        self._token = token
        self._timeout = timeout
        self._conn: ClientConnection | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        with self._lock:
            try:
                conn = self._connected()
                return self._call(conn, method, params or {})
            except (OSError, TimeoutError, WebSocketException) as error:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
                raise GatewaySocketError(f"{method}: {type(error).__name__}: {error}") from None

    def _connected(self) -> ClientConnection:
        if self._conn is not None:
            return self._conn
        # Loopback: no keep-alive pings (a busy gateway answers them late and the socket would
        # be dropped for nothing).
        conn = connect(
            self._url, open_timeout=self._timeout, max_size=32 * 1024 * 1024, ping_interval=None
        )
        try:
            self._handshake(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    def _handshake(self, conn: ClientConnection) -> None:
        frame = json.loads(conn.recv(timeout=self._timeout))
        if frame.get("event") != "connect.challenge":
            raise GatewaySocketError(f"expected connect.challenge, got {frame.get('event')!r}")
        params = {
            "minProtocol": PROTOCOL,
            "maxProtocol": PROTOCOL,
            "client": {
                "id": CLIENT_ID,
                "version": "1",
                "platform": "linux",
                "mode": CLIENT_MODE,
            },
            "role": "operator",
            "scopes": list(SCOPES),
            "caps": [],
            "auth": {"token": self._token},
        }
        self._call(conn, "connect", params)

    def _call(self, conn: ClientConnection, method: str, params: dict[str, Any]) -> Any:
        request_id = uuid.uuid4().hex
        conn.send(json.dumps({"type": "req", "id": request_id, "method": method, "params": params}))
        while True:
            frame = json.loads(conn.recv(timeout=self._timeout))
            if frame.get("type") != "res" or frame.get("id") != request_id:
                continue  # an event, or an answer nobody waits for any more
            if not frame.get("ok"):
                error = frame.get("error") or {}
                message = error.get("message") if isinstance(error, dict) else str(error)
                raise GatewaySocketError(f"{method}: {message or 'refused'}")
            return frame.get("payload")


@dataclass(frozen=True, kw_only=True)
class Job:
    """A pending cron job the owner asked for."""

    id: str
    name: str
    session: str
    """The bridge's session id the job belongs to (OpenClaw's key without `agent:main:`)."""
    next_run_ms: int


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def is_built_in(job: dict[str, Any]) -> bool:
    ident = str(job.get("id") or "").lower()
    name = str(job.get("name") or "").lower()
    if ident.startswith(BUILT_IN_PREFIXES) or name.startswith(BUILT_IN_PREFIXES):
        return True
    return name in BUILT_IN_NAMES


def bridge_session(openclaw_key: str) -> str | None:
    """Our session id for OpenClaw's session key (None: not one of ours)."""
    if not openclaw_key.startswith(AGENT_SESSION_PREFIX):
        return None
    session = openclaw_key[len(AGENT_SESSION_PREFIX) :]
    if session.startswith("chat:"):
        session = session[len("chat:") :]  # see gateway.openclaw_session_key
    return session or None


def owner_jobs(listing: Any) -> list[Job]:
    """The enabled, pending jobs of `cron.list`'s answer that belong to one of our sessions."""
    raw = listing.get("jobs") if isinstance(listing, dict) else listing
    jobs: list[Job] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or item.get("enabled") is False or is_built_in(item):
            continue
        owner = _mapping(item.get("owner"))
        key = str(owner.get("sessionKey") or item.get("sessionKey") or "")
        session = bridge_session(key)
        next_run = _next_run_ms(item)
        if session is None or next_run is None:
            continue
        jobs.append(
            Job(
                id=str(item.get("id")),
                name=str(item.get("name") or ""),
                session=session,
                next_run_ms=next_run,
            )
        )
    return sorted(jobs, key=lambda job: job.next_run_ms)


def _next_run_ms(item: dict[str, Any]) -> int | None:
    state = _mapping(item.get("state"))
    for value in (state.get("nextRunAtMs"), item.get("nextRunAtMs")):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
    schedule = _mapping(item.get("schedule"))
    if schedule.get("kind") == "at" and isinstance(schedule.get("at"), str):
        try:
            when = datetime.fromisoformat(schedule["at"].replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return int(when.timestamp() * 1000)
    return None


def list_owner_jobs(socket: GatewaySocket) -> list[Job]:
    return owner_jobs(socket.request("cron.list", {"includeDisabled": False, "limit": 200}))


def sessions_of(jobs: Iterable[Job]) -> set[str]:
    return {job.session for job in jobs}


# -- the wake-up left before the task sleeps -----------------------------------------------------

WAKE_NAME: Final = AGENT_PREFIX + "wake"
"""The agent's one wake-up: leaving a new one replaces the earlier."""
WAKE_LEAD_SECONDS: Final = 120
"""How far ahead of the earliest job the task is woken: a cold start takes about a minute, and
OpenClaw defers (rather than runs at once) a job already overdue when it starts."""
WAKE_MIN_AHEAD_SECONDS: Final = 30
"""Scheduler refuses a time in the past: never closer to now than this."""


@dataclass(frozen=True, kw_only=True)
class Target:
    """Where a session's answers go: its channel and, for Telegram, the chat."""

    channel: str
    chat_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class WakeUp:
    """What `leave_wake_up` did: the wake-up's time (None: none needed, any earlier removed)."""

    at: datetime | None
    job: Job | None = None


def wake_time(job: Job, *, now: float) -> datetime:
    seconds = max(job.next_run_ms / 1000 - WAKE_LEAD_SECONDS, now + WAKE_MIN_AHEAD_SECONDS)
    return datetime.fromtimestamp(int(seconds), tz=UTC)


def at_expression(when: datetime) -> str:
    return f"at({when.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})"


def leave_wake_up(
    scheduler: Any,
    names: Names,
    jobs: list[Job],
    *,
    target_of: Callable[[str], Target],
    now: float,
) -> WakeUp:
    """Leave one one-time wake-up ahead of the earliest job (replacing an earlier one), or
    remove the earlier one when no job is pending."""
    if not jobs:
        try:
            scheduler.delete_schedule(Name=WAKE_NAME, GroupName=names.group)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
        return WakeUp(at=None)
    job = jobs[0]
    when = wake_time(job, now=now)
    target = target_of(job.session)
    firing = Firing(
        schedule=WAKE_NAME,
        title=(job.name or "reminder")[:80],
        text=f"wake up for the reminder {job.name or job.id}"[:MAX_TEXT_CHARS],
        to="telegram" if target.channel == "telegram" else "web",
        owner="agent",
        chat_id=target.chat_id,
        session=job.session,
    )
    definition: dict[str, Any] = {
        "Name": WAKE_NAME,
        "GroupName": names.group,
        "ScheduleExpression": at_expression(when),
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": schedule_target(names, firing),
        "ActionAfterCompletion": "DELETE",
        "Description": f"The agent's wake-up for its reminder {job.name or job.id}"[:512],
        "State": "ENABLED",
    }
    try:
        scheduler.update_schedule(**definition)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        scheduler.create_schedule(**definition)
    return WakeUp(at=when, job=job)


# -- delivering what a job's run said ------------------------------------------------------------

CLAIM_SECONDS: Final = 7 * 24 * 3600
RECENT_SECONDS: Final = 24 * 3600
"""Older automation results are not delivered (a restored state's history is not news)."""
HISTORY_LIMIT: Final = 40


@dataclass(frozen=True, kw_only=True)
class Result:
    """One run's answer in a session's transcript."""

    run_id: str
    job_id: str
    message_id: str
    session: str
    text: str
    at: float


def automation_results(history: Any, session: str, *, now: float) -> list[Result]:
    """The cron runs' answers in `chat.history`'s answer, oldest first."""
    messages = history.get("messages") if isinstance(history, dict) else None
    found: list[Result] = []
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        automation = message.get("openclawAutomation")
        if not isinstance(automation, dict) or automation.get("kind") != "cron":
            continue
        run_id = str(automation.get("runId") or "")
        meta = _mapping(message.get("__openclaw"))
        at = float(message.get("timestamp") or 0) / 1000
        if not run_id or now - at > RECENT_SECONDS:
            continue
        found.append(
            Result(
                run_id=run_id,
                job_id=str(automation.get("jobId") or ""),
                message_id=str(meta.get("id") or ""),
                session=session,
                text=message_text(message),
                at=at,
            )
        )
    return found


def message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text") or "")
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


class Claims:
    """A run's answer is delivered once: the first to claim its run id in the dedupe table
    delivers it (a conditional write), whatever task or thread looks at it later."""

    def __init__(self, dynamodb: Any, table: str, *, clock: Callable[[], float]) -> None:
        self._db = dynamodb
        self._table = table
        self._clock = clock

    def claim(self, run_id: str) -> bool:
        now = self._clock()
        try:
            self._db.put_item(
                TableName=self._table,
                Item={
                    "pk": ddb.s(f"cron#{run_id}"),
                    "state": ddb.s("delivered"),
                    "claimed_at": ddb.n(now),
                    "expires_at": ddb.n(int(now + CLAIM_SECONDS)),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if ddb.is_condition_failure(error):
                return False
            raise
        return True

    def release(self, run_id: str) -> None:
        """Delivery failed: the next look tries again."""
        self._db.delete_item(TableName=self._table, Key={"pk": ddb.s(f"cron#{run_id}")})


# -- the bridge's side: watch while awake, leave a wake-up before sleeping -----------------------

TITLE_MARK: Final = "⏰ "
TELEGRAM_SESSION: Final = re.compile(r"^tg-(-?\d+)$")
"""`pairing.default_session`: a Telegram chat's own session."""
WATCH_SECONDS: Final = 5.0


class Reminders:
    """The agent's reminders for one task's life (see the module's docstring)."""

    def __init__(
        self,
        socket: GatewaySocket,
        *,
        claims: Claims,
        history: History,
        web: WebPoster,
        telegram: TelegramBot | None,
        paired: Callable[[], list[PairedUser]],
        scheduler: Any | None,
        names: Names | None,
        clock: Callable[[], float],
    ) -> None:
        self._socket = socket
        self._claims = claims
        self._history = history
        self._web = web
        self._telegram = telegram
        self._paired = paired
        self._scheduler = scheduler
        self._names = names
        self._clock = clock
        self._targets: dict[str, Target] = {}
        self._watched: set[str] = set()
        self._done: set[str] = set()
        self._earliest_ms: int | None = None
        self._jobs: list[Job] = []
        self._lock = threading.Lock()
        self._poked = threading.Event()

    def note(self, msg: QueueMessage) -> None:
        """A message of `msg.session` came in: its answers go back the same way."""
        with self._lock:
            self._targets[msg.session] = Target(channel=msg.channel, chat_id=msg.reply.chat_id)

    def target_of(self, session: str) -> Target:
        with self._lock:
            known = self._targets.get(session)
        if known is not None:
            return known
        try:
            for user in self._paired():
                if user.session == session:
                    return Target(channel=user.channel, chat_id=user.chat_id)
        except (ClientError, BotoCoreError) as error:
            log.warning("could not read the paired users: %s", error)
        telegram = TELEGRAM_SESSION.match(session)
        if telegram:  # a chat's first session, though the chat has moved on (`/new`)
            return Target(channel="telegram", chat_id=int(telegram.group(1)))
        return Target(channel="web")

    def look(self) -> int:
        """List the owner's jobs, then deliver every new run answer in the sessions that have
        (or had, in this task's life) a job; return how many were delivered."""
        jobs = list_owner_jobs(self._socket)
        with self._lock:
            self._jobs = jobs
            self._watched |= sessions_of(jobs)
            self._earliest_ms = jobs[0].next_run_ms if jobs else None
            watched = sorted(self._watched)
        delivered = 0
        for session in watched:
            history = self._socket.request(
                "chat.history",
                {
                    "sessionKey": AGENT_SESSION_PREFIX + openclaw_session_key(session),
                    "limit": HISTORY_LIMIT,
                },
            )
            for result in automation_results(history, session, now=self._clock()):
                if result.run_id in self._done:
                    continue
                if self._deliver(result):
                    delivered += 1
                self._done.add(result.run_id)
        return delivered

    def _full_text(self, result: Result) -> str:
        if not result.message_id:
            return result.text
        try:
            answer = self._socket.request(
                "chat.message.get",
                {
                    "sessionKey": AGENT_SESSION_PREFIX + openclaw_session_key(result.session),
                    "messageId": result.message_id,
                },
            )
        except GatewaySocketError as error:
            log.warning("could not read the whole answer of %s: %s", result.run_id, error)
            return result.text
        message = answer.get("message") if isinstance(answer, dict) else None
        text = message_text(message) if isinstance(message, dict) else ""
        return text or result.text

    def _deliver(self, result: Result) -> bool:
        if not self._claims.claim(result.run_id):
            return False  # delivered before, by this task or an earlier one
        text = self._full_text(result).strip() or "(the reminder ran and said nothing)"
        target = self.target_of(result.session)
        msg = QueueMessage(
            channel=target.channel,
            session=result.session,
            message_id=f"cron-{result.run_id.rsplit(':', 1)[-1]}-{result.job_id[:8]}"[:128],
            text=TITLE_MARK + "reminder",
            received_at=result.at,
            reply=ReplyTarget(chat_id=target.chat_id),
            sender="agent",
        )
        try:
            if target.channel == "telegram" and target.chat_id is not None:
                if self._telegram is None:
                    raise TelegramError(0, "the agent has no Telegram bot token")
                self._telegram.send_text(target.chat_id, text)
        except (TelegramError, OSError) as error:
            log.error("reminder %s was not delivered: %s", result.run_id, error)
            self._claims.release(result.run_id)  # the next look tries again
            return False
        # The web conversation (and the history every channel keeps) gets it too; once sent to
        # Telegram it is never sent again, even if this record fails.
        try:
            WebStream(self._web, message_id=msg.message_id, session=msg.session).finish(text)
            self._history.record_reply(msg, text)
        except (ClientError, BotoCoreError, OSError) as error:
            log.error("reminder %s was delivered but not recorded: %s", result.run_id, error)
        log.info("delivered reminder %s to %s", result.run_id, target.channel)
        return True

    def leave_wake_up(self) -> WakeUp | None:
        """Before sleeping: the wake-up for the earliest pending job (None: not configured)."""
        if self._scheduler is None or self._names is None:
            return None
        try:
            jobs = list_owner_jobs(self._socket)
        except GatewaySocketError as error:
            # On SIGTERM OpenClaw is told to stop too (the whole task is): the last look's
            # jobs (at most a few seconds old, and taken after every turn) stand in.
            with self._lock:
                jobs = list(self._jobs)
            log.info("OpenClaw could not list its jobs (%s); using the last look's", error)
        wake = leave_wake_up(
            self._scheduler, self._names, jobs, target_of=self.target_of, now=self._clock()
        )
        if wake.at is not None and wake.job is not None:
            log.info("left a wake-up at %s for reminder %s", wake.at.isoformat(), wake.job.id)
        return wake

    def poke(self) -> None:
        """Look now (a turn just ended: it may have made a job)."""
        self._poked.set()

    def wait(self, seconds: float) -> None:
        """Until the next look is due (or someone pokes)."""
        self._poked.wait(seconds)
        self._poked.clear()

    def due_within(self, seconds: float) -> bool:
        """Whether a job the owner asked for runs within `seconds` (as last looked at): the
        task then stays up rather than sleep and wake again at once."""
        with self._lock:
            earliest = self._earliest_ms
        return earliest is not None and earliest / 1000 - self._clock() <= seconds

    @classmethod
    def create(
        cls,
        *,
        base_url: str,
        token: str,
        dynamodb: Any,
        scheduler: Any | None,
        history: History,
        web: WebPoster,
        telegram: TelegramBot | None,
        clock: Callable[[], float],
        environ: Mapping[str, str],
    ) -> Reminders | None:
        """The bridge's reminders, from its environment (the dedupe and pairing tables, the
        schedule group and the names a wake-up's target needs); None without the tables."""
        pairing_table = environ.get(resources.PAIRING.env_var)
        dedupe_table = environ.get(resources.DEDUPE.env_var)
        if not pairing_table or not dedupe_table:
            log.warning("the pairing or dedupe table is not named: reminders are not delivered")
            return None
        pairing = Pairing(dynamodb, pairing_table, clock=clock)
        names = Names.from_env(dict(environ))
        if names is None:
            log.warning("no schedule group is configured: reminders cannot wake the agent")
        return cls(
            GatewaySocket(base_url.replace("http://", "ws://", 1), token),
            claims=Claims(dynamodb, dedupe_table, clock=clock),
            history=history,
            web=web,
            telegram=telegram,
            paired=pairing.list_paired,
            scheduler=scheduler if names is not None else None,
            names=names,
            clock=clock,
        )

    def close(self) -> None:
        self._socket.close()


def watch(
    reminders: Reminders,
    stop: threading.Event,
    *,
    on_delivered: Callable[[int], None],
    every: float = WATCH_SECONDS,
) -> None:
    """Look every few seconds until `stop` is set (a thread of the bridge)."""
    while not stop.is_set():
        reminders.wait(every)
        if stop.is_set():
            return
        try:
            delivered = reminders.look()
        except (GatewaySocketError, ClientError, BotoCoreError) as error:
            log.warning("could not look at the reminders: %s", error)
            continue
        if delivered:
            on_delivered(delivered)
