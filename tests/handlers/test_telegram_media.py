"""Telegram beyond text, through the webhook handler with real-shaped updates: a photo goes to
the agent as its largest size with the caption, a document and a voice note as attachments the
bridge fetches; a file over Telegram's limit is refused with the limit said; an edit before the
answer began replaces the text, a later one is told it is late; in a group only a paired
member's message that mentions the bot or replies to it is answered."""

from __future__ import annotations

from typing import Any

import pytest

from openclaw_deploy.handlers import telegram_webhook
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.corrections import Corrections
from tests.handlers.conftest import DEPLOYMENT, Stack
from tests.handlers.test_telegram_webhook import STRANGER, USER, deliver, pair

GROUP = -1001234567890
BOT = "openclaw_test_bot"


@pytest.fixture
def paired(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Stack:
    monkeypatch.setenv(telegram_webhook.ENV_BOT_USERNAME, BOT)
    pair()
    return stack


def corrections() -> Corrections:
    return Corrections(aws.dynamodb(), resources.DEDUPE.physical_name(DEPLOYMENT))


def test_a_photo_goes_to_the_agent_as_its_largest_size_with_the_caption(paired: Stack) -> None:
    telegram = paired.telegram
    sizes = telegram.photo_sizes(b"\xff\xd8" + b"x" * 5000)
    update = telegram.message_update(photo=sizes, caption="what breed is this?")
    assert deliver(paired, update) == 200
    [queued] = paired.drain()
    assert queued.text == "what breed is this?"
    [photo] = queued.attachments
    assert (photo.file_id, photo.kind, photo.content_type, photo.size) == (
        sizes[-1]["file_id"],
        "image",
        "image/jpeg",
        5002,
    )
    assert photo.key is None
    assert photo.name == f"photo-{update['message']['message_id']}.jpg"


def test_a_document_and_a_voice_note_become_attachments(paired: Stack) -> None:
    telegram = paired.telegram
    file_id, unique = telegram.add_file(b"%PDF-1.4")
    document = {
        "file_id": file_id,
        "file_unique_id": unique,
        "file_name": "../../etc/Quarterly report.pdf",
        "mime_type": "application/pdf",
        "file_size": 8,
    }
    voice_id, voice_unique = telegram.add_file(b"OggS")
    voice = {
        "file_id": voice_id,
        "file_unique_id": voice_unique,
        "duration": 3,
        "mime_type": "audio/ogg",
        "file_size": 4,
    }
    deliver(paired, telegram.message_update(document=document))
    deliver(paired, telegram.message_update(voice=voice))
    first, second = paired.drain()
    [pdf] = first.attachments
    assert (pdf.file_id, pdf.kind, pdf.content_type) == (file_id, "file", "application/pdf")
    assert "/" not in pdf.name and ".." not in pdf.name
    assert pdf.name.endswith("Quarterly report.pdf")
    assert first.text == ""
    [note] = second.attachments
    assert (note.kind, note.content_type, note.file_id) == ("voice", "audio/ogg", voice_id)


def test_a_file_over_telegrams_limit_is_refused_with_the_limit(paired: Stack) -> None:
    telegram = paired.telegram
    document = {
        "file_id": "BQACAgIAAxkBAAIBig",
        "file_unique_id": "AgADig",
        "file_name": "movie.mp4",
        "mime_type": "video/mp4",
        "file_size": 31 * 1024 * 1024,
    }
    assert deliver(paired, telegram.message_update(document=document)) == 200
    [said] = telegram.sent_texts(USER)
    assert "31.0 MB" in said
    assert "up to 20 MB" in said
    assert paired.queue_depth() == 0


def test_an_edit_before_the_answer_began_replaces_the_text(paired: Stack) -> None:
    telegram = paired.telegram
    original = telegram.text_update("what is the capital of Austrlia?")
    deliver(paired, original)
    message_id = original["message"]["message_id"]
    edited = telegram.message_update(
        kind="edited_message", text="what is the capital of Australia?"
    )
    edited["edited_message"]["message_id"] = message_id
    assert deliver(paired, edited) == 200
    assert telegram.sent_texts(USER)[-1:] != [telegram_webhook.EDITED]
    # The bridge takes the corrected text as the turn begins.
    assert corrections().start(USER, message_id) == "what is the capital of Australia?"

    # An edit once the answer has begun is too late, and said to be.
    late = telegram.message_update(kind="edited_message", text="and of New Zealand?")
    late["edited_message"]["message_id"] = message_id
    assert deliver(paired, late) == 200
    assert telegram.sent_texts(USER)[-1] == telegram_webhook.EDITED
    assert corrections().start(USER, message_id) == "what is the capital of Australia?"
    assert len(paired.drain()) == 1, "an edit is never a second message"


def group_text(stack: Stack, text: str, *, user_id: int = USER, **extra: Any) -> dict[str, Any]:
    update = stack.telegram.text_update(
        text, user_id=user_id, chat_id=GROUP, chat_type="supergroup"
    )
    mention = f"@{BOT}"
    if mention in text:
        offset = text.index(mention)
        update["message"]["entities"] = [
            {"type": "mention", "offset": offset, "length": len(mention)}
        ]
    update["message"].update(extra)
    return update


def test_in_a_group_only_a_paired_members_mention_or_reply_is_answered(paired: Stack) -> None:
    deliver(paired, group_text(paired, "lunch at noon?"))
    deliver(paired, group_text(paired, "@someone_elses_bot hello"))
    deliver(paired, group_text(paired, f"@{BOT} what do you think?", user_id=STRANGER))
    assert paired.queue_depth() == 0
    assert paired.telegram.sent_texts() == [], "no pairing codes or notices in a group"

    deliver(paired, group_text(paired, f"@{BOT} summarise the thread please"))
    reply = {"message_id": 1, "from": {"id": 1, "is_bot": True, "username": BOT}, "text": "hi"}
    deliver(paired, group_text(paired, "and in French?", reply_to_message=reply))
    first, second = paired.drain()
    assert first.session == second.session == f"tg-group{GROUP}"
    assert first.text == "Ada: summarise the thread please"
    assert second.text == "Ada: and in French?"
    assert first.reply.chat_id == GROUP
    assert first.sender == str(USER)
