"""The Telegram client's file calls against the stand-in Bot API: a user's file fetched by id
(getFile, then the file URL), the agent's files sent as a photo or a document (multipart), and
the command menu registered; Telegram's own limits refused as Telegram refuses them."""

from __future__ import annotations

import pytest

from openclaw_deploy.runtime.telegram import COMMANDS, TelegramBot, TelegramError
from tests.fakes.telegram_api import FakeTelegram


def test_a_users_file_is_fetched_by_its_id(telegram: FakeTelegram) -> None:
    bot = TelegramBot(telegram.token, api_url=telegram.url)
    data = bytes(range(256)) * 40
    file_id, _ = telegram.add_file(data)
    path, size = bot.get_file(file_id)
    assert size == len(data)
    assert bot.download(path) == data
    with pytest.raises(TelegramError, match="over"):
        bot.download(path, limit=100)
    with pytest.raises(TelegramError):
        bot.get_file("no-such-file")


def test_the_largest_photo_size_is_the_last(telegram: FakeTelegram) -> None:
    sizes = telegram.photo_sizes(b"x" * 1000)
    assert [s["file_size"] for s in sizes] == [64, 256, 1000]


def test_files_go_out_as_a_photo_or_a_document(telegram: FakeTelegram) -> None:
    bot = TelegramBot(telegram.token, api_url=telegram.url)
    png = b"\x89PNG\r\n\x1a\n" + b"\x01" * 100
    bot.send_file(42, name="shot.png", data=png, content_type="image/png", as_photo=True)
    bot.send_file(
        42,
        name='report "final".pdf',
        data=b"%PDF-1.4 ...",
        content_type="application/pdf",
        as_photo=False,
        caption="here",
    )
    photo, document = telegram.sent_files
    assert (photo["method"], photo["chat_id"], photo["name"], photo["data"]) == (
        "photo",
        42,
        "shot.png",
        png,
    )
    assert (document["method"], document["content_type"], document["caption"]) == (
        "document",
        "application/pdf",
        "here",
    )
    assert document["data"] == b"%PDF-1.4 ..."
    with pytest.raises(TelegramError) as refused:
        bot.send_file(
            42,
            name="big.png",
            data=b"0" * (10 * 1024 * 1024 + 1),
            content_type="image/png",
            as_photo=True,
        )
    assert refused.value.status == 413


def test_the_command_menu_is_registered(telegram: FakeTelegram) -> None:
    TelegramBot(telegram.token, api_url=telegram.url).set_my_commands()
    assert [c["command"] for c in telegram.commands] == [c for c, _ in COMMANDS]
