"""The watchdog: the backstop behind the bridge, run by two EventBridge rules.

* ECS's task state-change event for a stopped agent task (a crash, an out-of-memory kill, a
  Spot reclaim, a stop by hand) runs it at once for that task: the lifecycle row that still
  names the task is repaired (Starting → Idle as a failed start, Running/Stopping → Idle), and
  the agent is woken again if messages wait — including the one the dead task was answering,
  which the queue's short visibility hands back within half a minute. The local target sends
  the same event when the task's process exits.
* A schedule (every minute) runs the full round below.

The bridge marks its own heartbeat, stops itself after the idle timeout and marks the row Idle
on its way out. When any of that does not happen, this repairs it:

* the task the row owns has a stale heartbeat (frozen: see HEARTBEAT_STALE_SECONDS) → StopTask
  and the row goes Idle at once, so a new task can start now instead of after the frozen one's
  two-minute stop timeout (the frozen one, should it wake, finds the row no longer names it and
  exits without a backup);
* the task the row owns has lived past the maximum lifetime, or never became ready → Stopping +
  StopTask;
* the task the row owns is gone (crashed, Spot reclaimed, stopped by hand) → the row goes Idle;
* a row stuck in Starting with no task (the handler died between the transition and RunTask) →
  Idle, so the next message starts afresh;
* an agent task no row owns → StopTask (after a grace period: RunTask returns before the
  handler records the ARN);
* messages waiting in the queue while the agent sleeps (a message that arrived while the agent
  was going to sleep, or one a dead task held) → wake it, unless the last starts failed in a row.

Every change to the row is a conditional write, so a repair never undoes a transition that
happened while the watchdog looked. Each action is logged with what, why and which task, so
`openclaw-deploy logs --component watchdog` tells the story.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import boto3  # noqa: F401 - imported first, not nested: see bench/handler_imports.py
from botocore.exceptions import BotoCoreError, ClientError

from openclaw_deploy.handlers import _common, _health
from openclaw_deploy.runtime import aws
from openclaw_deploy.runtime.lifecycle import (
    HEARTBEAT_STALE_SECONDS,
    IDLE,
    RUNNING,
    STARTED_BY,
    STARTING,
    STOPPING,
    AgentStartError,
    AgentStatus,
    Lifecycle,
    TaskConfig,
    ensure_agent_running,
)

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_sqs import SQSClient

ENV_MAX_TASK_HOURS: Final = "OPENCLAW_MAX_TASK_HOURS"
ENV_HEARTBEAT_STALE_SECONDS: Final = "OPENCLAW_HEARTBEAT_STALE_SECONDS"
DEFAULT_MAX_TASK_HOURS: Final = 12.0
DEFAULT_HEARTBEAT_STALE_SECONDS: Final = HEARTBEAT_STALE_SECONDS
ECS_SOURCE: Final = "aws.ecs"
TASK_STATE_CHANGE: Final = "ECS Task State Change"
"""The EventBridge detail-type of ECS task events (the rule passes only STOPPED agent tasks)."""

log = logging.getLogger("openclaw_deploy.handlers.watchdog")


@dataclass(frozen=True, kw_only=True)
class Limits:
    max_task_seconds: float = DEFAULT_MAX_TASK_HOURS * 3600
    heartbeat_stale_seconds: float = DEFAULT_HEARTBEAT_STALE_SECONDS
    ready_within_seconds: float = 15 * 60
    """A task that has not reported ready by then is stopped (image pull + restore + boot)."""
    run_task_grace_seconds: float = 120
    """Starting with no task ARN for longer than this: the handler died around RunTask."""
    orphan_grace_seconds: float = 120
    stopping_within_seconds: float = 5 * 60
    """stopTimeout is at most 120 s; after this a Stopping task is stopped again."""
    max_failed_starts: int = 3
    """The queue backstop stops waking an agent that failed to start this many times in a row."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        env = os.environ if environ is None else environ
        return cls(
            max_task_seconds=_positive(env.get(ENV_MAX_TASK_HOURS), DEFAULT_MAX_TASK_HOURS) * 3600,
            heartbeat_stale_seconds=_positive(
                env.get(ENV_HEARTBEAT_STALE_SECONDS), DEFAULT_HEARTBEAT_STALE_SECONDS
            ),
        )


def _positive(text: str | None, default: float) -> float:
    try:
        value = float(text) if text else default
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass
class Report:
    actions: list[str] = field(default_factory=list)
    state: str = IDLE
    running_tasks: int = 0

    def add(self, action: str) -> None:
        log.info("watchdog: %s", action)
        self.actions.append(action)

    def as_dict(self) -> dict[str, Any]:
        return {
            "actions": list(self.actions),
            "state": self.state,
            "runningTasks": self.running_tasks,
        }


@dataclass(frozen=True)
class _Task:
    arn: str
    last_status: str
    created_at: float | None
    stopped_reason: str | None
    desired_status: str = "RUNNING"


class Watchdog:
    def __init__(
        self,
        lifecycle: Lifecycle,
        ecs_client: ECSClient,
        config: TaskConfig,
        *,
        sqs_client: SQSClient | None = None,
        queue_url: str | None = None,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._lifecycle = lifecycle
        self._ecs = ecs_client
        self._config = config
        self._sqs = sqs_client
        self._queue_url = queue_url
        self._limits = limits or Limits()
        self._clock = clock

    def run(self) -> Report:
        report = Report()
        status = self._lifecycle.get()
        tasks = self._running_tasks()
        report.running_tasks = len(tasks)
        self._stop_orphans(status, tasks, report)
        if status.task_arn is not None:
            self._check_owned(status, tasks, report)
        elif status.state == STARTING:
            self._check_start_without_task(status, report)
        self._wake_for_waiting_messages(report)
        final = self._lifecycle.get()
        report.state = final.state
        _health.observe_agent(final, now=self._clock())
        return report

    def task_stopped(self, arn: str, why: str) -> Report:
        """ECS says the task `arn` stopped (`why`): repair the row that still names it, then
        wake the agent if messages wait. Nothing else: the scheduled round does the rest."""
        report = Report()
        status = self._lifecycle.get()
        short = _task_id(arn)
        if status.task_arn != arn:
            log.info(
                "watchdog: task %s stopped (%s); the lifecycle row does not name it: nothing to "
                "repair",
                short,
                why,
            )
        elif status.state == STARTING:
            if self._lifecycle.fail_start(
                f"the task stopped before it was ready: {why}", since=status.since
            ):
                report.add(f"task {short} stopped before it was ready ({why}): row Starting → Idle")
        elif self._lifecycle.mark_idle(arn, self._stop_reason(status, why)):
            report.add(f"task {short} stopped ({why}): row {status.state} → Idle")
        self._wake_for_waiting_messages(report)
        final = self._lifecycle.get()
        report.state = final.state
        _health.observe_agent(final, now=self._clock())
        return report

    @staticmethod
    def _stop_reason(status: AgentStatus, why: str) -> str:
        if status.state == STOPPING and status.last_stop_reason:
            return status.last_stop_reason  # the bridge died on its way out: keep the why
        return f"the task stopped: {why}"

    # -- ECS ----------------------------------------------------------------------------------

    def _running_tasks(self) -> dict[str, _Task]:
        arns: list[str] = []
        paginator = self._ecs.get_paginator("list_tasks")
        # ECS refuses startedBy with any other filter; the default desiredStatus is RUNNING.
        for page in paginator.paginate(cluster=self._config.cluster, startedBy=STARTED_BY):
            arns.extend(page.get("taskArns", []))
        return {task.arn: task for task in self._describe(arns)}

    def _describe(self, arns: list[str]) -> list[_Task]:
        found: list[_Task] = []
        for start in range(0, len(arns), 100):
            answer = self._ecs.describe_tasks(
                cluster=self._config.cluster, tasks=arns[start : start + 100]
            )
            for task in answer.get("tasks", []):
                created = task.get("createdAt")
                found.append(
                    _Task(
                        arn=task.get("taskArn", ""),
                        last_status=task.get("lastStatus", "UNKNOWN"),
                        created_at=created.timestamp() if isinstance(created, datetime) else None,
                        stopped_reason=task.get("stoppedReason"),
                        desired_status=task.get("desiredStatus", "RUNNING"),
                    )
                )
        return found

    def _stop_task(self, arn: str, reason: str) -> None:
        try:
            self._ecs.stop_task(cluster=self._config.cluster, task=arn, reason=reason[:255])
        except ClientError as error:
            log.warning("watchdog: StopTask %s failed: %s", _task_id(arn), error)

    # -- checks -------------------------------------------------------------------------------

    def _stop_orphans(
        self, status: AgentStatus, tasks: Mapping[str, _Task], report: Report
    ) -> None:
        now = self._clock()
        for arn, task in tasks.items():
            if arn == status.task_arn and status.state != IDLE:
                continue
            if task.desired_status == "STOPPED":
                continue  # already told to stop (and on its way out)
            age = now - task.created_at if task.created_at is not None else 0.0
            young = age < self._limits.orphan_grace_seconds
            if status.state == STARTING and status.task_arn is None and young:
                continue  # most likely the task being started right now, not yet recorded
            self._stop_task(arn, "openclaw-deploy watchdog: no lifecycle row owns this task")
            born = f", started {int(age)} s ago" if task.created_at is not None else ""
            report.add(f"stopped task {_task_id(arn)}: no lifecycle row owns it (an orphan{born})")

    def _check_owned(self, status: AgentStatus, tasks: Mapping[str, _Task], report: Report) -> None:
        arn = status.task_arn or ""
        task = tasks.get(arn)
        if task is None:
            described = self._describe([arn])
            task = described[0] if described else None
        if task is None or task.last_status in ("STOPPED", "DELETED", "DEPROVISIONING"):
            self._owned_task_gone(status, task, report)
        elif status.state == STOPPING:
            if self._clock() - status.since > self._limits.stopping_within_seconds:
                self._stop_task(arn, "openclaw-deploy watchdog: still stopping")
                report.add(
                    f"task {_task_id(arn)} still stopping after "
                    f"{int(self._clock() - status.since)} s: StopTask again"
                )
        elif status.state == STARTING:
            if self._clock() - status.since > self._limits.ready_within_seconds:
                minutes = int(self._limits.ready_within_seconds // 60)
                reason = f"the agent was not ready within {minutes} minutes"
                self._stop_task(arn, f"openclaw-deploy watchdog: {reason}")
                if self._lifecycle.fail_start(reason, since=status.since):
                    report.add(f"stopped task {_task_id(arn)}: {reason}; row Starting → Idle")
        elif status.state == RUNNING:
            self._check_running(status, task, report)

    def _owned_task_gone(self, status: AgentStatus, task: _Task | None, report: Report) -> None:
        arn = status.task_arn or ""
        why = (task.stopped_reason if task else None) or "it no longer exists"
        if status.state == STARTING:
            if self._lifecycle.fail_start(
                f"the task stopped before it was ready: {why}", since=status.since
            ):
                report.add(
                    f"task {_task_id(arn)} is gone ({why}) before it was ready: row Starting → Idle"
                )
            return
        if self._lifecycle.mark_idle(arn, self._stop_reason(status, why)):
            report.add(f"task {_task_id(arn)} is gone ({why}): row {status.state} → Idle")

    def _check_running(self, status: AgentStatus, task: _Task, report: Report) -> None:
        arn = status.task_arn or ""
        now = self._clock()
        born = status.started_at or task.created_at or status.since
        if now - born > self._limits.max_task_seconds:
            hours = self._limits.max_task_seconds / 3600
            self._stop(arn, f"running longer than the maximum of {hours:g} hours", report)
            return
        beat = status.heartbeat_at or status.since
        if now - beat > self._limits.heartbeat_stale_seconds:
            self._replace_frozen(arn, int(now - beat), report)

    def _stop(self, arn: str, reason: str, report: Report) -> None:
        if self._lifecycle.begin_stop(arn, reason):
            self._stop_task(arn, f"openclaw-deploy watchdog: {reason}")
            report.add(f"stopped task {_task_id(arn)}: {reason}")

    def _replace_frozen(self, arn: str, silent_for: int, report: Report) -> None:
        """A task without a heartbeat cannot be trusted to stop in time (a frozen process sits
        out the whole stop timeout): free the row now, so waiting messages wake a new task."""
        limit = int(self._limits.heartbeat_stale_seconds)
        reason = f"no heartbeat for {silent_for} seconds (the limit is {limit}): frozen"
        if self._lifecycle.mark_idle(arn, reason):
            self._stop_task(arn, f"openclaw-deploy watchdog: {reason}"[:255])
            report.add(f"stopped task {_task_id(arn)}: {reason}; row Running → Idle")

    def _check_start_without_task(self, status: AgentStatus, report: Report) -> None:
        waited = self._clock() - status.since
        if waited <= self._limits.run_task_grace_seconds:
            return
        if self._lifecycle.fail_start(
            "the start did not complete (no task was recorded)", since=status.since
        ):
            report.add(f"row Starting for {int(waited)} s without a task (no task ARN) → Idle")

    def _wake_for_waiting_messages(self, report: Report) -> None:
        if self._sqs is None or not self._queue_url:
            return
        status = self._lifecycle.get()
        if status.state != IDLE or status.failed_starts >= self._limits.max_failed_starts:
            return
        if status.start_blocked(self._clock()):
            report.add(f"not waking the agent: {status.failure_streak} identical failed starts")
            return
        # The last and least urgent check: its failure (a missing permission, say) is reported
        # and must not undo the repairs above by failing the round.
        try:
            attributes = self._sqs.get_queue_attributes(
                QueueUrl=self._queue_url,
                # In flight while the agent sleeps means held by a task that died: it comes back
                # when its (short) visibility ends, and the woken agent answers it.
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            ).get("Attributes", {})
            waiting = _count(attributes, "ApproximateNumberOfMessages")
            held = _count(attributes, "ApproximateNumberOfMessagesNotVisible")
            if waiting + held <= 0:
                return
            woken = ensure_agent_running(self._lifecycle, self._ecs, self._config)
        except (AgentStartError, ClientError, BotoCoreError) as error:
            report.add(f"could not wake the agent for waiting messages: {error}")
            return
        task = _task_id(woken.task_arn) if woken.task_arn else "(task not recorded yet)"
        report.add(
            f"woke the agent (task {task}): {waiting} message(s) waiting and {held} held by a "
            "task that is gone"
        )


def _count(attributes: Mapping[Any, str], name: str) -> int:
    value = attributes.get(name) or "0"
    return int(value) if value.isascii() and value.isdigit() else 0


def _task_id(arn: str) -> str:
    """The task's id (the end of its ARN): what the ECS console and the logs show."""
    return arn.rsplit("/", 1)[-1]


def stopped_task(event: Any) -> tuple[str, str] | None:
    """(task ARN, why) when `event` is ECS's state change of an agent task that stopped."""
    event = _common.mapping(event)
    if event.get("source") != ECS_SOURCE or event.get("detail-type") != TASK_STATE_CHANGE:
        return None
    detail = _common.mapping(event.get("detail"))
    arn = detail.get("taskArn")
    if not isinstance(arn, str) or not arn or detail.get("lastStatus") != "STOPPED":
        return None
    if detail.get("startedBy") not in (None, STARTED_BY):
        return None
    why = detail.get("stoppedReason")
    codes = [
        c.get("exitCode")
        for c in detail.get("containers") or []
        if isinstance(c, Mapping) and isinstance(c.get("exitCode"), int)
    ]
    reason = why if isinstance(why, str) and why else "stopped"
    if codes and "exit code" not in reason:
        reason += f" (exit code {codes[0]})"
    return arn, reason[:300]


def handler(event: Any = None, context: Any = None) -> dict[str, Any]:
    """Handle a stopped agent task (ECS event) or run one scheduled round. Errors propagate:
    the schedule runs again in a minute, and a failed invocation shows in the function's error
    metric."""
    try:
        queue_url: str | None = _common.queue_url()
    except RuntimeError:
        queue_url = None
    watchdog = Watchdog(
        _common.lifecycle(),
        aws.ecs(),
        _common.task_config(),
        sqs_client=aws.sqs(),
        queue_url=queue_url,
        limits=Limits.from_env(),
    )
    stopped = stopped_task(event)
    if stopped is not None:
        return watchdog.task_stopped(*stopped).as_dict()
    report = watchdog.run().as_dict()
    _health.observe_telegram_webhook(now=time.time())
    return report
