"""Telegram end to end through the local target, with a stand-in Bot API playing Telegram.

A stranger is held at the door with a pairing code and costs no task; `openclaw-deploy pair
approve` lets them in; fifty messages sent while the agent sleeps are all answered, in order,
by a real OpenClaw; a duplicate delivery is answered once.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.local import Local, cli, running_with_telegram, webhook_secret
from tests.fakes.telegram_api import FakeTelegram, fake_telegram

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

USER = 777001
MESSAGES = 50


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegram]:
    with fake_telegram() as api:
        yield api


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory, telegram: FakeTelegram) -> Iterator[Local]:
    workdir: Path = tmp_path_factory.mktemp("local-telegram")
    with running_with_telegram(workdir, telegram) as (deployment, answer):
        assert answer["telegram_bot"]  # getMe was asked of the stand-in
        yield deployment


def _agent_state(local: Local) -> str:
    result = cli(local.workdir, "status", "--json", timeout=60)
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout)["agent"]["state"])


def _texts(telegram: FakeTelegram) -> list[str]:
    """What the user saw: every message sent to them and every edit of one, in order."""
    from tests.fakes.telegram_api import html_to_text

    calls = [c for c in telegram.calls if c.method in ("sendMessage", "editMessageText")]
    return [
        html_to_text(str(c.params.get("text", "")))
        if c.params.get("parse_mode") == "HTML"
        else str(c.params.get("text", ""))
        for c in calls
        if int(c.params.get("chat_id", 0)) == USER
    ]


def _wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def test_stranger_gets_a_code_and_no_task_then_is_approved(
    local: Local, telegram: FakeTelegram
) -> None:
    webhook = f"{local.api_url}/telegram"
    secret = webhook_secret(local)

    forged = telegram.deliver(webhook, telegram.text_update("hi", user_id=USER), "wrong-secret")
    assert forged[0] in (401, 403)

    status, _ = telegram.deliver(webhook, telegram.text_update("hi there", user_id=USER), secret)
    assert status == 200
    _wait_for(
        lambda: any(re.search(r"\b[A-Z2-9]{8}\b", t) for t in telegram.sent_texts(USER)),
        20,
        "a pairing code",
    )
    code = next(
        m.group(0) for t in telegram.sent_texts(USER) if (m := re.search(r"\b[A-Z2-9]{8}\b", t))
    )
    assert _agent_state(local) == "Idle"  # a stranger never wakes the agent

    listed = cli(local.workdir, "pair", "list", "--json", timeout=60)
    assert code in listed.stdout
    approved = cli(local.workdir, "pair", "approve", code, "--json", timeout=60)
    assert approved.returncode == 0, approved.stderr
    assert json.loads(approved.stdout)["user"]["userId"] == str(USER)

    again = cli(local.workdir, "pair", "approve", code, timeout=60)
    assert again.returncode == 9  # a used code is not found, with a clear error
    assert "No pending request" in again.stderr


def test_fifty_cold_messages_are_all_answered_in_order_and_duplicates_once(
    local: Local, telegram: FakeTelegram
) -> None:
    webhook = f"{local.api_url}/telegram"
    secret = webhook_secret(local)
    updates = [
        telegram.text_update(f"message number {i:02d}", user_id=USER) for i in range(MESSAGES)
    ]
    for update in updates:
        status, _ = telegram.deliver(webhook, update, secret)
        assert status == 200
    duplicate_status, _ = telegram.deliver(webhook, updates[7], secret)  # Telegram retried one
    assert duplicate_status == 200

    def answered() -> list[int]:
        found = []
        for text in _texts(telegram):
            match = re.search(r"You said: message number (\d\d)", text)
            if match:
                found.append(int(match.group(1)))
        return found

    _wait_for(lambda: len(set(answered())) == MESSAGES, 400, f"{MESSAGES} replies")
    replies = answered()
    firsts = sorted(set(replies), key=replies.index)
    assert firsts == list(range(MESSAGES))  # in the order they were sent
    time.sleep(3)  # a duplicate answer would come right behind its original
    sent = [t for t in telegram.sent_texts(USER) if "You said: message number 07" in t]
    assert len(sent) <= 1  # at most one message carries it (the rest are edits of that one)
    edits = [t for t in _texts(telegram) if "You said: message number 07" in t]
    assert len(set(edits)) == 1
