"""The agent's reminders, the parts that need no OpenClaw: which cron jobs count, the wake-up
left in Scheduler (a moto server), the one-time claim of a run's answer, and how a run's answer
is found in a session's transcript (shapes as the pinned OpenClaw answers them)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from openclaw_bridge.reminders import (
    WAKE_LEAD_SECONDS,
    WAKE_MIN_AHEAD_SECONDS,
    WAKE_NAME,
    Claims,
    Job,
    Target,
    automation_results,
    bridge_session,
    leave_wake_up,
    owner_jobs,
)
from openclaw_deploy.runtime import resources, schedules

NOW = 1_796_044_000.0
DEPLOYMENT = "agent"


def _job(**fields: Any) -> dict[str, Any]:
    return {"enabled": True, "sessionTarget": "current", **fields}


# What `cron.list` answered after a reminder was asked for in session tg-123 (trimmed).
LISTING: dict[str, Any] = {
    "jobs": [
        _job(
            id="c6dd8682",
            name="call bank",
            owner={"agentId": "main", "sessionKey": "agent:main:tg-123"},
            sessionKey="agent:main:tg-123",
            schedule={"kind": "at", "at": "2026-11-30T13:11:10.000Z"},
            state={"nextRunAtMs": 1796044270000},
        ),
        _job(
            id="67540153",
            name="Memory Dreaming Promotion",
            sessionTarget="isolated",
            schedule={"kind": "cron", "expr": "0 3 * * *"},
            state={"nextRunAtMs": 1796094000000},
        ),
        _job(
            id="57aa8ae1",
            name="skill-collection-review-main",
            sessionTarget="isolated",
            state={"nextRunAtMs": 1796108773754},
        ),
        _job(id="36189731", name="heartbeat-main", enabled=False, sessionTarget="main"),
    ]
}


def test_only_jobs_the_owner_asked_for_in_one_of_our_sessions_count() -> None:
    jobs = owner_jobs(LISTING)
    assert jobs == [
        Job(id="c6dd8682", name="call bank", session="tg-123", next_run_ms=1796044270000)
    ]
    # A built-in job is never the owner's, even if it named a session.
    built_in = _job(
        id="x", name="Memory Dreaming Promotion", sessionKey="agent:main:tg-1", state={}
    )
    assert owner_jobs({"jobs": [built_in]}) == []


def test_a_session_key_maps_back_to_the_bridges_session() -> None:
    assert bridge_session("agent:main:tg-123") == "tg-123"
    assert bridge_session("agent:main:chat:cron:x") == "cron:x"  # our escaped reserved names
    assert bridge_session("cron:abc") is None


@pytest.fixture
def scheduler(aws_env: str) -> Any:
    client = boto3.client("scheduler")
    client.create_schedule_group(Name=schedules.group_name(DEPLOYMENT))
    return client


def _names() -> schedules.Names:
    return schedules.Names.of(DEPLOYMENT, account="123456789012", region="us-east-1")


def _wake_up(scheduler: Any) -> dict[str, Any]:
    answer: dict[str, Any] = scheduler.get_schedule(
        Name=WAKE_NAME, GroupName=schedules.group_name(DEPLOYMENT)
    )
    return answer


def test_one_wake_up_ahead_of_the_earliest_job_replaced_then_removed(scheduler: Any) -> None:
    due = NOW + 3600
    first = Job(id="a", name="call the bank", session="tg-123", next_run_ms=int(due * 1000))
    later = Job(id="b", name="later", session="web-x", next_run_ms=int((due + 60) * 1000))
    wake = leave_wake_up(
        scheduler,
        _names(),
        [first, later],
        target_of=lambda session: Target(channel="telegram", chat_id=123),
        now=NOW,
    )
    assert wake.at == datetime.fromtimestamp(due - WAKE_LEAD_SECONDS, UTC)
    schedule = _wake_up(scheduler)
    assert schedule["ScheduleExpression"] == "at(2026-11-30T14:04:40)"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["Target"]["RoleArn"] == _names().role_arn
    firing = schedules.Firing.from_event(json.loads(schedule["Target"]["Input"]))
    assert (firing.owner, firing.session, firing.chat_id, firing.to) == (
        "agent",
        "tg-123",
        123,
        "telegram",
    )

    # Left again (the next sleep): the same one, moved; a job due now is woken for at once.
    soon = Job(id="c", name="soon", session="tg-123", next_run_ms=int((NOW + 10) * 1000))
    again = leave_wake_up(
        scheduler, _names(), [soon], target_of=lambda s: Target(channel="web"), now=NOW
    )
    assert again.at == datetime.fromtimestamp(NOW + WAKE_MIN_AHEAD_SECONDS, UTC)
    listed = scheduler.list_schedules(GroupName=schedules.group_name(DEPLOYMENT))["Schedules"]
    assert [s["Name"] for s in listed] == [WAKE_NAME]
    assert json.loads(_wake_up(scheduler)["Target"]["Input"])["to"] == "web"

    # No job left: no wake-up either.
    assert (
        leave_wake_up(
            scheduler, _names(), [], target_of=lambda s: Target(channel="web"), now=NOW
        ).at
        is None
    )
    assert scheduler.list_schedules(GroupName=schedules.group_name(DEPLOYMENT))["Schedules"] == []
    # Removing one that is not there is fine.
    leave_wake_up(scheduler, _names(), [], target_of=lambda s: Target(channel="web"), now=NOW)


def test_a_runs_answer_is_claimed_once(aws_env: str) -> None:
    dynamodb = boto3.client("dynamodb")
    table = resources.DEDUPE.physical_name(DEPLOYMENT)
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    claims = Claims(dynamodb, table, clock=time.time)
    assert claims.claim("cron:a:1") is True
    assert claims.claim("cron:a:1") is False  # another look, or another task after a wake
    assert claims.claim("cron:a:2") is True
    claims.release("cron:a:2")  # its delivery failed: the next look tries again
    assert claims.claim("cron:a:2") is True


def test_a_runs_answer_is_found_in_the_transcript() -> None:
    at_ms = int(NOW * 1000)
    history = {
        "messages": [
            {"role": "user", "content": "remind me", "timestamp": at_ms - 60_000},
            {
                "role": "assistant",
                "content": [{"type": "text", "text": "I will."}],
                "timestamp": at_ms - 59_000,
            },
            {
                "role": "assistant",
                "content": [{"type": "text", "text": "Call the bank now."}],
                "model": "automation-result",
                "timestamp": at_ms,
                "openclawAutomation": {"kind": "cron", "jobId": "j1", "runId": "cron:j1:17"},
                "__openclaw": {"id": "m-1"},
            },
            {
                "role": "assistant",
                "content": [{"type": "text", "text": "an old one"}],
                "timestamp": at_ms - 3 * 86_400_000,
                "openclawAutomation": {"kind": "cron", "jobId": "j0", "runId": "cron:j0:1"},
            },
        ]
    }
    (result,) = automation_results(history, "tg-123", now=NOW + 5)
    assert (result.run_id, result.job_id, result.message_id, result.text) == (
        "cron:j1:17",
        "j1",
        "m-1",
        "Call the bank now.",
    )


def test_a_reminder_goes_where_its_session_talks() -> None:
    from openclaw_bridge.reminders import GatewaySocket, Reminders
    from openclaw_bridge.web import WebPoster
    from openclaw_deploy.runtime.contract import QueueMessage, ReplyTarget
    from openclaw_deploy.runtime.pairing import PairedUser

    paired = [PairedUser(user_id="7", name="o", chat_id=77, paired_at=NOW, session="tg-77-2")]
    reminders = Reminders(
        GatewaySocket("ws://127.0.0.1:9", "unused"),
        claims=None,  # type: ignore[arg-type] - not reached
        history=None,  # type: ignore[arg-type] - not reached
        web=WebPoster(None, None),
        telegram=None,
        paired=lambda: paired,
        scheduler=None,
        names=None,
        clock=lambda: NOW,
    )
    # The session's own messages say it best; then the pairing table; then its name.
    reminders.note(
        QueueMessage(
            channel="telegram",
            session="tg-5",
            message_id="m",
            text="hi",
            received_at=NOW,
            reply=ReplyTarget(chat_id=55),
        )
    )
    assert reminders.target_of("tg-5") == Target(channel="telegram", chat_id=55)
    assert reminders.target_of("tg-77-2") == Target(channel="telegram", chat_id=77)
    assert reminders.target_of("tg-123") == Target(channel="telegram", chat_id=123)
    assert reminders.target_of("web-abc") == Target(channel="web")
    assert reminders.leave_wake_up() is None  # no schedule group: nothing to leave
