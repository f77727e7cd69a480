"""The local target's Scheduler against moto, on an injected clock: due schedules fire once with
their scheduled time filled in, paused ones do not, one-time ones delete themselves, failures are
retried, and a restarted local cloud does not make up what it missed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from openclaw_deploy.local.scheduler import TICK_SECONDS, LocalScheduler
from openclaw_deploy.runtime import schedules
from openclaw_deploy.runtime.schedules import Firing, Names

GROUP = "openclaw-localbot"
NAMES = Names.of("localbot", account="123456789012", region="us-east-1")


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def scheduler(aws_env: str) -> Any:
    client = boto3.client("scheduler", region_name="us-east-1")
    client.create_schedule_group(Name=GROUP)
    return client


def _create(scheduler: Any, name: str, expression: str, **extra: Any) -> None:
    firing = Firing(schedule=name, title="t", text="hello", to="web")
    scheduler.create_schedule(
        Name=name,
        GroupName=GROUP,
        ScheduleExpression=expression,
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=schedules.target(NAMES, firing),
        **extra,
    )


def _local(scheduler: Any, clock: Clock, calls: list[tuple[str, dict[str, Any]]]) -> LocalScheduler:
    def invoke(arn: str, payload: dict[str, Any]) -> str:
        calls.append((arn, payload))
        return "ok"

    return LocalScheduler(scheduler=scheduler, group=GROUP, invoke=invoke, clock=clock)


def test_a_rate_schedule_fires_once_per_period_with_its_scheduled_time(scheduler: Any) -> None:
    clock = Clock()
    calls: list[tuple[str, dict[str, Any]]] = []
    local = _local(scheduler, clock, calls)
    _create(scheduler, "s-aaaa1111", "rate(1 minute)")
    assert local.tick() == []
    clock.advance(61)
    (fired,) = local.tick()
    assert fired[0] == "s-aaaa1111"
    assert local.tick() == []  # not twice
    ((arn, payload),) = calls
    assert arn == NAMES.target_arn
    assert payload["text"] == "hello"
    assert payload["scheduled_time"] == fired[1].strftime("%Y-%m-%dT%H:%M:%SZ")
    clock.advance(60)
    assert len(local.tick()) == 1


def test_a_one_time_schedule_due_now_fires_and_deletes_itself(scheduler: Any) -> None:
    clock = Clock()
    calls: list[tuple[str, dict[str, Any]]] = []
    local = _local(scheduler, clock, calls)
    now = datetime.fromtimestamp(clock(), UTC).replace(tzinfo=None)
    _create(
        scheduler,
        "s-bbbb2222-run-1",
        f"at({now.replace(microsecond=0, second=0).isoformat()})",
        ActionAfterCompletion="DELETE",
    )
    assert len(local.tick()) == 1
    assert scheduler.list_schedules(GroupName=GROUP)["Schedules"] == []
    assert len(calls) == 1


def test_a_future_one_time_schedule_waits(scheduler: Any) -> None:
    clock = Clock()
    calls: list[tuple[str, dict[str, Any]]] = []
    local = _local(scheduler, clock, calls)
    later = datetime.fromtimestamp(clock(), UTC) + timedelta(minutes=3)
    _create(scheduler, "s-cccc3333", f"at({later.replace(tzinfo=None, microsecond=0).isoformat()})")
    assert local.tick() == []
    clock.advance(3 * 60 + 1)
    assert len(local.tick()) == 1
    clock.advance(3600)
    assert local.tick() == []


def test_a_paused_schedule_does_not_fire(scheduler: Any) -> None:
    clock = Clock()
    calls: list[tuple[str, dict[str, Any]]] = []
    local = _local(scheduler, clock, calls)
    _create(scheduler, "s-dddd4444", "rate(1 minute)", State="DISABLED")
    clock.advance(180)
    assert local.tick() == []
    assert calls == []


def test_a_failing_target_is_retried_then_dropped(scheduler: Any) -> None:
    clock = Clock()
    attempts: list[dict[str, Any]] = []

    def failing(arn: str, payload: dict[str, Any]) -> None:
        attempts.append(payload)
        raise RuntimeError("the queue is down")

    local = LocalScheduler(scheduler=scheduler, group=GROUP, invoke=failing, clock=clock)
    _create(scheduler, "s-eeee5555", "rate(5 minutes)")
    local.tick()
    clock.advance(5 * 60 + 1)
    for _ in range(schedules.RETRY_ATTEMPTS + 3):
        local.tick()
        clock.advance(TICK_SECONDS)
    assert len(attempts) == schedules.RETRY_ATTEMPTS + 1
    assert len({json.dumps(a, sort_keys=True) for a in attempts}) == 1  # the same firing


def test_a_restarted_local_cloud_does_not_make_up_missed_firings(scheduler: Any) -> None:
    clock = Clock()
    calls: list[tuple[str, dict[str, Any]]] = []
    _create(scheduler, "s-ffff6666", "rate(1 minute)")
    clock.advance(3600)  # the local cloud was stopped for an hour
    assert _local(scheduler, clock, calls).tick() == []
