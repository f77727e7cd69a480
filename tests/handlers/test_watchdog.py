"""The watchdog against the moto server: stale, overdue, orphaned and vanished tasks, stuck rows,
and messages left waiting. Time is moved by giving the watchdog a clock in the future."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from openclaw_deploy.handlers import watchdog
from openclaw_deploy.handlers.watchdog import Limits, Watchdog
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.contract import QueueMessage
from openclaw_deploy.runtime.lifecycle import (
    HEARTBEAT_STALE_SECONDS,
    IDLE,
    RUNNING,
    STARTED_BY,
    STARTING,
    Lifecycle,
    TaskConfig,
    ensure_agent_running,
)
from openclaw_deploy.runtime.queue import enqueue
from tests.handlers.conftest import DEPLOYMENT, Stack


def lifecycle(clock: Any = time.time) -> Lifecycle:
    return Lifecycle(aws.dynamodb(), resources.TASK_STATE.physical_name(DEPLOYMENT), clock=clock)


def round_at(stack: Stack, offset: float, limits: Limits | None = None) -> list[str]:
    """One watchdog round as if `offset` seconds had passed."""
    dog = Watchdog(
        lifecycle(),
        aws.ecs(),
        TaskConfig.from_env(),
        sqs_client=aws.sqs(),
        queue_url=stack.queue_url,
        limits=limits,
        clock=lambda: time.time() + offset,
    )
    return dog.run().actions


def task_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def running_agent() -> str:
    status = ensure_agent_running(lifecycle(), aws.ecs())
    assert status.task_arn is not None
    assert lifecycle().mark_running(status.task_arn, {"boot": 12.0})
    return status.task_arn


def task_status(stack: Stack, arn: str) -> str:
    [task] = [t for t in stack.tasks() if t["taskArn"] == arn]
    return str(task["desiredStatus"])


def test_a_healthy_agent_is_left_alone(stack: Stack) -> None:
    arn = running_agent()
    assert round_at(stack, HEARTBEAT_STALE_SECONDS - 5) == []
    assert lifecycle().get().state == RUNNING
    assert task_status(stack, arn) == "RUNNING"


def test_a_stale_heartbeat_frees_the_row_at_once_and_stops_the_task(stack: Stack) -> None:
    arn = running_agent()
    assert round_at(stack, HEARTBEAT_STALE_SECONDS - 1) == [], "not stale yet"
    [action] = round_at(stack, HEARTBEAT_STALE_SECONDS + 1)
    assert action.startswith(f"stopped task {task_id(arn)}: no heartbeat for")
    assert action.endswith("frozen; row Running → Idle")
    # A frozen task sits out its whole stop timeout: the row does not wait for it, so the next
    # message starts a new task now.
    status = lifecycle().get()
    assert (status.state, status.task_arn) == (IDLE, None)
    assert status.last_stop_reason is not None and "no heartbeat" in status.last_stop_reason
    assert task_status(stack, arn) == "STOPPED"
    # Should it wake up, its heartbeat finds the row no longer names it (and it exits).
    assert not lifecycle().heartbeat(arn)


def test_a_frozen_task_holding_a_message_is_replaced_in_the_same_round(stack: Stack) -> None:
    frozen = running_agent()
    _queue_one(stack)
    held = aws.sqs().receive_message(QueueUrl=stack.queue_url, WaitTimeSeconds=0)["Messages"]
    assert len(held) == 1, "the frozen task took the message"
    first, second = round_at(stack, HEARTBEAT_STALE_SECONDS + 5)
    assert first.startswith(f"stopped task {task_id(frozen)}")
    assert second.startswith("woke the agent (task ")
    assert second.endswith("0 message(s) waiting and 1 held by a task that is gone")
    status = lifecycle().get()
    assert status.state == STARTING and status.task_arn not in (None, frozen)


def test_the_heartbeat_limit_comes_from_the_environment(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    running_agent()
    monkeypatch.setenv(watchdog.ENV_HEARTBEAT_STALE_SECONDS, "1")
    monkeypatch.setenv(watchdog.ENV_MAX_TASK_HOURS, "not a number")
    time.sleep(1.2)
    report = watchdog.handler({}, None)
    assert report["state"] == IDLE
    assert "no heartbeat" in report["actions"][0]
    assert Limits.from_env().max_task_seconds == 12 * 3600, "bad values fall back to defaults"


def test_a_task_past_the_maximum_lifetime_is_stopped(stack: Stack) -> None:
    arn = running_agent()
    limits = Limits(max_task_seconds=3600, heartbeat_stale_seconds=10**9)
    [action] = round_at(stack, 3601, limits)
    assert "longer than the maximum of 1 hours" in action
    assert task_status(stack, arn) == "STOPPED"


def stray_task(stack: Stack) -> str:
    """An agent task started behind the lifecycle's back (a lost RunTask answer, a human)."""
    config = TaskConfig.from_env()
    network = {"subnets": list(config.subnets), "securityGroups": list(config.security_groups)}
    answer = stack.client("ecs").run_task(
        cluster=config.cluster,
        taskDefinition=config.task_definition,
        startedBy=STARTED_BY,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": network},
    )
    return str(answer["tasks"][0]["taskArn"])


def test_an_orphan_task_is_stopped(stack: Stack) -> None:
    orphan = stray_task(stack)
    report = watchdog.handler({}, None)
    [action] = report["actions"]
    assert action.startswith(f"stopped task {task_id(orphan)}: no lifecycle row owns it")
    assert task_status(stack, orphan) == "STOPPED"
    assert lifecycle().get().state == IDLE
    # Told to stop once: the next rounds do not stop (and log) it again while it winds down.
    assert watchdog.handler({}, None)["actions"] == []


def test_a_second_task_beside_the_owned_one_is_an_orphan(stack: Stack) -> None:
    owned = running_agent()
    extra = stray_task(stack)
    [action] = round_at(stack, 10)
    assert action.startswith(f"stopped task {task_id(extra)}: no lifecycle row owns it")
    assert task_status(stack, owned) == "RUNNING"


def test_a_task_being_started_is_not_taken_for_an_orphan(stack: Stack) -> None:
    # The handler won Starting and RunTask returned, but the ARN is not recorded yet.
    assert lifecycle().try_begin_start()
    stray_task(stack)
    assert round_at(stack, 5) == []


def test_a_row_stuck_in_starting_without_a_task_is_repaired(stack: Stack) -> None:
    assert lifecycle().try_begin_start()  # ...and the handler died before RunTask
    assert round_at(stack, 60) == [], "within the grace period: RunTask may still be running"
    [action] = round_at(stack, 121)
    assert re.fullmatch(r"row Starting for 12\d s without a task \(no task ARN\) → Idle", action)
    status = lifecycle().get()
    assert status.state == IDLE
    assert status.last_stop_reason == "the start did not complete (no task was recorded)"
    assert status.failed_starts == 1


def test_a_task_that_never_gets_ready_is_stopped_and_counted(stack: Stack) -> None:
    status = ensure_agent_running(lifecycle(), aws.ecs())
    [action] = round_at(stack, 15 * 60 + 1)
    assert "the agent was not ready within 15 minutes; row Starting → Idle" in action
    after = lifecycle().get()
    assert (after.state, after.failed_starts) == (IDLE, 1)
    assert status.task_arn is not None
    assert task_status(stack, status.task_arn) == "STOPPED"


def test_a_task_that_died_is_noticed(stack: Stack) -> None:
    arn = running_agent()
    stack.client("ecs").stop_task(cluster=stack.cluster, task=arn, reason="Spot interruption")
    [action] = round_at(stack, 30)
    assert action == f"task {task_id(arn)} is gone (Spot interruption): row Running → Idle"
    status = lifecycle().get()
    assert (status.state, status.last_stop_reason) == (IDLE, "the task stopped: Spot interruption")


def test_a_task_that_died_while_starting_counts_as_a_failed_start(stack: Stack) -> None:
    status = ensure_agent_running(lifecycle(), aws.ecs())
    assert status.task_arn is not None
    stack.client("ecs").stop_task(
        cluster=stack.cluster, task=status.task_arn, reason="Essential container in task exited"
    )
    round_at(stack, 30)
    after = lifecycle().get()
    assert after.state == IDLE
    assert after.failed_starts == 1
    assert after.last_stop_reason == (
        "the task stopped before it was ready: Essential container in task exited"
    )


def _queue_one(stack: Stack) -> None:
    enqueue(
        aws.sqs(),
        stack.queue_url,
        QueueMessage(
            channel="web", session="s", message_id="m1", text="waiting", received_at=time.time()
        ),
    )


def test_messages_waiting_while_the_agent_sleeps_wake_it(stack: Stack) -> None:
    _queue_one(stack)
    [action] = round_at(stack, 0)
    assert action.startswith("woke the agent (task ")
    assert action.endswith("1 message(s) waiting and 0 held by a task that is gone")
    assert lifecycle().get().state == STARTING
    assert len(stack.run_task_calls) == 1


def test_the_queue_backstop_gives_up_after_failed_starts(stack: Stack) -> None:
    _queue_one(stack)
    for _ in range(3):
        assert lifecycle().try_begin_start()
        assert lifecycle().fail_start("boom")
    assert round_at(stack, 0) == []
    assert stack.run_task_calls == []


def test_a_failing_queue_check_does_not_undo_the_round(stack: Stack) -> None:
    orphan = stray_task(stack)
    dog = Watchdog(
        lifecycle(),
        aws.ecs(),
        TaskConfig.from_env(),
        sqs_client=aws.sqs(),
        queue_url=stack.queue_url.replace("inbound", "missing"),
    )
    first, second = dog.run().actions
    assert first.startswith(f"stopped task {task_id(orphan)}: no lifecycle row owns it")
    assert second.startswith("could not wake the agent for waiting messages")
    assert task_status(stack, orphan) == "STOPPED"


# -- a stopped task, noticed at once (ECS's task state-change event) ---------------------------


def stopped_event(arn: str, reason: str = "Essential container in task exited") -> dict[str, Any]:
    """What EventBridge delivers for a stopped task (the fields the watchdog reads)."""
    return {
        "version": "0",
        "source": "aws.ecs",
        "detail-type": "ECS Task State Change",
        "detail": {
            "taskArn": arn,
            "lastStatus": "STOPPED",
            "desiredStatus": "STOPPED",
            "startedBy": STARTED_BY,
            "stoppedReason": reason,
            "containers": [{"name": "agent", "exitCode": 137, "lastStatus": "STOPPED"}],
        },
    }


def test_a_task_that_died_mid_reply_is_repaired_and_the_agent_woken_at_once(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    dead = running_agent()
    _queue_one(stack)
    held = aws.sqs().receive_message(QueueUrl=stack.queue_url, WaitTimeSeconds=0)["Messages"]
    assert len(held) == 1, "the task was answering it when it died"
    aws.ecs().stop_task(cluster=TaskConfig.from_env().cluster, task=dead, reason="killed")
    with caplog.at_level("INFO", logger="openclaw_deploy.handlers.watchdog"):
        report = watchdog.handler(stopped_event(dead), None)
    first, second = report["actions"]
    assert first == (
        f"task {task_id(dead)} stopped (Essential container in task exited (exit code 137)): "
        "row Running → Idle"
    )
    assert second.endswith("0 message(s) waiting and 1 held by a task that is gone")
    status = lifecycle().get()
    assert status.state == STARTING and status.task_arn not in (None, dead)
    assert len(stack.run_task_calls) == 2
    logged = [r.getMessage() for r in caplog.records if r.name.endswith("watchdog")]
    assert logged == [f"watchdog: {first}", f"watchdog: {second}"]


def test_a_task_that_died_while_starting_is_a_failed_start(stack: Stack) -> None:
    status = ensure_agent_running(lifecycle(), aws.ecs())
    assert status.task_arn is not None
    report = watchdog.handler(stopped_event(status.task_arn, "CannotPullContainerError"), None)
    assert report["actions"][0].endswith(
        "before it was ready (CannotPullContainerError (exit code 137)): row Starting → Idle"
    )
    after = lifecycle().get()
    assert after.state == IDLE and after.failed_starts == 1
    assert after.failure_reason is not None and "CannotPullContainerError" in after.failure_reason


def test_a_stopped_task_the_row_does_not_name_changes_nothing(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    current = running_agent()
    with caplog.at_level("INFO", logger="openclaw_deploy.handlers.watchdog"):
        report = watchdog.handler(stopped_event(current.replace(task_id(current), "old")), None)
    assert report["actions"] == []
    assert lifecycle().get().task_arn == current
    assert any("does not name it: nothing to repair" in r.getMessage() for r in caplog.records)


def test_events_that_are_not_a_stopped_agent_task_run_the_scheduled_round(stack: Stack) -> None:
    arn = running_agent()
    running = stopped_event(arn)
    running["detail"]["lastStatus"] = "RUNNING"
    foreign = stopped_event(arn)
    foreign["detail"]["startedBy"] = "someone-else"
    for event in (running, foreign, {"source": "aws.ecs", "detail-type": "ECS Task State Change"}):
        assert watchdog.stopped_task(event) is None
        assert watchdog.handler(event, None)["state"] == RUNNING
    assert lifecycle().get().task_arn == arn
