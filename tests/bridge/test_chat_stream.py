"""The bridge's Slack and Discord reply streams against the two API stand-ins: one message edited
as the reply grows, the final text split to the channel's limit, rate limits honoured."""

from __future__ import annotations

import time

import pytest

from openclaw_bridge.chat_out import DiscordStream, SlackStream
from openclaw_bridge.telegram_out import DeliveryError
from openclaw_deploy.runtime.discord import DiscordClient
from openclaw_deploy.runtime.slack import SlackClient
from tests.fakes.discord_api import fake_discord
from tests.fakes.slack_api import fake_slack

LONG = " ".join(f"word{i:04d}" for i in range(1000))  # 8,999 characters


def _wait(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    pytest.fail(f"no {what} within 10 s")


def test_slack_reply_is_one_message_in_the_thread_edited_then_split() -> None:
    with fake_slack() as slack:
        stream = SlackStream(
            SlackClient(slack.token, api_url=slack.url), "D1", "171.000001", edit_interval=0.05
        )
        stream.start()
        stream.delta("Hello")
        _wait(lambda: slack.calls_to("chat.postMessage"), "preview")
        stream.delta(" there & <you>")
        _wait(lambda: slack.calls_to("chat.update"), "edit")
        stream.finish("Hello there & <you>\n\n" + LONG)
        posts = slack.calls_to("chat.postMessage")
        assert all(p.params["thread_ts"] == "171.000001" for p in posts)
        shown = slack.shown("D1")
        assert len(shown) == len(posts) == 3  # 9,000 characters in pieces of at most 3,900
        assert shown[0].startswith("Hello there &amp; &lt;you&gt;")
        assert " ".join(shown).split()[-1] == "word0999"


def test_slack_rate_limit_on_the_final_text_is_waited_out() -> None:
    slept: list[float] = []
    with fake_slack() as slack:
        stream = SlackStream(
            SlackClient(slack.token, api_url=slack.url), "D1", "1.1", sleep=slept.append
        )
        slack.fail_next("chat.postMessage", 429, retry_after=2)
        stream.finish("the answer")
        assert slept == [2]
        assert slack.shown("D1") == ["the answer"]


def test_discord_answer_replaces_the_deferred_response_and_follows_up() -> None:
    with fake_discord() as discord:
        interaction = discord.interaction("ask", "hi")
        token = interaction["token"]
        stream = DiscordStream(
            DiscordClient(api_url=discord.url), discord.application_id, token, edit_interval=0.05
        )
        stream.start()
        stream.delta(LONG[:2500])
        _wait(lambda: discord.answer(token), "preview")
        assert len(discord.responses[token]) == 1  # the preview is the first piece only
        stream.finish(LONG)
        pieces = discord.responses[token]
        assert len(pieces) == 5
        assert all(len(p) <= 2000 for p in pieces)
        assert " ".join(pieces).split() == LONG.split()
        assert all("Authorization" not in str(c.body) for c in discord.calls)


def test_discord_gone_token_is_not_retried_but_an_outage_is() -> None:
    slept: list[float] = []
    with fake_discord() as discord:
        stream = DiscordStream(
            DiscordClient(api_url=discord.url),
            discord.application_id,
            "expired",
            sleep=slept.append,
        )
        stream.finish("too late")  # 404 Unknown Webhook: nothing to retry, no error
        assert slept == []
        interaction = discord.interaction("ask", "hi")
        stream = DiscordStream(
            DiscordClient(api_url=discord.url),
            discord.application_id,
            interaction["token"],
            sleep=slept.append,
        )
        for _ in range(5):
            discord.fail_next("PATCH", 503)
        with pytest.raises(DeliveryError):
            stream.finish("later")
        assert len(slept) == 4
