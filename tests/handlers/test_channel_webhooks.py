"""Slack's Events API and Discord's interactions endpoint, against a moto server and the two
API stand-ins: signatures, stale timestamps and replays refused (and no task started), Slack's
URL check and retries, pairing, twenty events at once while the agent sleeps, Discord's PING and
slash commands."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openclaw_deploy.handlers import discord_interactions, slack_events
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.discord import DiscordApp
from openclaw_deploy.runtime.pairing import Pairing
from tests.conftest import REGION
from tests.fakes.discord_api import FakeDiscord, fake_discord
from tests.fakes.slack_api import FakeSlack, fake_slack
from tests.handlers.conftest import DEPLOYMENT, Stack
from tests.handlers.events import http_event

SLACK_USER = "U0ADA0001"
DISCORD_USER = "800000000000004242"


@pytest.fixture
def slack(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    with fake_slack() as api:
        ssm = boto3.client("ssm", region_name=REGION)
        for secret, value in (
            (resources.SLACK_BOT_TOKEN, api.token),
            (resources.SLACK_SIGNING_SECRET, api.signing_secret),
        ):
            ssm.put_parameter(
                Name=secret.parameter_name(DEPLOYMENT), Value=value, Type="SecureString"
            )
        monkeypatch.setenv(resources.ENV_SLACK_API_URL, api.url)
        yield api


@pytest.fixture
def discord(stack: Stack) -> Iterator[FakeDiscord]:
    with fake_discord() as api:
        app = DiscordApp(application_id=api.application_id, public_key=api.public_key)
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name=resources.DISCORD_APP.parameter_name(DEPLOYMENT),
            Value=app.to_json(),
            Type="SecureString",
        )
        yield api


def pairing() -> Pairing:
    return Pairing(aws.dynamodb(), resources.PAIRING.physical_name(DEPLOYMENT))


def pair(user: str) -> None:
    channel = user.partition(":")[0]
    assert pairing().redeem(pairing().create_code().code, user, "Ada", 0, channel=channel)


def slack_call(
    slack: FakeSlack,
    payload: dict[str, Any],
    *,
    timestamp: int | None = None,
    secret: str | None = None,
    retry: int | None = None,
) -> dict[str, Any]:
    raw = json.dumps(payload)
    headers = slack.signed_headers(raw, timestamp=timestamp, secret=secret)
    if retry:
        headers["X-Slack-Retry-Num"] = str(retry)
    return slack_events.handler(
        http_event("POST", "/slack/events", raw_body=raw, headers=headers, sub=None)
    )


def discord_call(
    discord: FakeDiscord,
    interaction: dict[str, Any],
    *,
    timestamp: int | None = None,
    key: Ed25519PrivateKey | None = None,
) -> dict[str, Any]:
    raw = json.dumps(interaction)
    headers = discord.signed_headers(raw, timestamp=timestamp, key=key)
    return discord_interactions.handler(
        http_event("POST", "/discord/interactions", raw_body=raw, headers=headers, sub=None)
    )


def _body(answer: dict[str, Any]) -> Any:
    return json.loads(answer["body"]) if answer.get("body") else None


# -- Slack ----------------------------------------------------------------------------------------


def test_slack_checks_the_request_url_with_a_challenge(slack: FakeSlack) -> None:
    answer = slack_call(slack, {"type": "url_verification", "challenge": "c-123", "token": "x"})
    assert answer["statusCode"] == 200
    assert _body(answer) == {"challenge": "c-123"}


def test_slack_refuses_forged_stale_and_unsigned_requests_and_starts_nothing(
    slack: FakeSlack, stack: Stack
) -> None:
    pair(f"slack:{SLACK_USER}")
    event = slack.message_event("hello", user=SLACK_USER)
    stale = int(time.time()) - 6 * 60
    for answer in (
        slack_call(slack, event, secret="f" * 32),
        slack_call(slack, event, timestamp=stale),
        slack_call(slack, event, timestamp=int(time.time()) + 6 * 60),
        slack_events.handler(
            http_event("POST", "/slack/events", raw_body=json.dumps(event), sub=None)
        ),
    ):
        assert answer["statusCode"] == 401
    assert stack.queue_depth() == 0
    assert stack.run_task_calls == []
    assert stack.item_count(resources.DEDUPE) == 0


def test_a_replayed_slack_event_is_answered_once(slack: FakeSlack, stack: Stack) -> None:
    pair(f"slack:{SLACK_USER}")
    event = slack.message_event("what is 2+2?", user=SLACK_USER)
    assert slack_call(slack, event)["statusCode"] == 200
    for retry in (1, 2, 3):
        assert slack_call(slack, event, retry=retry)["statusCode"] == 200
    messages = stack.drain()
    assert [m.text for m in messages] == ["what is 2+2?"]
    msg = messages[0]
    assert msg.channel == "slack"
    assert msg.reply.conversation == event["event"]["channel"]
    assert msg.reply.thread == event["event"]["ts"]
    assert len(stack.run_task_calls) == 1
    # "waking up", once, in the message's thread
    notices = slack.calls_to("chat.postMessage")
    assert len(notices) == 1
    assert "Waking your agent" in notices[0].params["text"]
    assert notices[0].params["thread_ts"] == event["event"]["ts"]


def test_a_slack_stranger_gets_a_code_never_a_task_and_the_owner_approves(
    slack: FakeSlack, stack: Stack
) -> None:
    for text in ("hi", "hello again"):
        assert slack_call(slack, slack.message_event(text, user="U0STRANGE"))["statusCode"] == 200
    assert stack.queue_depth() == 0
    assert stack.run_task_calls == []
    codes = slack.calls_to("chat.postMessage")
    assert len(codes) == 1  # once per period
    [request] = pairing().list_pending()
    assert request.channel == "slack"
    assert request.code in codes[0].params["text"]
    user = pairing().approve(request.code)
    assert (user.user_id, user.channel, user.session) == (
        "slack:U0STRANGE",
        "slack",
        "slack-U0STRANGE",
    )
    assert slack_call(slack, slack.message_event("now?", user="U0STRANGE"))["statusCode"] == 200
    assert [m.session for m in stack.drain()] == ["slack-U0STRANGE"]


def test_slack_mentions_reach_the_agent_without_the_mention_and_bots_are_ignored(
    slack: FakeSlack, stack: Stack
) -> None:
    pair(f"slack:{SLACK_USER}")
    mention = slack.message_event("summarise this", user=SLACK_USER, mention=True, channel="C0GEN")
    bot = slack.message_event("a bot's post", user=SLACK_USER)
    bot["event"]["bot_id"] = "B0OTHER"
    edit = slack.message_event("edited", user=SLACK_USER)
    edit["event"]["subtype"] = "message_changed"
    for payload in (mention, bot, edit):
        assert slack_call(slack, payload)["statusCode"] == 200
    [msg] = stack.drain()
    assert msg.text == "summarise this"
    assert msg.reply.conversation == "C0GEN"


def test_twenty_slack_events_at_once_while_idle_start_one_task(
    slack: FakeSlack, stack: Stack, eager_switching: None
) -> None:
    pair(f"slack:{SLACK_USER}")
    events = [slack.message_event(f"message {i}", user=SLACK_USER) for i in range(20)]
    statuses: list[int] = []

    def send(event: dict[str, Any]) -> None:
        statuses.append(slack_call(slack, event)["statusCode"])

    threads = [threading.Thread(target=send, args=(e,)) for e in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * 20
    assert len(stack.run_task_calls) == 1
    assert sorted(m.text for m in stack.drain()) == sorted(f"message {i}" for i in range(20))


def test_slack_without_an_app_answers_404(stack: Stack) -> None:
    raw = json.dumps({"type": "url_verification", "challenge": "x"})
    answer = slack_events.handler(
        http_event("POST", "/slack/events", raw_body=raw, headers={}, sub=None)
    )
    assert answer["statusCode"] == 404


# -- Discord --------------------------------------------------------------------------------------


def test_discord_ping_is_answered_and_bad_signatures_are_refused(
    discord: FakeDiscord, stack: Stack
) -> None:
    ping = {"id": "1", "type": 1, "application_id": discord.application_id, "token": "t"}
    answer = discord_call(discord, ping)
    assert answer["statusCode"] == 200
    assert _body(answer) == {"type": 1}
    pair(f"discord:{DISCORD_USER}")
    ask = discord.interaction("ask", "hello", user_id=DISCORD_USER)
    for refused in (
        discord_call(discord, ask, key=Ed25519PrivateKey.generate()),
        discord_call(discord, ask, timestamp=int(time.time()) - 6 * 60),
        discord_interactions.handler(
            http_event("POST", "/discord/interactions", raw_body=json.dumps(ask), sub=None)
        ),
    ):
        assert refused["statusCode"] == 401
    assert stack.queue_depth() == 0
    assert stack.run_task_calls == []


def test_discord_ask_is_deferred_enqueued_once_and_wakes_one_task(
    discord: FakeDiscord, stack: Stack
) -> None:
    pair(f"discord:{DISCORD_USER}")
    ask = discord.interaction("ask", "what is 2+2?", user_id=DISCORD_USER)
    first = discord_call(discord, ask)
    assert first["statusCode"] == 200
    assert _body(first) == {"type": 5}
    replay = discord_call(discord, ask)
    assert _body(replay)["type"] == 4  # told it was taken; not enqueued again
    [msg] = stack.drain()
    assert (msg.channel, msg.text) == ("discord", "what is 2+2?")
    assert msg.reply.conversation == discord.application_id
    assert msg.reply.thread == ask["token"]
    assert len(stack.run_task_calls) == 1


def test_a_discord_stranger_gets_a_private_code_and_no_task(
    discord: FakeDiscord, stack: Stack
) -> None:
    answer = _body(discord_call(discord, discord.interaction("ask", "let me in")))
    assert answer["type"] == 4
    assert answer["data"]["flags"] == 64
    [request] = pairing().list_pending()
    assert request.channel == "discord"
    assert request.code in answer["data"]["content"]
    assert stack.queue_depth() == 0
    assert stack.run_task_calls == []


def test_discord_status_and_new_are_answered_at_once(discord: FakeDiscord, stack: Stack) -> None:
    pair(f"discord:{DISCORD_USER}")
    status = _body(discord_call(discord, discord.interaction("status", user_id=DISCORD_USER)))
    assert status["type"] == 4
    assert status["data"]["content"].startswith("Agent: Idle")
    before = pairing().get_user(f"discord:{DISCORD_USER}")
    fresh = _body(discord_call(discord, discord.interaction("new", user_id=DISCORD_USER)))
    assert "Fresh conversation" in fresh["data"]["content"]
    after = pairing().get_user(f"discord:{DISCORD_USER}")
    assert before is not None and after is not None
    assert after.session != before.session
    assert after.session.startswith(f"discord-{DISCORD_USER}-")
    assert stack.run_task_calls == []


# -- the web app's list of channels ----------------------------------------------------------------


def test_the_api_lists_connected_channels_with_their_paired_people(stack: Stack) -> None:
    from openclaw_deploy.handlers import api

    def listed() -> dict[str, dict[str, Any]]:
        answer = api.handler(http_event("GET", "/api/channels"))
        assert answer["statusCode"] == 200
        return {c["channel"]: c for c in _body(answer)["channels"]}

    before = listed()
    assert before["telegram"]["connected"] is True  # the stack's bot token is named
    assert (before["slack"]["connected"], before["discord"]["connected"]) == (False, False)
    pairing().connect_channel("slack", "Team (bot user U0BOT)")
    pair(f"slack:{SLACK_USER}")
    after = listed()
    assert after["slack"] == {
        "channel": "slack",
        "identity": "Team (bot user U0BOT)",
        "connectedAt": pytest.approx(time.time(), abs=60),
        "connected": True,
        "paired": 1,
    }
    pairing().disconnect_channel("slack")
    assert listed()["slack"]["connected"] is False


def test_a_slack_user_pairs_with_the_owners_code(slack: FakeSlack, stack: Stack) -> None:
    code = pairing().create_code().code
    assert slack_call(slack, slack.message_event("pair WRONGCOD", user="U0OWNER"))
    assert (
        slack_call(slack, slack.message_event(f"pair {code}", user="U0OWNER"))["statusCode"] == 200
    )
    texts = [c.params["text"] for c in slack.calls_to("chat.postMessage")]
    assert texts[-2:] == ["That code is not valid or has expired. Ask the owner for a new one.",
                          "✅ Paired. Write me anything."]  # fmt: skip
    user = pairing().get_user("slack:U0OWNER")
    assert user is not None
    assert user.channel == "slack"
    assert stack.run_task_calls == []


def test_the_web_app_revokes_a_slack_user(stack: Stack) -> None:
    from openclaw_deploy.handlers import api

    pair(f"slack:{SLACK_USER}")
    answer = api.handler(http_event("DELETE", f"/api/pairing/slack%3A{SLACK_USER}"))
    assert answer["statusCode"] == 204
    assert pairing().get_user(f"slack:{SLACK_USER}") is None
