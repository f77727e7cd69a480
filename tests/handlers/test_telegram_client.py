"""`runtime.telegram` against the stand-in Bot API: sending, splitting, escaping, errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openclaw_deploy.runtime.telegram import (
    MESSAGE_LIMIT,
    TelegramBot,
    TelegramError,
    escape_html,
    parse_command,
    split_message,
    text_length,
)
from tests.fakes.telegram_api import FakeTelegram, HtmlError, html_to_text, utf16_length


def test_send_text_escapes_and_splits_into_messages_telegram_accepts(
    telegram: FakeTelegram,
) -> None:
    bot = TelegramBot(telegram.token, api_url=telegram.url)
    paragraph = "if a < b && b > c then <b>not bold</b>\n\n"
    text = paragraph * 300  # 12,000 characters
    ids = bot.send_text(42, text, reply_to_message_id=7)
    assert len(ids) == len(set(ids)) == 3
    sent = telegram.sent_texts(42)
    assert all(utf16_length(piece) <= MESSAGE_LIMIT for piece in sent)
    assert "".join(sent).replace("\n", "") == text.replace("\n", "")
    calls = telegram.calls_to("sendMessage")
    assert calls[0].params["reply_parameters"]["message_id"] == 7
    assert all("reply_parameters" not in call.params for call in calls[1:])


def test_a_wrong_token_is_a_401_that_does_not_show_the_token(telegram: FakeTelegram) -> None:
    secret_token = "999:" + "s" * 35
    bot = TelegramBot(secret_token, api_url=telegram.url)
    with pytest.raises(TelegramError) as caught:
        bot.get_me()
    assert caught.value.status == 401
    assert secret_token not in str(caught.value)


def test_rate_limits_carry_retry_after(telegram: FakeTelegram) -> None:
    bot = TelegramBot(telegram.token, api_url=telegram.url)
    telegram.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(TelegramError) as caught:
        bot.send_message(1, "hi")
    assert (caught.value.status, caught.value.retry_after) == (429, 3)
    assert bot.send_message(1, "hi again") > 0, "only the next call fails"


def test_unescaped_html_is_refused_as_telegram_would(telegram: FakeTelegram) -> None:
    bot = TelegramBot(telegram.token, api_url=telegram.url)
    with pytest.raises(TelegramError, match="can't parse entities"):
        bot.send_message(1, "a < b")
    bot.send_message(1, escape_html("a < b & c > d"))
    assert telegram.sent_texts(1) == ["a < b & c > d"]


def test_unreachable_api_is_status_zero() -> None:
    bot = TelegramBot("1:x", api_url="http://127.0.0.1:9", timeout=2)
    with pytest.raises(TelegramError) as caught:
        bot.get_me()
    assert caught.value.status == 0


def test_webhook_setup_round_trip(telegram: FakeTelegram) -> None:
    bot = TelegramBot(telegram.token, api_url=telegram.url)
    bot.set_webhook("https://example.com/telegram", "s3cret_-")
    assert bot.get_webhook_info()["url"] == "https://example.com/telegram"
    bot.delete_webhook()
    assert bot.get_webhook_info()["url"] == ""


@given(st.text(max_size=12_000))
@settings(max_examples=200, deadline=None)
def test_split_message_keeps_every_visible_character_within_the_limit(text: str) -> None:
    pieces = split_message(text)
    assert pieces
    assert all(text_length(piece) <= MESSAGE_LIMIT for piece in pieces)
    if len(pieces) > 1:
        assert all(piece.strip() for piece in pieces), "no blank message in a split"
    # Only whitespace at the cuts may go.
    assert "".join("".join(pieces).split()) == "".join(text.split())


@given(st.text(max_size=300))
def test_escaped_text_parses_back_to_itself(text: str) -> None:
    assert html_to_text(escape_html(text)) == text


def test_the_stand_in_parses_html_like_telegram() -> None:
    assert html_to_text('<b>bold</b> &amp; <a href="x">link</a> &#33;') == "bold & link !"
    for bad in ("<b>open", "a & b", "<blink>x</blink>", "</b>", "x > y"):
        with pytest.raises(HtmlError):
            html_to_text(bad)


def test_parse_command() -> None:
    assert parse_command("/start") == ("start", "")
    assert parse_command("/Pair@MyBot  ab cd ") == ("pair", "ab cd")
    assert parse_command("/new\nrest") == ("new", "rest")
    assert parse_command("hello /start") is None
    assert parse_command("/") is None
    assert parse_command("/ünïcode") is None


def test_a_hard_cut_keeps_every_character() -> None:
    text = "x" * 5000 + "  indented"
    pieces = split_message(text)
    assert "".join(pieces) == text
    assert [len(p) for p in pieces] == [4096, len(text) - 4096]
