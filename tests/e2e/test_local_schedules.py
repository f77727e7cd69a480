"""Schedules end to end through the local target: a schedule made with the CLI is fired by the
local cloud's own clock (moto never fires one), through the scheduler's role (IAM enforced), into
the same schedule function; it wakes the sleeping agent, and the real OpenClaw's answer reaches
the owner's Telegram chat (the stand-in) or the web history, in a conversation named after it.
One local target for every assertion."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import pytest

from openclaw_deploy.runtime import resources
from tests.e2e.drills import token
from tests.e2e.local import Local, cli, running_with_telegram, webhook_secret
from tests.fakes.telegram_api import FakeTelegram, fake_telegram

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

USER = 778001
NAME = "agent"  # the local target's deployment


def _wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegram]:
    with fake_telegram() as api:
        yield api


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory, telegram: FakeTelegram) -> Iterator[Local]:
    workdir: Path = tmp_path_factory.mktemp("local-schedules")
    with running_with_telegram(workdir, telegram) as (deployment, _):
        # The owner pairs their chat: a stranger's code, approved with the CLI.
        webhook = f"{deployment.api_url}/telegram"
        telegram.deliver(
            webhook, telegram.text_update("hi", user_id=USER), webhook_secret(deployment)
        )
        code_of: Callable[[], re.Match[str] | None] = lambda: next(  # noqa: E731
            (m for t in telegram.sent_texts(USER) if (m := re.search(r"\b[A-Z2-9]{8}\b", t))), None
        )
        _wait_for(code_of, 20, "a pairing code")
        match = code_of()
        assert match is not None
        approved = cli(workdir, "pair", "approve", match.group(0), timeout=60)
        assert approved.returncode == 0, approved.stderr
        yield deployment


def _seen_by_owner(telegram: FakeTelegram) -> list[str]:
    """Every message sent to the owner's chat and every edit of one, as plain text."""
    from tests.fakes.telegram_api import html_to_text

    return [
        html_to_text(str(c.params.get("text", "")))
        if c.params.get("parse_mode") == "HTML"
        else str(c.params.get("text", ""))
        for c in telegram.calls
        if c.method in ("sendMessage", "editMessageText")
        and int(c.params.get("chat_id", 0)) == USER
    ]


def _dynamodb(local: Local) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=local.state()["moto_url"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _add(local: Local, *args: str) -> str:
    result = cli(local.workdir, "schedule", "add", *args, "--tz", "Europe/Berlin", "--json")
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout)["schedule"]["id"])


def test_a_schedule_fires_on_the_local_clock_and_answers_on_telegram_and_the_web(
    local: Local, telegram: FakeTelegram
) -> None:
    to_telegram = _add(
        local, "every weekday at 08:00", "--say", "scheduled hello telegram", "--to", "telegram"
    )
    to_web = _add(
        local, "every day at 07:30", "--say", "scheduled hello web", "--to", "web",
        "--title", "Morning digest",
    )  # fmt: skip
    status = cli(local.workdir, "status", "--json", timeout=60)
    assert json.loads(status.stdout)["agent"]["state"] == "Idle"  # nothing fired yet

    for schedule_id in (to_telegram, to_web):
        ran = cli(local.workdir, "schedule", "run", schedule_id, "--json", timeout=60)
        assert ran.returncode == 0, ran.stderr

    # The Telegram one: the real OpenClaw's answer, in the owner's chat (sent, then edited as
    # it streams).
    _wait_for(
        lambda: any("You said: scheduled hello telegram" in t for t in _seen_by_owner(telegram)),
        240,
        "the scheduled answer on Telegram",
    )

    # The web one: its own conversation, named after the schedule, with the answer.
    db = _dynamodb(local)
    table = resources.CONVERSATIONS.physical_name(NAME)

    def web_answer() -> bool:
        items = db.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"S#sched-{to_web}"}},
        )["Items"]
        return any(
            i["role"]["S"] == "assistant" and "You said: scheduled hello web" in i["text"]["S"]
            for i in items
        )

    _wait_for(web_answer, 120, "the scheduled answer in the web history")
    index = db.get_item(
        TableName=table, Key={"pk": {"S": "CONVERSATIONS"}, "sk": {"S": f"sched-{to_web}"}}
    )["Item"]
    assert index["title"]["S"] == "⏰ Morning digest"

    def listed() -> dict[str, dict[str, Any]]:
        result = cli(local.workdir, "schedule", "list", "--json", timeout=60)
        assert result.returncode == 0, result.stderr
        return {s["id"]: s for s in json.loads(result.stdout)["schedules"]}

    # The bridge marks a firing answered right after it delivered and recorded the answer.
    _wait_for(
        lambda: {s["outcome"] for s in listed().values()} == {"answered"}, 30, "both answered"
    )
    schedules = listed()
    assert set(schedules) == {to_telegram, to_web}  # the one-off runs are gone
    for schedule_id in (to_telegram, to_web):
        assert schedules[schedule_id]["runs"] == 1
        assert schedules[schedule_id]["outcome"] == "answered"  # the bridge delivered it
        assert schedules[schedule_id]["next_run"].endswith(("+01:00", "+02:00"))  # Berlin

    # The web app's Schedules page shows the same, through the API (the api role's grants).
    async def page() -> dict[str, Any]:
        async with aiohttp.ClientSession() as http:
            bearer = await token(http, local.api_url)
            answer = await http.get(
                f"{local.api_url}/api/schedules", headers={"Authorization": f"Bearer {bearer}"}
            )
            assert answer.status == 200, await answer.text()
            shown: dict[str, Any] = await answer.json()
            return shown

    shown = {s["id"]: s for s in asyncio.run(page())["schedules"]}
    assert set(shown) == {to_telegram, to_web}
    assert shown[to_web]["title"] == "Morning digest"
    assert {s["outcome"] for s in shown.values()} == {"answered"}


def _reminder_request(at: float) -> str:
    """What the owner types in Telegram: a reminder request, with the offline model's script
    making the real OpenClaw record it with its own automations tool (reached through Tool
    Search's `tool_call`, as a real model reaches it)."""
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
    job = {
        "name": "water the ficus",
        "schedule": {"kind": "at", "at": when},
        "payload": {"kind": "agentTurn", "message": "Remind the owner to water the ficus."},
    }
    script = {
        "tool": {
            "name": "tool_call",
            "arguments": {"id": "automations", "args": {"action": "add", "job": job}},
        },
        "reply": "I will remind you to water the ficus.",
    }
    return f"remind me later to water the ficus <<offline:{json.dumps(script)}>>"


def test_the_agents_own_reminder_wakes_it_and_reaches_the_owner_once(
    local: Local, telegram: FakeTelegram
) -> None:
    """The owner asks in Telegram; OpenClaw records its own cron job; the agent is put to sleep
    before it is due and leaves its wake-up in Scheduler (the task role's grants, IAM enforced);
    the local cloud fires it, the agent wakes, OpenClaw runs the job and the bridge forwards its
    answer to the owner's chat and the web history, once. (About four minutes: the job runs on
    OpenClaw's own clock, after one sleep and one cold start.)"""
    due = time.time() + 210
    webhook = f"{local.api_url}/telegram"
    telegram.deliver(
        webhook,
        telegram.text_update(_reminder_request(due), user_id=USER),
        webhook_secret(local),
    )
    _wait_for(
        lambda: any("I will remind you to water the ficus" in t for t in _seen_by_owner(telegram)),
        150,
        "the agent's answer to the reminder request",
    )
    stopped = cli(local.workdir, "stop", "--json", timeout=180)
    assert stopped.returncode == 0, stopped.stderr
    asleep_at = time.time()
    assert asleep_at < due - 60, "the agent must sleep before the reminder is due"

    # While it sleeps: one wake-up of the agent's own, ahead of the job, listed as the agent's.
    listed = cli(local.workdir, "schedule", "list", "--json", timeout=60)
    assert listed.returncode == 0, listed.stderr
    wake_ups = [s for s in json.loads(listed.stdout)["schedules"] if s["kind"] == "agent"]
    assert [s["id"] for s in wake_ups] == ["agent-wake"]
    _wait_for(
        lambda: (
            json.loads(cli(local.workdir, "status", "--json", timeout=60).stdout)["agent"]["state"]
            == "Idle"
        ),
        60,
        "the agent asleep",
    )

    before = len(_seen_by_owner(telegram))

    def reminders() -> list[str]:
        return [t for t in _seen_by_owner(telegram)[before:] if "water the ficus" in t]

    _wait_for(reminders, due - time.time() + 120, "the reminder")
    # It came after the sleep, from the job's run (the demo model quotes what it was given).
    assert time.time() >= due - 5
    # Exactly once: later looks of the bridge (every few seconds) send nothing more.
    time.sleep(15)
    assert len(reminders()) == 1

    db = _dynamodb(local)
    items = db.query(
        TableName=resources.CONVERSATIONS.physical_name(NAME),
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"S#tg-{USER}"}},
    )["Items"]
    recorded = [i for i in items if i["message_id"]["S"].startswith("cron-")]
    assert len(recorded) == 1
    assert "water the ficus" in recorded[0]["text"]["S"]
    # The wake-up deleted itself after it fired; no job left, so none is left behind.
    listed = cli(local.workdir, "schedule", "list", "--json", timeout=60)
    assert not [s for s in json.loads(listed.stdout)["schedules"] if s["kind"] == "agent"]
