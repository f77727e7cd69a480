"""The bridge's file handling without OpenClaw: Telegram files fetched from the stand-in Bot API,
voice notes through a stand-in speech-to-text endpoint (OpenAI's shape), images for a model
that cannot see them, and how a reply's attached files are found."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from openclaw_bridge.agent import AgentRunner
from openclaw_bridge.attachments import (
    NO_TRANSCRIPT,
    Attachments,
    OpenAITranscriber,
    accepts_images,
    media_lines,
    turn_media,
)
from openclaw_deploy.runtime.contract import Attachment, QueueMessage, ReplyTarget
from openclaw_deploy.runtime.telegram import TelegramBot
from tests.fakes.telegram_api import FakeTelegram, fake_telegram

KEY = "sk-test-transcribe-0000"


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with fake_telegram() as api:
        yield api


@pytest.fixture
def speech() -> Iterator[dict[str, object]]:
    """A stand-in `/v1/audio/transcriptions`: 200 with the words for the right key, else 401."""
    seen: dict[str, object] = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            seen["path"] = self.path
            seen["multipart"] = self.headers.get("Content-Type", "").startswith("multipart/")
            seen["audio"] = b"OggS-voice" in body
            ok = self.headers.get("Authorization") == f"Bearer {KEY}"
            status = int(seen["status"]) if ok else 401  # type: ignore[call-overload]
            answer = json.dumps({"text": "buy milk on the way home"} if status == 200 else {})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    seen["url"] = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


def files(tmp_path: Path, telegram: FakeTelegram) -> Attachments:
    bot = TelegramBot(telegram.token, api_url=telegram.url)
    return Attachments(
        None, "bucket", workspace=tmp_path / "workspace", runner=AgentRunner(), telegram=bot
    )


def message(*attachments: Attachment, text: str = "") -> QueueMessage:
    return QueueMessage(
        channel="telegram",
        session="tg-1",
        message_id="tg-900",
        text=text,
        received_at=time.time(),
        reply=ReplyTarget(chat_id=1),
        attachments=attachments,
    )


def voice(telegram: FakeTelegram) -> Attachment:
    file_id, _ = telegram.add_file(b"OggS-voice-note")
    return Attachment(
        file_id=file_id, name="voice-1.ogg", content_type="audio/ogg", size=15, kind="voice"
    )


def test_a_voice_note_is_transcribed_by_the_providers_speech_to_text(
    tmp_path: Path, telegram: FakeTelegram, speech: dict[str, object]
) -> None:
    transcribe = OpenAITranscriber(str(speech["url"]), KEY)
    prepared = files(tmp_path, telegram).prepare(
        message(voice(telegram)), model=("openai", "gpt-4o"), transcribe=transcribe
    )
    assert speech["path"] == "/v1/audio/transcriptions"
    assert speech["multipart"] and speech["audio"]
    assert (
        prepared.text == '[The user sent a voice note; its transcript: "buy milk on the way home"]'
    )
    assert prepared.notices == ["🎤 “buy milk on the way home”"]
    assert prepared.saved == []


def test_without_speech_to_text_the_note_is_kept_and_the_reply_says_so(
    tmp_path: Path, telegram: FakeTelegram, speech: dict[str, object]
) -> None:
    speech["status"] = 500
    failing = OpenAITranscriber(str(speech["url"]), KEY)
    for transcribe in (None, failing):
        prepared = files(tmp_path, telegram).prepare(
            message(voice(telegram)), model=("deepseek", "deepseek-chat"), transcribe=transcribe
        )
        assert prepared.notices == [NO_TRANSCRIPT]
        [path] = prepared.saved
        assert (tmp_path / "workspace" / path).read_bytes() == b"OggS-voice-note"
        assert "could not be transcribed" in prepared.text


def test_an_image_for_a_text_only_model_is_saved_and_the_reply_says_so(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    file_id, _ = telegram.add_file(b"\x89PNG\r\n\x1a\n....")
    photo = Attachment(
        file_id=file_id, name="photo-3.jpg", content_type="image/png", size=12, kind="image"
    )
    prepared = files(tmp_path, telegram).prepare(
        message(photo, text="what is it?"), model=("deepseek", "deepseek-chat")
    )
    assert prepared.images == []
    assert prepared.notices[0].startswith("(The model deepseek/deepseek-chat does not accept")
    assert prepared.text.startswith("what is it?\n\n[The user attached photo-3.jpg (image/png")
    vision = files(tmp_path, telegram).prepare(
        message(photo, text="what is it?"), model=("anthropic", "claude-sonnet-4-5")
    )
    [part] = vision.images
    assert part["image_url"]["url"].startswith("data:image/png;base64,")
    assert vision.notices == []


def test_which_models_take_images() -> None:
    assert accepts_images("anthropic", "claude-sonnet-4-5")
    assert accepts_images("openai", "gpt-4o-mini")
    assert accepts_images("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert accepts_images("openrouter", "google/gemini-2.5-flash")
    assert not accepts_images("deepseek", "deepseek-chat")
    assert not accepts_images("openai", "gpt-3.5-turbo")


def test_a_replys_files_are_found_as_openclaw_writes_them() -> None:
    text = "Done.\n\nMEDIA:out/chart.png\n```\nMEDIA:not-a-file.txt\n```\nMEDIA:https://x.example/a.png"
    shown, paths = media_lines(text)
    assert paths == ["out/chart.png"]
    assert "MEDIA:not-a-file.txt" in shown
    assert "https://x.example/a.png" in shown
    history = {
        "messages": [
            {"role": "user", "content": "earlier"},
            {"role": "assistant", "content": "MEDIA:old.png"},
            {"role": "user", "content": [{"type": "text", "text": "now"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "here\nMEDIA:new.pdf"}]},
            {"role": "assistant", "content": "", "mediaUrls": ["/shot.png", "https://x/y.png"]},
        ]
    }
    assert turn_media(history) == ["new.pdf", "/shot.png"]


def test_a_file_that_cannot_be_saved_is_said_and_the_turn_goes_on(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    (tmp_path / "workspace").write_text("not a folder")  # the workspace cannot take files
    file_id, _ = telegram.add_file(b"%PDF-1.4")
    document = Attachment(file_id=file_id, name="a.pdf", content_type="application/pdf", size=8)
    prepared = files(tmp_path, telegram).prepare(
        message(document, text="read it"), model=("anthropic", "claude-sonnet-4-5")
    )
    assert prepared.text == "read it"
    assert prepared.notices == ["(I could not take a.pdf: it could not be saved.)"]
