"""A stand-in for Discord's HTTP API: a real server on 127.0.0.1 that records every call.

Point clients at its `url` (`DiscordClient(token, api_url=fake.url)`, the bridge's
`OPENCLAW_DISCORD_API_URL`). It serves what we use, answering as discord.com does:

* `GET /applications/@me` (bot token → the application), `PUT`/`GET
  /applications/<id>/commands` (the global slash commands); a wrong or missing `Bot` token →
  401 `{"message": "401: Unauthorized", "code": 0}`;
* `PATCH /webhooks/<app>/<token>/messages/@original` and `POST /webhooks/<app>/<token>` (an
  interaction's response and follow-ups; no bot token, the interaction token is the credential):
  an unknown token → 404 `Unknown Webhook`, content over 2,000 characters → 400 (code 50035);
* `fail_next("PATCH", 429, retry_after=1.5)` makes the next such call fail like a rate limit.

It plays Discord's side of the interactions endpoint too: it holds the application's Ed25519
key pair, `interaction(...)` builds a slash-command interaction (its token becomes valid for the
webhook routes) and `deliver(url, interaction)` signs timestamp + body and POSTs it.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.fakes.serving import serving

APPLICATION_ID = "1234567890123456789"
DEFAULT_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.Gstand.in-discord-bot-token-for-tests-only-0000"
CONTENT_LIMIT = 2000
_WEBHOOK = re.compile(r"^/webhooks/(\d+)/([^/]+)(?:/messages/([^/]+))?$")
_COMMANDS = re.compile(r"^/applications/(\d+)/commands$")


@dataclass
class Call:
    method: str
    path: str
    body: Any
    at: float = field(default_factory=time.monotonic)


class FakeDiscord:
    def __init__(self, token: str, application_id: str) -> None:
        self.token = token
        self.application_id = application_id
        self.key = Ed25519PrivateKey.generate()
        self.public_key = self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
        self.url = ""
        self.calls: list[Call] = []
        self.commands: list[dict[str, Any]] = []
        self.responses: dict[str, list[str]] = {}
        """Interaction token → what its response and follow-ups show now, in order."""
        self._failures: dict[str, list[tuple[int, float | None]]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # -- what tests look at ---------------------------------------------------------------------

    def answer(self, token: str) -> str:
        """The whole answer an interaction got (response and follow-ups joined)."""
        with self._lock:
            return "".join(self.responses.get(token, []))

    def webhook_calls(self, token: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if f"/{token}" in c.path]

    def fail_next(self, method: str, status: int, *, retry_after: float | None = None) -> None:
        with self._lock:
            self._failures.setdefault(method, []).append((status, retry_after))

    # -- Discord's side of the interactions endpoint ----------------------------------------------

    def interaction(
        self,
        command: str,
        text: str | None = None,
        *,
        user_id: str = "800000000000000001",
        name: str = "stranger",
        interaction_id: str | None = None,
    ) -> dict[str, Any]:
        number = next(self._ids)
        token = f"aW50ZXJhY3Rpb24t{number:06d}-standin-token"
        with self._lock:
            self.responses.setdefault(token, [])
        data: dict[str, Any] = {"id": "900000000000000001", "name": command, "type": 1}
        if text is not None:
            data["options"] = [{"name": "text", "type": 3, "value": text}]
        return {
            "id": interaction_id or str(1_100_000_000_000_000_000 + number),
            "application_id": self.application_id,
            "type": 2,
            "token": token,
            "version": 1,
            "data": data,
            "guild_id": "700000000000000001",
            "channel_id": "700000000000000002",
            "member": {"user": {"id": user_id, "username": name, "global_name": name}},
        }

    def signed_headers(
        self, body: str, *, timestamp: int | None = None, key: Ed25519PrivateKey | None = None
    ) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = (key or self.key).sign((stamp + body).encode()).hex()
        return {
            "Content-Type": "application/json",
            "X-Signature-Ed25519": signature,
            "X-Signature-Timestamp": stamp,
        }

    def deliver(
        self,
        url: str,
        interaction: dict[str, Any],
        *,
        timestamp: int | None = None,
        key: Ed25519PrivateKey | None = None,
    ) -> tuple[int, Any]:
        body = json.dumps(interaction)
        headers = self.signed_headers(body, timestamp=timestamp, key=key)
        request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    # -- the API ----------------------------------------------------------------------------------

    def _answer(
        self, method: str, path: str, body: Any, auth: str
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.calls.append(Call(method, path, body))
            failures = self._failures.get(method)
            failure = failures.pop(0) if failures else None
        if failure is not None:
            status, retry_after = failure
            return (
                status,
                {"message": "You are being rate limited.", "retry_after": retry_after},
                {},
            )
        webhook = _WEBHOOK.match(path)
        if webhook:
            return self._webhook(method, webhook.group(2), webhook.group(3), body)
        if auth != f"Bot {self.token}":
            return 401, {"message": "401: Unauthorized", "code": 0}, {}
        if path == "/applications/@me" and method == "GET":
            return (
                200,
                {"id": self.application_id, "name": "OpenClaw", "verify_key": self.public_key},
                {},
            )
        commands = _COMMANDS.match(path)
        if commands and commands.group(1) == self.application_id:
            if method == "PUT":
                with self._lock:
                    self.commands = [
                        {**c, "id": str(2_000 + i), "application_id": self.application_id}
                        for i, c in enumerate(body or [])
                    ]
            return 200, self.commands, {}
        return 404, {"message": "404: Not Found", "code": 0}, {}

    def _webhook(
        self, method: str, token: str, message: str | None, body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            shown = self.responses.get(token)
            if shown is None:
                return 404, {"message": "Unknown Webhook", "code": 10015}, {}
            content = str((body or {}).get("content") or "")
            if len(content) > CONTENT_LIMIT:
                return 400, {"message": "Invalid Form Body", "code": 50035}, {}
            if method == "POST" and message is None:
                shown.append(content)
                return 200, {"id": str(3_000 + len(shown)), "content": content}, {}
            if method == "PATCH" and message == "@original":
                if shown:
                    shown[0] = content
                else:
                    shown.append(content)
                return 200, {"id": "@original", "content": content}, {}
            if method == "PATCH" and message is not None:
                index = int(message) - 3_000 - 1
                if 0 <= index < len(shown):
                    shown[index] = content
                    return 200, {"id": message, "content": content}, {}
        return 404, {"message": "Unknown Message", "code": 10008}, {}


@contextmanager
def fake_discord(
    token: str = DEFAULT_TOKEN, application_id: str = APPLICATION_ID
) -> Iterator[FakeDiscord]:
    fake = FakeDiscord(token, application_id)

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            path = self.path.removeprefix("/api/v10")
            status, answer, headers = fake._answer(
                self.command, path, body, self.headers.get("Authorization") or ""
            )
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler, "/api/v10") as url:
        fake.url = url
        yield fake
