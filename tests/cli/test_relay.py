"""`relay`: a real bot's updates brought to a local webhook by long polling, answers sent back."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app
from openclaw_deploy.runtime.telegram import TelegramBot
from openclaw_deploy.services.relay import relay
from tests.fakes.telegram_api import FakeTelegram, fake_telegram

SECRET = "relay-secret-0123456789"


@contextmanager
def webhook(fail_first: int = 0) -> Iterator[tuple[str, list[dict[str, object]]]]:
    """A webhook like ours: checks the secret, answers with a sendMessage to perform."""
    received: list[dict[str, object]] = []
    failures = {"left": fail_first}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.headers.get("X-Telegram-Bot-Api-Secret-Token") != SECRET:
                self.send_response(401)
                self.end_headers()
                return
            if failures["left"] > 0:
                failures["left"] -= 1
                self.send_response(503)
                self.end_headers()
                return
            received.append(body)
            chat = body["message"]["chat"]["id"]
            answer = json.dumps(
                {"method": "sendMessage", "chat_id": chat, "text": "got it"}
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/telegram", received
    finally:
        server.shutdown()
        server.server_close()


def run_until(telegram: FakeTelegram, url: str, done: object, rounds: int = 50) -> object:
    bot = TelegramBot(telegram.token, api_url=telegram.url)
    left = {"n": rounds}

    def keep_going() -> bool:
        left["n"] -= 1
        return left["n"] > 0 and not done()  # type: ignore[operator]

    return relay(
        bot,
        url,
        SECRET,
        keep_going=keep_going,
        on_event=lambda _: None,
        sleep=lambda _: None,
        poll_seconds=0,
    )


def test_updates_reach_the_webhook_in_order_and_answers_go_back() -> None:
    with fake_telegram() as telegram, webhook() as (url, received):
        telegram.webhook = {"url": "https://old.example/hook", "secret_token": "x"}
        updates = [telegram.text_update(f"hello {i}", user_id=42) for i in range(3)]
        for update in updates:
            telegram.push_update(update)
        stats = run_until(telegram, url, lambda: len(received) == 3)
        assert [r["update_id"] for r in received] == [u["update_id"] for u in updates]
        assert telegram.webhook["url"] == ""  # polling needs the webhook removed
        assert telegram.sent_texts(42) == ["got it"] * 3
        assert stats.relayed == 3 and stats.replies == 3  # type: ignore[attr-defined]


def test_an_update_the_webhook_refused_is_delivered_again_not_lost() -> None:
    with fake_telegram() as telegram, webhook(fail_first=2) as (url, received):
        update = telegram.text_update("are you there?", user_id=7)
        telegram.push_update(update)
        stats = run_until(telegram, url, lambda: len(received) == 1)
        assert [r["update_id"] for r in received] == [update["update_id"]]
        assert stats.failures == 2  # type: ignore[attr-defined]


def test_relay_needs_a_local_deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["relay"], catch_exceptions=False)
    assert result.exit_code == 9
    assert "openclaw-deploy init --target local" in result.output
