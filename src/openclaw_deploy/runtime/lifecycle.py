"""The agent's lifecycle: one row per deployment, changed only by conditional writes.

    Idle ──try_begin_start──► Starting ──mark_running──► Running ──begin_stop──► Stopping
     ▲                          │  │                        │                      │
     └────────fail_start────────┘  └──────────mark_idle─────┴──────────────────────┘

Every transition names what it expects (the state, and the task it is about), so twenty
messages arriving at once while Idle start exactly one task, a late heartbeat from a replaced
task changes nothing, and the watchdog never repairs a row that moved on while it looked.

The handlers call `ensure_agent_running`; the bridge calls `set_phase`, `mark_running`,
`heartbeat`, `begin_stop` and `mark_idle` with its own task ARN; the watchdog repairs.

Whoever moves a task's row to Idle (`mark_idle`, `fail_start`) also adds the task's run time to
the month's usage row (`usage#YYYY-MM`, UTC) in the same table: the conditional write picks
exactly one caller per task, so each task is counted once. `status` and `cost` read it.

A start that keeps failing the same way stops waking the agent: after BLOCK_AFTER_FAILURES
identical failed starts in a row, `ensure_agent_running` refuses (AgentStartBlockedError, with
the reason and what to do) for FAILURE_HOLD_SECONDS after the last one, instead of starting another
task that dies the same way. Messages stay queued. A start that reaches Running, a forced start
(`openclaw-deploy start`) or `clear_failures` (after a deploy) lifts it.
"""

from __future__ import annotations

import calendar
import contextlib
import os
import re
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from openclaw_deploy.runtime import ddb
from openclaw_deploy.runtime.contract import PHASES
from openclaw_deploy.runtime.resources import (
    ENV_CLUSTER,
    ENV_SECURITY_GROUPS,
    ENV_SUBNETS,
    ENV_TASK_DEFINITION,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ecs import ECSClient

IDLE: Final = "Idle"
STARTING: Final = "Starting"
RUNNING: Final = "Running"
STOPPING: Final = "Stopping"

PHASE_LABELS: Final = {
    "queued": "waiting to start",
    "starting": "starting",
    "restoring": "restoring memory",
    "loading": "loading the agent",
    "ready": "ready",
    "stopping": "going to sleep",
}
"""How each phase of contract.PHASES reads in a sentence ("Waking your agent: {label}…")."""

ROW_KEY: Final = "agent"
"""The partition key of the one lifecycle row (the table belongs to one deployment)."""
USAGE_KEY_PREFIX: Final = "usage#"
"""Partition keys `usage#YYYY-MM`: the agent's task seconds and task count of a month (UTC)."""
STARTED_BY: Final = "openclaw-deploy"
"""ECS `startedBy` of every agent task: how the watchdog tells our tasks from anything else."""
SPOT: Final = "FARGATE_SPOT"
ON_DEMAND: Final = "FARGATE"
BLOCK_AFTER_FAILURES: Final = 3
"""Identical failed starts in a row after which messages no longer wake the agent."""
FAILURE_STREAK_SECONDS: Final = 24 * 3600.0
"""A failed start continues the streak when it follows the last identical one within this."""
FAILURE_HOLD_SECONDS: Final = 3600.0
RECENT_WAKES: Final = 5
"""How many of the last wakes (start requested -> Running) the row keeps for the estimate the
web app and `status` show."""
"""How long after the last failed start a blocked agent stays blocked (then one start is tried,
and if it fails the same way, it is blocked again)."""
HEARTBEAT_SECONDS: Final = 10.0
"""How often a running bridge writes its heartbeat (on a thread that does nothing slow)."""
HEARTBEAT_STALE_SECONDS: Final = 45.0
"""After this long without a heartbeat the watchdog takes the task for frozen and replaces it.

As short as the interval safely allows: a live bridge writes every HEARTBEAT_SECONDS, and one
write can take up to ~20 s when DynamoDB is slow (connect 5 s + read 15 s before a retry), so
45 s survives two slow writes in a row, or three lost ones, without stopping a working task.
Together with the watchdog's one-minute schedule, a frozen task is replaced within ~105 s.
"""
HINT_BLOCKED: Final = (
    "See why with `openclaw-deploy logs --component agent` and `openclaw-deploy status`; once "
    "fixed, `openclaw-deploy start` (or a successful `openclaw-deploy deploy`) tries again."
)

# Attribute names go through placeholders: several (state, name-like words) are reserved.
_NAMES: Final = {
    "#st": "state",
    "#ph": "phase",
    "#since": "since",
    "#arn": "task_arn",
    "#hb": "heartbeat_at",
    "#started": "started_at",
    "#tm": "timings",
    "#why": "last_stop_reason",
    "#failed": "failed_starts",
    "#fwhy": "failure_reason",
    "#fstreak": "failure_streak",
    "#fat": "failed_at",
    "#rw": "recent_wakes",
}


_PLACEHOLDER: Final = re.compile(r"#\w+")


class AgentStartError(Exception):
    """RunTask did not start a task (the lifecycle row is back to Idle with the reason)."""


class AgentStartBlockedError(AgentStartError):
    """The agent failed to start the same way too often: messages no longer wake it."""

    def __init__(self, status: AgentStatus) -> None:
        self.status = status
        reason = (status.failure_reason or "no reason was recorded").rstrip(". ")
        super().__init__(
            f"Your agent cannot start: {reason[:300]}. It failed to start this way "
            f"{status.failure_streak} times in a row, so messages no longer wake it (they are "
            f"kept, and answered once it runs). {HINT_BLOCKED}"
        )


@dataclass(frozen=True, kw_only=True)
class AgentStatus:
    state: str = IDLE
    phase: str | None = None
    since: float = 0.0
    """When the current state began (epoch seconds)."""
    task_arn: str | None = None
    heartbeat_at: float | None = None
    started_at: float | None = None
    """When the current (or last) wake began."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per start-up phase, as the bridge measured them on its last start."""
    last_stop_reason: str | None = None
    failed_starts: int = 0
    """Starts in a row that never reached Running (the watchdog stops retrying on its own)."""
    failure_reason: str | None = None
    """Why the last failed start failed (kept until a start reaches Running)."""
    failure_streak: int = 0
    """Failed starts in a row with that same reason."""
    failed_at: float | None = None
    """When the last start failed."""
    recent_wakes: tuple[float, ...] = ()
    """Seconds from the start request to Running of the last few wakes, oldest first."""

    @property
    def usual_wake(self) -> float | None:
        """What a wake usually takes here: the median of the recent ones."""
        return statistics.median(self.recent_wakes) if self.recent_wakes else None

    @property
    def blocked_until(self) -> float | None:
        """While before this time, messages do not wake the agent (None: they do)."""
        if self.failure_streak < BLOCK_AFTER_FAILURES or self.failed_at is None:
            return None
        return self.failed_at + FAILURE_HOLD_SECONDS

    def start_blocked(self, now: float) -> bool:
        until = self.blocked_until
        return self.state == IDLE and until is not None and now < until

    def public(self) -> dict[str, Any]:
        """The status as the HTTP API and `agent.status` frames show it (no task ARN)."""
        return {
            "state": self.state,
            "phase": self.phase,
            "since": self.since,
            "startedAt": self.started_at,
            "heartbeatAt": self.heartbeat_at,
            "timings": dict(self.timings),
            "recentWakes": list(self.recent_wakes),
            "lastStopReason": self.last_stop_reason,
        }


@dataclass(frozen=True, kw_only=True)
class MonthUsage:
    """The agent's task time in one calendar month (UTC), as recorded when tasks end."""

    month: str
    """`YYYY-MM`."""
    task_seconds: float = 0.0
    tasks: int = 0

    @property
    def task_hours(self) -> float:
        return self.task_seconds / 3600


def month_of(epoch: float) -> str:
    """The UTC calendar month (`YYYY-MM`) of an epoch time."""
    return time.strftime("%Y-%m", time.gmtime(epoch))


def month_spans(start: float, end: float) -> list[tuple[str, float]]:
    """Seconds of [start, end) per UTC calendar month (a task can run across midnight of the
    1st)."""
    spans: list[tuple[str, float]] = []
    while start < end:
        year, month = time.gmtime(start)[:2]
        following = (year + month // 12, month % 12 + 1)
        boundary = float(calendar.timegm((*following, 1, 0, 0, 0)))
        spans.append((month_of(start), min(end, boundary) - start))
        start = boundary
    return spans


class Lifecycle:
    def __init__(
        self,
        dynamodb_client: DynamoDBClient,
        table_name: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = dynamodb_client
        self._table = table_name
        self._clock = clock

    def get(self) -> AgentStatus:
        answer = self._db.get_item(
            TableName=self._table, Key={"pk": ddb.s(ROW_KEY)}, ConsistentRead=True
        )
        return _status(answer.get("Item") or {})

    def try_begin_start(self) -> bool:
        """Idle → Starting. True only for the one caller that won the transition."""
        now = self._clock()
        return self._update(
            "SET #st = :starting, #ph = :phase, #since = :now, #started = :now REMOVE #arn, #hb",
            "attribute_not_exists(pk) OR #st = :idle",
            {
                ":starting": ddb.s(STARTING),
                ":phase": ddb.s("starting"),
                ":now": ddb.n(now),
                ":idle": ddb.s(IDLE),
            },
        )

    def set_task(self, task_arn: str) -> bool:
        """Record the task RunTask started for the current Starting row."""
        return self._update(
            "SET #arn = :arn",
            "#st = :starting AND (attribute_not_exists(#arn) OR #arn = :arn)",
            {":arn": ddb.s(task_arn), ":starting": ddb.s(STARTING)},
        )

    def set_phase(self, task_arn: str, phase: str) -> bool:
        """The bridge reports its start-up phase (`restoring`, `loading`, ...).

        Accepted while Starting even before `set_task` landed (a fast local task may report
        before the handler that started it has written the ARN), or while this task runs.
        """
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {', '.join(PHASES)}")
        return self._update(
            "SET #ph = :phase, #arn = :arn",
            "(#st = :starting AND (attribute_not_exists(#arn) OR #arn = :arn)) "
            "OR (#st = :running AND #arn = :arn)",
            {
                ":phase": ddb.s(phase),
                ":arn": ddb.s(task_arn),
                ":starting": ddb.s(STARTING),
                ":running": ddb.s(RUNNING),
            },
        )

    def mark_running(self, task_arn: str, timings: Mapping[str, float]) -> bool:
        """Starting → Running: the agent answers messages from now on. The whole wake (from
        the start request, so RunTask, provisioning and the image pull too) joins the recent
        wakes."""
        now = self._clock()
        before = self.get()
        recent = list(before.recent_wakes)
        if before.started_at is not None and before.started_at <= now:
            recent = [*recent, round(now - before.started_at, 3)][-RECENT_WAKES:]
        return self._update(
            "SET #st = :running, #ph = :ready, #since = :now, #hb = :now, #arn = :arn, "
            "#tm = :timings, #failed = :zero, #fstreak = :zero, #rw = :recent",
            "#st = :starting AND (attribute_not_exists(#arn) OR #arn = :arn)",
            {
                ":running": ddb.s(RUNNING),
                ":ready": ddb.s("ready"),
                ":now": ddb.n(now),
                ":arn": ddb.s(task_arn),
                ":timings": ddb.number_map(timings),
                ":starting": ddb.s(STARTING),
                ":zero": ddb.n(0),
                ":recent": {"L": [ddb.n(value) for value in recent]},
            },
        )

    def heartbeat(self, task_arn: str) -> bool:
        """False when the row no longer belongs to this task: the bridge should then exit."""
        return self._update(
            "SET #hb = :now",
            "#arn = :arn",
            {":now": ddb.n(self._clock()), ":arn": ddb.s(task_arn)},
        )

    def begin_stop(self, task_arn: str, reason: str) -> bool:
        """Starting/Running → Stopping (idle timeout, the owner, the watchdog)."""
        return self._update(
            "SET #st = :stopping, #ph = :phase, #since = :now, #why = :why",
            "#arn = :arn AND (#st = :starting OR #st = :running)",
            {
                ":stopping": ddb.s(STOPPING),
                ":phase": ddb.s("stopping"),
                ":now": ddb.n(self._clock()),
                ":why": ddb.s(reason),
                ":arn": ddb.s(task_arn),
                ":starting": ddb.s(STARTING),
                ":running": ddb.s(RUNNING),
            },
        )

    def mark_idle(self, task_arn: str, reason: str) -> bool:
        """Any state of this task → Idle: the task has exited (or is known to be gone)."""
        now = self._clock()
        old = self._write(
            "SET #st = :idle, #since = :now, #why = :why REMOVE #arn, #ph, #hb",
            "#arn = :arn",
            {
                ":idle": ddb.s(IDLE),
                ":now": ddb.n(now),
                ":why": ddb.s(reason),
                ":arn": ddb.s(task_arn),
            },
        )
        if old is None:
            return False
        self._add_usage(old, now)
        return True

    def fail_start(self, reason: str, *, since: float | None = None) -> bool:
        """Starting → Idle when no task came up (RunTask failed, or the task died before it was
        ready). `since` pins the Starting episode the caller looked at, so a repair never
        cancels a newer start. Counts toward `failed_starts`, and toward the streak of
        identical failures that stops messages from waking the agent."""
        for _attempt in range(3):
            row = self.get()
            if row.state != STARTING or (since is not None and row.since != since):
                return False
            now = self._clock()
            streak = row.failure_streak + 1 if _same_failure(row, reason, now) else 1
            # Pinned to the episode just read, so the streak is computed from the row it
            # replaces; a lost race reads again.
            old = self._write(
                "SET #st = :idle, #since = :now, #why = :why, #fwhy = :why, #fat = :now, "
                "#fstreak = :streak REMOVE #arn, #ph, #hb ADD #failed :one",
                "#st = :starting AND #since = :since",
                {
                    ":idle": ddb.s(IDLE),
                    ":now": ddb.n(now),
                    ":why": ddb.s(reason),
                    ":starting": ddb.s(STARTING),
                    ":since": ddb.n(row.since),
                    ":streak": ddb.n(streak),
                    ":one": ddb.n(1),
                },
            )
            if old is not None:
                self._add_usage(old, now)  # a task that died before it was ready was billed too
                return True
        return False

    def clear_failures(self) -> None:
        """Forget the failed starts: messages wake the agent again (after a deploy, or when
        the owner starts it by hand)."""
        self._db.update_item(
            TableName=self._table,
            Key={"pk": ddb.s(ROW_KEY)},
            UpdateExpression="SET #fstreak = :zero, #failed = :zero",
            ExpressionAttributeNames={"#fstreak": "failure_streak", "#failed": "failed_starts"},
            ExpressionAttributeValues={":zero": ddb.n(0)},
        )

    def now(self) -> float:
        return self._clock()

    def usage(self, month: str) -> MonthUsage:
        """What the month's ended tasks added up to (a running task is not in it yet)."""
        answer = self._db.get_item(
            TableName=self._table, Key={"pk": ddb.s(USAGE_KEY_PREFIX + month)}, ConsistentRead=True
        )
        item = answer.get("Item") or {}
        return MonthUsage(
            month=month,
            task_seconds=ddb.get_n(item, "task_seconds") or 0.0,
            tasks=ddb.get_int(item, "tasks"),
        )

    def _add_usage(self, old: Mapping[str, Any], now: float) -> None:
        """Add the task that `old` (the row before it went Idle) described to the usage rows."""
        started = ddb.get_n(old, "started_at")
        if ddb.get_s(old, "task_arn") is None or started is None or now <= started:
            return  # no task ran (RunTask failed), so nothing was billed
        spans = month_spans(started, now)
        # Bookkeeping must never undo or block the transition that already happened.
        with contextlib.suppress(ClientError, BotoCoreError):
            for index, (month, seconds) in enumerate(spans):
                last = index == len(spans) - 1
                self._db.update_item(
                    TableName=self._table,
                    Key={"pk": ddb.s(USAGE_KEY_PREFIX + month)},
                    UpdateExpression="ADD #secs :secs, #tasks :count",
                    ExpressionAttributeNames={"#secs": "task_seconds", "#tasks": "tasks"},
                    ExpressionAttributeValues={
                        ":secs": ddb.n(round(seconds, 3)),
                        ":count": ddb.n(1 if last else 0),
                    },
                )

    def _update(self, expression: str, condition: str, values: dict[str, Any]) -> bool:
        return self._write(expression, condition, values) is not None

    def _write(
        self, expression: str, condition: str, values: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The conditional update; the row as it was before it, or None if the condition lost."""
        used = set(_PLACEHOLDER.findall(f"{expression} {condition}"))
        names = {key: value for key, value in _NAMES.items() if key in used}
        try:
            answer = self._db.update_item(
                TableName=self._table,
                Key={"pk": ddb.s(ROW_KEY)},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if ddb.is_condition_failure(error):
                return None
            raise
        return dict(answer.get("Attributes") or {})


def _status(item: Mapping[str, Any]) -> AgentStatus:
    return AgentStatus(
        state=ddb.get_s(item, "state") or IDLE,
        phase=ddb.get_s(item, "phase"),
        since=ddb.get_n(item, "since") or 0.0,
        task_arn=ddb.get_s(item, "task_arn"),
        heartbeat_at=ddb.get_n(item, "heartbeat_at"),
        started_at=ddb.get_n(item, "started_at"),
        timings=ddb.get_number_map(item, "timings"),
        last_stop_reason=ddb.get_s(item, "last_stop_reason"),
        failed_starts=ddb.get_int(item, "failed_starts"),
        failure_reason=ddb.get_s(item, "failure_reason"),
        failure_streak=ddb.get_int(item, "failure_streak"),
        failed_at=ddb.get_n(item, "failed_at"),
        recent_wakes=_numbers(item, "recent_wakes"),
    )


def _numbers(item: Mapping[str, Any], name: str) -> tuple[float, ...]:
    values = item.get(name, {}).get("L") or []
    return tuple(float(v["N"]) for v in values if isinstance(v, dict) and "N" in v)


_VARYING: Final = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|\d+(?:\.\d+)?")


def _same_failure(row: AgentStatus, reason: str, now: float) -> bool:
    """Whether `reason` repeats the row's last failed start (ids, counts and times aside)."""
    if row.failure_streak <= 0 or row.failure_reason is None or row.failed_at is None:
        return False
    if now - row.failed_at > FAILURE_STREAK_SECONDS:
        return False
    return _VARYING.sub("#", row.failure_reason.lower()) == _VARYING.sub("#", reason.lower())


@dataclass(frozen=True, kw_only=True)
class TaskConfig:
    """Where and how RunTask starts the agent (from the handler's environment)."""

    cluster: str
    task_definition: str
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TaskConfig:
        env = os.environ if environ is None else environ
        missing = [
            name for name in (ENV_CLUSTER, ENV_TASK_DEFINITION, ENV_SUBNETS) if not env.get(name)
        ]
        if missing:
            raise RuntimeError(f"{', '.join(missing)} not set: cannot start the agent task")
        return cls(
            cluster=env[ENV_CLUSTER],
            task_definition=env[ENV_TASK_DEFINITION],
            subnets=_split(env[ENV_SUBNETS]),
            security_groups=_split(env.get(ENV_SECURITY_GROUPS, "")),
        )


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _failure_reason(answer: Mapping[str, Any]) -> str:
    failures = answer.get("failures") or []
    reason = "; ".join(str(f.get("reason") or f.get("detail") or "unknown") for f in failures)
    return reason or "RunTask returned no task"


def _error_reason(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Message") or error)
    return str(error)


def run_agent_task(ecs_client: ECSClient, config: TaskConfig) -> tuple[str, str]:
    """Start one agent task: Fargate Spot, then on-demand Fargate when Spot fails for any
    reason (no capacity, no Spot provider on the cluster, a Spot-only quota, a refusal worded
    in a way nobody foresaw): a wake-up must not depend on Spot.

    Returns (task ARN, the capacity that ran it). Raises AgentStartError with the on-demand
    reason (and Spot's) when neither started a task.
    """
    common: dict[str, Any] = {
        "cluster": config.cluster,
        "taskDefinition": config.task_definition,
        "count": 1,
        "startedBy": STARTED_BY,
        # The task carries the deployment's cost-allocation tag, so the budget counts it.
        "propagateTags": "TASK_DEFINITION",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": list(config.subnets),
                "securityGroups": list(config.security_groups),
                # No NAT gateway: the task reaches SQS, Telegram and the LLM over its own IP.
                "assignPublicIp": "ENABLED",
            }
        },
    }
    try:
        answer = ecs_client.run_task(
            **common, capacityProviderStrategy=[{"capacityProvider": SPOT, "weight": 1}]
        )
    except (ClientError, BotoCoreError) as error:
        spot_reason = _error_reason(error)
    else:
        tasks = answer.get("tasks") or []
        if tasks and tasks[0].get("taskArn"):
            return tasks[0]["taskArn"], SPOT
        spot_reason = _failure_reason(answer)
    try:
        answer = ecs_client.run_task(**common, launchType=ON_DEMAND)
    except ClientError as error:
        raise AgentStartError(f"{_error_reason(error)} (Fargate Spot: {spot_reason})") from None
    tasks = answer.get("tasks") or []
    if tasks and tasks[0].get("taskArn"):
        return tasks[0]["taskArn"], ON_DEMAND
    raise AgentStartError(f"{_failure_reason(answer)} (Fargate Spot: {spot_reason})")


def ensure_agent_running(
    lifecycle: Lifecycle,
    ecs_client: ECSClient,
    config: TaskConfig | None = None,
    *,
    force: bool = False,
) -> AgentStatus:
    """Wake the agent if it sleeps; return its status. Only the caller that wins Idle → Starting
    calls RunTask; everyone else sees Starting (or Running) and leaves it be.

    Raises AgentStartError when the task could not be started (the row is Idle again, with the
    reason, so the next message tries afresh), and AgentStartBlockedError, without starting
    anything, when the last starts failed the same way too often. `force` (the owner's own
    start) clears that and tries anyway.
    """
    try:
        config = config or TaskConfig.from_env()
    except RuntimeError as error:
        raise AgentStartError(str(error)) from None
    status = lifecycle.get()
    if status.state != IDLE:
        return status
    if force and status.failure_streak:
        lifecycle.clear_failures()
    elif status.start_blocked(lifecycle.now()):
        raise AgentStartBlockedError(status)
    if not lifecycle.try_begin_start():
        return lifecycle.get()  # another message won the race and is starting the task
    try:
        task_arn, _capacity = run_agent_task(ecs_client, config)
    except (AgentStartError, ClientError, BotoCoreError) as error:
        reason = f"the agent task could not start: {error}"
        lifecycle.fail_start(reason)
        raise AgentStartError(reason) from None
    if not lifecycle.set_task(task_arn):
        # The row moved on (the watchdog gave up on this start): do not leave an orphan.
        _stop_quietly(ecs_client, config.cluster, task_arn, "superseded before it was recorded")
    return lifecycle.get()


def _stop_quietly(ecs_client: ECSClient, cluster: str, task_arn: str, reason: str) -> None:
    # If this fails too, the watchdog stops the orphan on its next round.
    with contextlib.suppress(ClientError, BotoCoreError):
        ecs_client.stop_task(cluster=cluster, task=task_arn, reason=reason[:255])


def stop_agent(lifecycle: Lifecycle, ecs_client: ECSClient, cluster: str, reason: str) -> bool:
    """Put the agent to sleep now: Running/Starting → Stopping, then StopTask (SIGTERM; the
    bridge backs up its state and marks the row Idle as it exits). False if nothing to stop."""
    status = lifecycle.get()
    if status.task_arn is None or not lifecycle.begin_stop(status.task_arn, reason):
        return False
    ecs_client.stop_task(cluster=cluster, task=status.task_arn, reason=reason[:255])
    return True
