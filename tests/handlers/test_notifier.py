"""The notifier against the moto server and the Telegram stand-in: an alarm is one message to
each of the owner's chats, its recovery one more, repeats nothing, and a flood is held back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from openclaw_deploy.handlers import notifier
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.pairing import Pairing
from tests.handlers.conftest import DEPLOYMENT, Stack

OWNER_CHAT = 4242
DESCRIPTION = (
    "Messages never answered: a message is in the dead-letter queue. Run "
    "`openclaw-deploy dlq list`."
)


def _alarm(state: str, name: str = "openclaw-test-dead-letters") -> dict[str, Any]:
    message = {
        "AlarmName": name,
        "AlarmDescription": DESCRIPTION,
        "NewStateValue": state,
        "OldStateValue": "OK" if state == "ALARM" else "ALARM",
        "NewStateReason": "Threshold Crossed",
    }
    return {"Records": [{"Sns": {"Subject": f'{state}: "{name}"', "Message": json.dumps(message)}}]}


@pytest.fixture
def paired(stack: Stack) -> Stack:
    table = resources.PAIRING.physical_name(DEPLOYMENT)
    pairing = Pairing(aws.dynamodb(), table)
    code = pairing.create_code()
    assert pairing.redeem(code.code, "77", "Owner", OWNER_CHAT) is not None
    return stack


def test_alarm_then_recovery_are_one_message_each(paired: Stack) -> None:
    first = notifier.handler(_alarm("ALARM"))
    again = notifier.handler(_alarm("ALARM"))  # SNS delivers at least once
    texts = paired.telegram.sent_texts(OWNER_CHAT)
    assert first["sent"] == ["alarm: openclaw-test-dead-letters"]
    assert again["sent"] == []
    assert len(texts) == 1
    assert "Messages never answered" in texts[0]
    assert "openclaw-deploy dlq list" in texts[0]

    notifier.handler(_alarm("OK"))
    notifier.handler(_alarm("OK"))
    texts = paired.telegram.sent_texts(OWNER_CHAT)
    assert len(texts) == 2
    assert "back to normal" in texts[1] and "Messages never answered" in texts[1]


def test_ok_without_an_alarm_told_says_nothing(paired: Stack) -> None:
    assert notifier.handler(_alarm("OK"))["sent"] == []
    assert paired.telegram.sent_texts(OWNER_CHAT) == []


def test_a_flood_of_alarms_is_not_a_flood_of_messages(paired: Stack) -> None:
    for index in range(20):
        notifier.handler(_alarm("ALARM", name=f"openclaw-test-alarm-{index}"))
    texts = paired.telegram.sent_texts(OWNER_CHAT)
    assert len(texts) == notifier.MAX_PER_HOUR + 1
    assert "openclaw-deploy status" in texts[-1]


def test_budget_alert_is_told_with_the_commands(paired: Stack) -> None:
    event = {
        "Records": [
            {
                "Sns": {
                    "Subject": "AWS Budgets: openclaw-test has exceeded your alert threshold",
                    "Message": "AWS Budget Notification\nYou requested that we alert you...",
                }
            }
        ]
    }
    assert notifier.handler(event)["sent"]
    (text,) = paired.telegram.sent_texts(OWNER_CHAT)
    assert "exceeded your alert threshold" in text
    assert "openclaw-deploy budget show" in text


def test_nobody_paired_sends_nothing(stack: Stack) -> None:
    assert notifier.handler(_alarm("ALARM"))["skipped"] == ["no paired Telegram chat"]
    assert stack.telegram.calls_to("sendMessage") == []
