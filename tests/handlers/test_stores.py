"""The small stores the handlers share (history, pairing, settings, dedupe, queue ids), on moto;
time is injected where expiry matters (moto's TTL never deletes anything)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from openclaw_deploy.handlers._inbound import CLAIM_STALE_SECONDS, Dedupe
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.contract import QueueMessage, ReplyTarget
from openclaw_deploy.runtime.history import History, title_of
from openclaw_deploy.runtime.pairing import (
    OWNER_CODE_SECONDS,
    REQUEST_PERIOD,
    Pairing,
    PairingError,
    normalize_code,
)
from openclaw_deploy.runtime.queue import sqs_id
from openclaw_deploy.runtime.settings import AgentSettings, SettingsError, validate
from tests.handlers.conftest import DEPLOYMENT, Stack


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def table(kind: resources.Table) -> str:
    return kind.physical_name(DEPLOYMENT)


def telegram_message(update_id: int, text: str = "hi") -> QueueMessage:
    return QueueMessage(
        channel="telegram",
        session="tg-1",
        message_id=f"tg-{update_id}",
        text=text,
        received_at=1_764_140_000.123,
        reply=ReplyTarget(chat_id=1),
    )


def test_history_records_are_idempotent_and_answered_is_one_read(stack: Stack) -> None:
    history = History(aws.dynamodb(), table(resources.CONVERSATIONS))
    msg = telegram_message(5)
    history.record_user(msg)
    history.record_user(msg)  # the bridge records it again when it takes the message
    assert not history.is_answered(msg)
    history.record_reply(msg, "hello!")
    history.record_reply(msg, "hello!")
    assert history.is_answered(msg)
    page = history.page("tg-1")
    assert [(m.role, m.text, m.id) for m in page.messages] == [
        ("user", "hi", "tg-5"),
        ("assistant", "hello!", "tg-5"),
    ]
    assert page.messages[0].cursor == "1764140000123#tg-5#u"
    [conversation] = history.list_conversations()
    assert (conversation.title, conversation.channel) == ("hi", "telegram")


def test_an_interrupted_telegram_reply_is_remembered_apart_from_the_history(
    stack: Stack,
) -> None:
    history = History(aws.dynamodb(), table(resources.CONVERSATIONS))
    msg = telegram_message(6)
    assert history.draft(msg) == []
    history.record_user(msg)
    history.remember_draft(msg, [1001])
    history.remember_draft(msg, [1001, 1002])
    history.record_user(msg)  # the redelivered message is recorded again: the draft stays
    assert history.draft(msg) == [1001, 1002]
    assert [m.role for m in history.page("tg-1").messages] == ["user"]
    assert [c.session for c in history.list_conversations()] == ["tg-1"]
    history.forget_draft(msg)
    assert history.draft(msg) == []


def test_conversation_titles_are_one_short_line() -> None:
    assert title_of("  hello\n\nthere  ") == "hello there"
    long = title_of("word " * 50)
    assert len(long) == 80 and long.endswith("…")


def test_a_stranger_gets_one_code_per_period(stack: Stack) -> None:
    clock = Clock()
    pairing = Pairing(aws.dynamodb(), table(resources.PAIRING), clock=clock)
    first = pairing.request(777, "Grace", 777)
    assert first is not None
    assert pairing.request(777, "Grace", 777) is None
    clock.now += REQUEST_PERIOD + 1
    assert pairing.list_pending() == [], "an expired request is not shown"
    with pytest.raises(PairingError):
        pairing.approve(first.code)
    second = pairing.request(777, "Grace", 777)
    assert second is not None and second.code != first.code
    user = pairing.approve(second.code.lower())
    assert (user.user_id, user.name, user.session) == ("777", "Grace", "tg-777")


def test_owner_codes_work_once_and_expire(stack: Stack) -> None:
    clock = Clock()
    pairing = Pairing(aws.dynamodb(), table(resources.PAIRING), clock=clock)
    code = pairing.create_code()
    assert normalize_code(f" {code.code[:4]}-{code.code[4:].lower()} ") == code.code
    assert pairing.redeem(code.code, 1, "Ada", 1) is not None
    assert pairing.redeem(code.code, 2, "Eve", 2) is None
    late = pairing.create_code()
    clock.now += OWNER_CODE_SECONDS + 1
    assert pairing.redeem(late.code, 3, "Mallory", 3) is None
    assert [u.user_id for u in pairing.list_paired()] == ["1"]
    assert normalize_code("O0I1ABCD") is None, "ambiguous characters are never in a code"


def test_new_session_and_revoke(stack: Stack) -> None:
    pairing = Pairing(aws.dynamodb(), table(resources.PAIRING))
    assert pairing.new_session(9) is None
    pairing.redeem(pairing.create_code().code, 9, "Ada", 9)
    session = pairing.new_session(9)
    assert session is not None and session.startswith("tg-9-")
    assert pairing.get_user(9).session == session  # type: ignore[union-attr]
    assert pairing.revoke(9)
    assert not pairing.revoke(9)
    assert not pairing.is_paired(9)


def test_dedupe_claims(stack: Stack) -> None:
    clock = Clock()
    store = Dedupe(aws.dynamodb(), table(resources.DEDUPE), clock=clock)
    assert store.claim("tg#1") == "new"
    assert store.claim("tg#1") == "busy"
    clock.now += CLAIM_STALE_SECONDS + 1
    assert store.claim("tg#1") == "new", "a claim left by a dead invocation is taken over"
    store.done("tg#1")
    clock.now += 3600
    assert store.claim("tg#1") == "done"
    assert store.claim("tg#2") == "new"
    store.release("tg#2")
    assert store.claim("tg#2") == "new", "a released claim is processed afresh"
    assert store.once("notice#1", seconds=60)
    assert not store.once("notice#1", seconds=60)
    clock.now += 61
    assert store.once("notice#1", seconds=60)


def test_sqs_ids_pass_through_or_hash() -> None:
    assert sqs_id("tg-123") == "tg-123"
    hashed = sqs_id("ünïcode session")
    assert len(hashed) == 64 and hashed.isalnum()
    assert sqs_id("x" * 129) != "x" * 129


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"provider": "offline", "model": "demo"}, ("offline", "demo", 15)),
        (
            {"provider": "bedrock", "model": "us.anthropic.claude-sonnet-4-5-v1:0"},
            ("bedrock", "us.anthropic.claude-sonnet-4-5-v1:0", 15),
        ),
        ({"idleTimeoutMinutes": 240.0}, (None, None, 240)),
        ({}, (None, None, 15)),
        ({"provider": None}, (None, None, 15)),
    ],
)
def test_settings_validation_accepts(changes: dict[str, Any], expected: tuple[Any, ...]) -> None:
    merged = validate(changes, AgentSettings())
    assert (merged.provider, merged.model, merged.idle_timeout_minutes) == expected


@pytest.mark.parametrize(
    "changes",
    [
        {"model": "gpt-4.1"},
        {"idleTimeoutMinutes": float("inf")},
        {"idleTimeoutMinutes": None},
        {"provider": "openai-compatible", "model": "llama3"},
        {"provider": "openai-compatible", "model": "llama3", "baseUrl": "ftp://x"},
    ],
)
def test_settings_validation_refuses(changes: dict[str, Any]) -> None:
    with pytest.raises(SettingsError):
        validate(changes, AgentSettings())
