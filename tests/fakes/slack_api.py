"""A stand-in for the Slack Web API: a real HTTP server on 127.0.0.1 that records every call.

Point any client at it with its `url` (`SlackClient(token, api_url=fake.url)`, the handlers' and
bridge's `OPENCLAW_SLACK_API_URL`). It serves `POST /<method>` with a JSON body and a bearer
token, and answers as slack.com does:

* a token other than `token` → HTTP 200 `{"ok": false, "error": "invalid_auth"}`;
* `chat.postMessage` / `chat.update` refuse a blank text (`no_text`), text over 40,000
  characters (`msg_too_long`) and an unknown message (`message_not_found`);
* `fail_next(method, 429, retry_after=2)` makes the next call answer HTTP 429 with
  `Retry-After`, as Slack's rate limits do.

It also plays Slack's side of the Events API: `deliver(url, payload)` signs a payload with the
app's signing secret (v0 HMAC, current timestamp unless given) and POSTs it, with
`X-Slack-Retry-Num` for a retry; `message_event(...)` builds realistic `event_callback`s.

    with fake_slack() as slack:
        client = SlackClient(slack.token, api_url=slack.url)
        client.post_message("D1", "hi")
        assert slack.texts("D1") == ["hi"]
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.serving import serving

DEFAULT_TOKEN = "xoxb-1111111111-2222222222-standinslacktoken"
DEFAULT_SIGNING_SECRET = "0123456789abcdef0123456789abcdef"
BOT_USER = "UBOT0001"
TEXT_LIMIT = 40_000


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class FakeSlack:
    def __init__(self, token: str, signing_secret: str) -> None:
        self.token = token
        self.signing_secret = signing_secret
        self.url = ""
        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], str] = {}
        """(channel, ts) → the text it shows now."""
        self._failures: dict[str, list[tuple[int, float | None]]] = {}
        self._ts = itertools.count(1)
        self._events = itertools.count(1)
        self._lock = threading.Lock()

    # -- what tests look at ---------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def texts(self, channel: str) -> list[str]:
        """Every text posted or edited into `channel`, in order."""
        with self._lock:
            return [
                str(c.params.get("text", ""))
                for c in self.calls
                if c.method in ("chat.postMessage", "chat.update")
                and c.params.get("channel") == channel
            ]

    def shown(self, channel: str) -> list[str]:
        """What the channel shows now, message by message (edits applied)."""
        with self._lock:
            return [text for (ch, _), text in sorted(self.messages.items()) if ch == channel]

    def fail_next(self, method: str, status: int, *, retry_after: float | None = None) -> None:
        with self._lock:
            self._failures.setdefault(method, []).append((status, retry_after))

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.messages.clear()
            self._failures.clear()

    # -- Slack's side of the Events API ---------------------------------------------------------

    def message_event(
        self,
        text: str,
        *,
        user: str = "U0STRANGER",
        channel: str = "D0DM0001",
        mention: bool = False,
        event_id: str | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        ts = f"{int(time.time())}.{next(self._events):06d}"
        event: dict[str, Any] = {
            "type": "app_mention" if mention else "message",
            "user": user,
            "text": f"<@{BOT_USER}> {text}" if mention else text,
            "ts": ts,
            "channel": channel,
            "channel_type": "channel" if mention else "im",
            "event_ts": ts,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return {
            "token": "legacy-verification-token",
            "team_id": "T0TEAM",
            "api_app_id": "A0APP",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._events):08d}",
            "event_time": int(time.time()),
        }

    def signed_headers(
        self, body: str, *, timestamp: int | None = None, secret: str | None = None
    ) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        base = f"v0:{stamp}:{body}".encode()
        key = (secret or self.signing_secret).encode()
        return {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": "v0=" + hmac.new(key, base, hashlib.sha256).hexdigest(),
        }

    def deliver(
        self,
        url: str,
        payload: dict[str, Any],
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        retry: int | None = None,
    ) -> tuple[int, str]:
        """POST a signed payload to an Events API request URL; (status, body)."""
        body = json.dumps(payload)
        headers = self.signed_headers(body, timestamp=timestamp, secret=secret)
        if retry:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    # -- the Web API ------------------------------------------------------------------------------

    def _answer(
        self, method: str, params: dict[str, Any], token: str
    ) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.calls.append(Call(method, params))
            failures = self._failures.get(method)
            failure = failures.pop(0) if failures else None
        if failure is not None:
            status, retry_after = failure
            headers = {"Retry-After": str(int(retry_after))} if retry_after else {}
            return status, {"ok": False, "error": "ratelimited"}, headers
        if token != self.token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        handler = getattr(self, "_api_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        try:
            return 200, {"ok": True, **handler(params)}, {}
        except _SlackError as error:
            return 200, {"ok": False, "error": error.code}, {}

    def _api_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://standin.slack.com/",
            "team": "Stand-in Team",
            "user": "openclaw",
            "team_id": "T0TEAM",
            "user_id": BOT_USER,
            "bot_id": "B0BOT",
        }

    def _text(self, params: dict[str, Any]) -> str:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _SlackError("no_text")
        if len(text) > TEXT_LIMIT:
            raise _SlackError("msg_too_long")
        return text

    def _api_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        text = self._text(params)
        channel = str(params.get("channel") or "")
        if not channel:
            raise _SlackError("channel_not_found")
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        with self._lock:
            self.messages[(channel, ts)] = text
        return {"channel": channel, "ts": ts, "message": {"text": text}}

    def _api_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        text = self._text(params)
        key = (str(params.get("channel")), str(params.get("ts")))
        with self._lock:
            if key not in self.messages:
                raise _SlackError("message_not_found")
            self.messages[key] = text
        return {"channel": key[0], "ts": key[1], "text": text}


class _SlackError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@contextmanager
def fake_slack(
    token: str = DEFAULT_TOKEN, signing_secret: str = DEFAULT_SIGNING_SECRET
) -> Iterator[FakeSlack]:
    fake = FakeSlack(token, signing_secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            try:
                params = json.loads(raw or b"{}")
            except ValueError:
                params = {}
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
            method = self.path.removeprefix("/api/").strip("/")
            status, body, headers = fake._answer(method, params, token)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler, "/api") as url:
        fake.url = url
        yield fake
