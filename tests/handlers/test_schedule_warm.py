"""The warm window's daily firing against the moto server: it only wakes the agent and records
its run (no prompt is queued, whatever its input says), and the local target's Scheduler fires
the `warm` schedule at the window's start in its own time zone, on an injected clock."""

from __future__ import annotations

import json
from datetime import UTC, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from openclaw_deploy.handlers import schedule
from openclaw_deploy.local.scheduler import LocalScheduler
from openclaw_deploy.runtime import schedules
from openclaw_deploy.runtime.schedules import Firing
from openclaw_deploy.runtime.warm import parse
from tests.handlers.conftest import DEPLOYMENT, Stack

ACCOUNT = "123456789012"
REGION = "us-east-1"


def _warm(**changes: object) -> dict[str, object]:
    firing = Firing(schedule="warm", title="Warm window", text="Wake the agent.", to="web")
    data = json.loads(firing.to_json())
    data.update({"owner": "warm", "scheduled_time": "2026-12-01T07:00:00Z", **changes})
    return data


def test_a_warm_firing_wakes_the_agent_and_records_its_run(stack: Stack) -> None:
    answer = schedule.handler(_warm(), None)
    assert answer["status"] == "woken"
    assert stack.drain() == [], "nothing for the agent to answer"
    assert len(stack.run_task_calls) == 1
    run = schedule.runs().all()["warm"]
    assert (run.outcome, run.runs) == ("woken", 1)

    # The next day's firing, with the agent still up: no second task.
    assert schedule.handler(_warm(scheduled_time="2026-12-02T07:00:00Z"), None)["status"] == (
        "woken"
    )
    assert len(stack.tasks()) == 1
    assert schedule.runs().all()["warm"].runs == 2


def test_the_warm_schedule_never_queues_a_prompt_whatever_its_input_says(stack: Stack) -> None:
    assert schedule.handler(_warm(owner="owner", to="telegram"), None)["status"] == "woken"
    assert stack.drain() == []
    assert Firing.from_event(_warm(owner="owner")).owner == "warm"
    # And no other schedule is a warm window by saying so.
    other = Firing.from_event(_warm(schedule="s-0a1b2c3d", owner="warm"))
    assert other.owner == "owner"


def test_the_local_scheduler_fires_the_warm_schedule_at_the_windows_start(stack: Stack) -> None:
    group = schedules.group_name(DEPLOYMENT)
    scheduler = stack.client("scheduler")
    scheduler.create_schedule_group(Name=group)
    names = schedules.Names.of(DEPLOYMENT, account=ACCOUNT, region=REGION)
    window = parse("08:00-09:00", "Europe/Berlin")
    scheduler.create_schedule(
        Name="warm",
        GroupName=group,
        ScheduleExpression=window.cron,
        ScheduleExpressionTimezone=window.zone,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=schedules.target(names, Firing.from_event(_warm())),
    )
    created = scheduler.get_schedule(Name="warm", GroupName=group)["CreationDate"]
    berlin = ZoneInfo("Europe/Berlin")
    # The next 07:58 in Berlin after the schedule was made: the wake-up's lead before 08:00.
    start = created.astimezone(berlin).replace(hour=7, minute=58, second=0, microsecond=0)
    if start <= created:
        start += timedelta(days=1)
    clock = [(start - timedelta(minutes=1)).timestamp()]
    answers: list[Any] = []

    def invoke(arn: str, payload: dict[str, Any]) -> Any:
        assert arn == names.target_arn
        answers.append(schedule.handler(payload, None))
        return answers[-1]

    local = LocalScheduler(scheduler=scheduler, group=group, invoke=invoke, clock=lambda: clock[0])
    assert local.tick() == [], "07:57 in Berlin: not yet"
    assert stack.run_task_calls == []

    clock[0] = start.timestamp() + 2
    ((name, when),) = local.tick()
    assert name == "warm"
    assert when.astimezone(berlin).strftime("%H:%M") == "07:58"
    assert when.astimezone(UTC) == start.astimezone(UTC)
    assert answers == [{"status": "woken", "error": None}]
    assert len(stack.run_task_calls) == 1
    assert stack.drain() == []
    assert schedule.runs().all()["warm"].outcome == "woken"
    assert local.tick() == [], "once a day"
    clock[0] += 3600
    assert local.tick() == [], "nothing more in the window's hour"


def test_the_web_settings_page_keeps_the_window_and_cannot_set_it(stack: Stack) -> None:
    from openclaw_deploy.handlers import api
    from tests.handlers.events import http_event

    settings = schedule._common.settings()
    settings.set_warm("08:00-09:00@Europe/Berlin")

    saved = api.handler(http_event("PUT", "/api/settings", body={"idleTimeoutMinutes": 30}))
    assert saved["statusCode"] == 200
    assert "warm" not in json.loads(saved["body"]), "not one of the page's settings"
    after = settings.get()
    assert (after.idle_timeout_minutes, after.warm) == (30, "08:00-09:00@Europe/Berlin")

    refused = api.handler(http_event("PUT", "/api/settings", body={"warm": "00:00-08:00@UTC"}))
    assert refused["statusCode"] == 400
    assert settings.get().warm == "08:00-09:00@Europe/Berlin"
