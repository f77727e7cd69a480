"""A small Slack client and Slack's request signing: stdlib only (urllib, hmac), so the Lambda
needs no bundling.

Used by the Events API handler (signature check, pairing codes and the "waking up" notice), the
bridge (replies streamed by editing one message) and the CLI (`auth.test` during `channels add`).
The API base URL is configurable everywhere so tests and the local target point it at a
stand-in. The bot token travels in the Authorization header: it never appears in an exception or
log line raised from here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Final

from openclaw_deploy.runtime.contract import ascii_int
from openclaw_deploy.runtime.resources import DEFAULT_SLACK_API_URL

MESSAGE_LIMIT: Final = 3900
"""Characters per message: Slack shows up to 4,000 in full and folds longer ones away."""
SIGNATURE_WINDOW_SECONDS: Final = 300
"""Slack's own advice: refuse a request whose timestamp is more than five minutes off."""
SIGNATURE_HEADER: Final = "X-Slack-Signature"
TIMESTAMP_HEADER: Final = "X-Slack-Request-Timestamp"
RETRY_HEADER: Final = "X-Slack-Retry-Num"
BOT_TOKEN_PATTERN: Final = re.compile(r"^xoxb-[A-Za-z0-9-]{10,250}$")
SIGNING_SECRET_PATTERN: Final = re.compile(r"^[0-9a-f]{32}$")
BOT_SCOPES: Final = ("app_mentions:read", "chat:write", "im:history", "im:read", "im:write")
BOT_EVENTS: Final = ("app_mention", "message.im")
_MENTION: Final = re.compile(r"<@[A-Z0-9]+>")


class SlackError(Exception):
    """The Web API said no (or could not be reached). `status` 0 means no HTTP answer."""

    def __init__(self, status: int, error: str, retry_after: float | None = None) -> None:
        super().__init__(f"Slack API error {status}: {error}")
        self.status = status
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True, kw_only=True)
class SlackIdentity:
    """Who the bot token belongs to (`auth.test`)."""

    team: str
    team_id: str
    user_id: str
    bot_id: str
    url: str


def signature(secret: str, timestamp: str, body: str) -> str:
    """Slack's v0 signature of a request: HMAC-SHA256 of `v0:<timestamp>:<body>`."""
    base = f"v0:{timestamp}:{body}".encode("utf-8", "surrogatepass")
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_recently(
    secret: str, *, timestamp: str | None, body: str, given: str | None, now: float
) -> bool:
    """Whether the request carries `secret`'s signature and a timestamp within the window."""
    stamp = ascii_int(timestamp)
    if not secret or not given or stamp is None or timestamp is None:
        return False
    if abs(now - stamp) > SIGNATURE_WINDOW_SECONDS:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


def escape(text: str) -> str:
    """Escape for Slack's mrkdwn: only &, < and > have to be."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def without_mentions(text: str) -> str:
    """The text of an app mention without the `<@U…>` that addressed the bot."""
    return _MENTION.sub("", text).strip()


def manifest(*, name: str, request_url: str) -> dict[str, Any]:
    """The app manifest to paste at api.slack.com/apps ("From an app manifest")."""
    return {
        "display_information": {"name": name, "description": "A personal OpenClaw agent"},
        "features": {
            "bot_user": {"display_name": name, "always_online": True},
            "app_home": {"messages_tab_enabled": True, "messages_tab_read_only_enabled": False},
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": {"request_url": request_url, "bot_events": list(BOT_EVENTS)},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }


class SlackClient:
    def __init__(self, token: str, *, api_url: str | None = None, timeout: float = 10.0) -> None:
        self._token = token
        self._api_url = (api_url or DEFAULT_SLACK_API_URL).rstrip("/")
        self._timeout = timeout

    def call(self, method: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call one Web API method with a JSON body; return the answer or raise SlackError."""
        request = urllib.request.Request(  # noqa: S310 - the scheme comes from our own config
            f"{self._api_url}/{method}",
            data=json.dumps(payload or {}).encode(),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self._token}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                data = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            retry = ascii_int(error.headers.get("Retry-After")) if error.headers else None
            raise SlackError(error.code, str(error.reason), retry_after=retry) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise SlackError(0, f"could not reach the Slack API ({reason})") from None
        except ValueError:
            raise SlackError(0, "the Slack API answered with something that is not JSON") from None
        if not isinstance(data, dict) or not data.get("ok"):
            error_name = data.get("error") if isinstance(data, dict) else None
            raise SlackError(200, str(error_name or "unknown error"))
        return data

    def auth_test(self) -> SlackIdentity:
        data = self.call("auth.test")
        return SlackIdentity(
            team=str(data.get("team", "")),
            team_id=str(data.get("team_id", "")),
            user_id=str(data.get("user_id", "")),
            bot_id=str(data.get("bot_id", "")),
            url=str(data.get("url", "")),
        )

    def post_message(self, channel: str, text: str, *, thread: str | None = None) -> str:
        """Post `text` (mrkdwn) in `channel`, in `thread` if given; return the message's ts."""
        payload: dict[str, Any] = {"channel": channel, "text": text, "unfurl_links": False}
        if thread:
            payload["thread_ts"] = thread
        return str(self.call("chat.postMessage", payload).get("ts", ""))

    def update_message(self, channel: str, ts: str, text: str) -> None:
        self.call("chat.update", {"channel": channel, "ts": ts, "text": text})
