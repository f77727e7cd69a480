"""The watchdog (EventBridge schedule, every few minutes): the backstop behind the bridge.

The bridge marks its own heartbeat, stops itself after the idle timeout and marks the row Idle
on its way out. When any of that does not happen, this repairs it:

* the task the row owns has a stale heartbeat, or has lived past the maximum lifetime, or never
  became ready → Stopping + StopTask;
* the task the row owns is gone (crashed, Spot reclaimed, stopped by hand) → the row goes Idle;
* a row stuck in Starting with no task (the handler died between the transition and RunTask) →
  Idle, so the next message starts afresh;
* an agent task no row owns → StopTask (after a grace period: RunTask returns before the
  handler records the ARN);
* messages waiting in the queue while the agent sleeps (a message that arrived while the agent
  was going to sleep) → wake it, unless the last starts failed in a row.

Every change to the row is a conditional write, so a repair never undoes a transition that
happened while the watchdog looked.
"""

from __future__ import annotations

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
DEFAULT_HEARTBEAT_STALE_SECONDS: Final = 300.0


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
        _common.log.info("watchdog: %s", action)
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
                    )
                )
        return found

    def _stop_task(self, arn: str, reason: str) -> None:
        try:
            self._ecs.stop_task(cluster=self._config.cluster, task=arn, reason=reason[:255])
        except ClientError as error:
            _common.log.warning("StopTask %s failed: %s", arn, error)

    # -- checks -------------------------------------------------------------------------------

    def _stop_orphans(
        self, status: AgentStatus, tasks: Mapping[str, _Task], report: Report
    ) -> None:
        now = self._clock()
        for arn, task in tasks.items():
            if arn == status.task_arn and status.state != IDLE:
                continue
            age = now - task.created_at if task.created_at is not None else 0.0
            young = age < self._limits.orphan_grace_seconds
            if status.state == STARTING and status.task_arn is None and young:
                continue  # most likely the task being started right now, not yet recorded
            self._stop_task(arn, "openclaw-deploy watchdog: no lifecycle row owns this task")
            report.add(f"stopped orphan task {arn}")

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
                report.add(f"task {arn} still stopping: StopTask again")
        elif status.state == STARTING:
            if self._clock() - status.since > self._limits.ready_within_seconds:
                minutes = int(self._limits.ready_within_seconds // 60)
                reason = f"the agent was not ready within {minutes} minutes"
                self._stop_task(arn, f"openclaw-deploy watchdog: {reason}")
                if self._lifecycle.fail_start(reason, since=status.since):
                    report.add(f"task {arn} not ready in time: stopped, row Starting → Idle")
        elif status.state == RUNNING:
            self._check_running(status, task, report)

    def _owned_task_gone(self, status: AgentStatus, task: _Task | None, report: Report) -> None:
        arn = status.task_arn or ""
        why = (task.stopped_reason if task else None) or "it no longer exists"
        if status.state == STARTING:
            if self._lifecycle.fail_start(
                f"the task stopped before it was ready: {why}", since=status.since
            ):
                report.add(f"start failed, task {arn} gone: row Starting → Idle")
            return
        reason = f"the task stopped: {why}"
        if status.state == STOPPING and status.last_stop_reason:
            reason = status.last_stop_reason  # the bridge died on its way out: keep the why
        if self._lifecycle.mark_idle(arn, reason):
            report.add(f"task {arn} gone: row {status.state} → Idle")

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
            self._stop(arn, f"no heartbeat for {int(now - beat)} seconds", report)

    def _stop(self, arn: str, reason: str, report: Report) -> None:
        if self._lifecycle.begin_stop(arn, reason):
            self._stop_task(arn, f"openclaw-deploy watchdog: {reason}")
            report.add(f"stopped task {arn}: {reason}")

    def _check_start_without_task(self, status: AgentStatus, report: Report) -> None:
        if self._clock() - status.since <= self._limits.run_task_grace_seconds:
            return
        if self._lifecycle.fail_start(
            "the start did not complete (no task was recorded)", since=status.since
        ):
            report.add("row stuck in Starting without a task → Idle")

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
                QueueUrl=self._queue_url, AttributeNames=["ApproximateNumberOfMessages"]
            ).get("Attributes", {})
            waiting = int(attributes.get("ApproximateNumberOfMessages", "0") or 0)
            if waiting <= 0:
                return
            ensure_agent_running(self._lifecycle, self._ecs, self._config)
        except (AgentStartError, ClientError, BotoCoreError) as error:
            report.add(f"could not wake the agent for waiting messages: {error}")
            return
        report.add(f"{waiting} message(s) waiting while the agent slept: woke it")


def handler(event: Any = None, context: Any = None) -> dict[str, Any]:
    """Run one round. Errors propagate: the schedule runs again in a few minutes, and a failed
    invocation shows in the function's error metric."""
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
    report = watchdog.run().as_dict()
    _health.observe_telegram_webhook(now=time.time())
    return report
