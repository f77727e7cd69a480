"""Streaming a reply into a Telegram chat, against the stand-in Bot API (which checks HTML and
lengths the way Telegram does). Intervals are shortened; the rules are the same."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest

from openclaw_bridge.telegram_out import DeliveryError, TelegramStream
from openclaw_deploy.runtime.telegram import TelegramBot
from tests.fakes.telegram_api import FakeTelegram, fake_telegram, html_to_text

CHAT = 4242
EDIT = 0.3
TYPING = 0.4


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with fake_telegram() as api:
        yield api


def make_stream(telegram: FakeTelegram, **kwargs: float) -> TelegramStream:
    bot = TelegramBot(telegram.token, api_url=telegram.url)
    return TelegramStream(
        bot,
        CHAT,
        reply_to=7,
        edit_interval=kwargs.get("edit", EDIT),
        typing_interval=kwargs.get("typing", TYPING),
    )


def shown_texts(telegram: FakeTelegram) -> dict[int, str]:
    """Each message's text as the chat shows it now (sent, then edited)."""
    shown: dict[int, str] = {}
    sent_ids = iter(range(1000, 10_000))
    for call in telegram.calls:
        if call.method == "sendMessage":
            shown[next(sent_ids)] = html_to_text(call.params["text"])
        elif call.method == "editMessageText":
            shown[int(call.params["message_id"])] = html_to_text(call.params["text"])
    return shown


def test_typing_while_thinking_then_paced_edits_and_the_final_text(telegram: FakeTelegram) -> None:
    stream = make_stream(telegram)
    stream.start()
    time.sleep(1.0)  # thinking: only the typing indicator
    words = [f"word{i} " for i in range(30)]
    for word in words:
        stream.delta(word)
        time.sleep(0.05)
    stream.finish("".join(words))

    typing = [c.at for c in telegram.calls_to("sendChatAction")]
    assert len(typing) >= 3, "typing repeats while the agent thinks"
    assert all(b - a >= TYPING - 0.05 for a, b in itertools.pairwise(typing))
    writes = [c for c in telegram.calls if c.method in ("sendMessage", "editMessageText")]
    assert writes[0].method == "sendMessage"
    assert writes[0].params["reply_parameters"]["message_id"] == 7
    assert len(writes) >= 3, "the message grows while the reply streams"
    gaps = [b.at - a.at for a, b in itertools.pairwise(writes)]
    assert min(gaps) >= EDIT - 0.05, f"edits closer than the interval: {gaps}"
    assert shown_texts(telegram) == {1000: "".join(words).strip()}


def test_a_long_reply_is_split_at_4096_and_html_is_escaped(telegram: FakeTelegram) -> None:
    paragraph = "Compare a < b && c > d, then <b>this is not a tag</b>. " * 20
    text = "**Bold start**\n\n" + "\n\n".join([paragraph] * 6)
    assert len(text) > 4096
    stream = make_stream(telegram, edit=0.05)
    stream.start()
    stream.delta(text)
    stream.finish(text)

    shown = list(shown_texts(telegram).values())
    assert len(shown) >= 2
    assert all(len(piece) <= 4096 for piece in shown)
    assert shown[0].startswith("Bold start"), "Markdown became Telegram HTML"
    assert "<b>this is not a tag</b>" in shown[1], "text that looks like HTML stays text"
    assert " ".join(" ".join(shown).split()) == " ".join(text.replace("**", "").split())


def test_retry_after_is_honoured_for_the_final_reply(telegram: FakeTelegram) -> None:
    telegram.fail_next("sendMessage", 429, retry_after=1)
    stream = make_stream(telegram)
    stream.start()
    started = time.monotonic()
    stream.finish("the whole answer")

    sends = telegram.calls_to("sendMessage")
    assert len(sends) == 2
    assert sends[1].at - sends[0].at >= 1.0
    assert time.monotonic() - started >= 1.0
    assert telegram.sent_texts(CHAT)[-1] == "the whole answer"  # the first was refused


def test_unparseable_html_falls_back_to_plain_text(telegram: FakeTelegram) -> None:
    telegram.fail_next("sendMessage", 400, "Bad Request: can't parse entities: unclosed tag")
    stream = make_stream(telegram)
    stream.start()
    stream.finish("**fine** markdown")
    assert telegram.sent_texts(CHAT)[-1] == "**fine** markdown"


def test_a_passing_failure_means_redelivery_and_a_refusal_does_not(telegram: FakeTelegram) -> None:
    telegram.fail_next("sendMessage", 500, times=10)
    stream = make_stream(telegram)
    stream._sleep = lambda _seconds: None  # type: ignore[method-assign]
    stream.start()
    with pytest.raises(DeliveryError):
        stream.finish("answer")

    telegram.reset()
    telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    blocked = make_stream(telegram)
    blocked.start()
    blocked.finish("answer")  # nothing to retry: logged, and the message is settled
    assert len(telegram.calls_to("sendMessage")) == 1


def test_a_redelivered_reply_finishes_the_interrupted_preview_instead_of_a_second_one(
    telegram: FakeTelegram,
) -> None:
    first = make_stream(telegram)
    remembered: list[list[int]] = []
    first._on_shown = remembered.append
    first.start()
    first.delta("half of the ans")
    time.sleep(EDIT * 2)  # the preview appears... and then the task dies (no finish)
    first.abandon()
    [preview] = telegram.calls_to("sendMessage")
    assert remembered and len(remembered[-1]) == 1

    again = TelegramStream(
        TelegramBot(telegram.token, api_url=telegram.url),
        CHAT,
        reply_to=7,
        edit_interval=EDIT,
        typing_interval=TYPING,
        resume=remembered[-1],
    )
    again.start()
    again.delta("half of the answer, and the rest")
    again.finish("half of the answer, and the rest")
    assert telegram.calls_to("sendMessage") == [preview], "no second reply in the chat"
    edits = telegram.calls_to("editMessageText")
    assert {int(c.params["message_id"]) for c in edits} == set(remembered[-1])
    assert html_to_text(edits[-1].params["text"]) == "half of the answer, and the rest"


def test_an_interrupted_preview_that_is_gone_is_replaced_by_a_new_message(
    telegram: FakeTelegram,
) -> None:
    telegram.fail_next("editMessageText", 400, "Bad Request: message to edit not found")
    stream = TelegramStream(
        TelegramBot(telegram.token, api_url=telegram.url),
        CHAT,
        reply_to=7,
        edit_interval=EDIT,
        typing_interval=TYPING,
        resume=[999_999],
    )
    stream.start()
    stream.finish("the whole answer")
    [sent] = telegram.calls_to("sendMessage")
    assert html_to_text(sent.params["text"]) == "the whole answer"
