"""A small Telegram Bot API client: stdlib only (urllib), so Lambda needs no bundling.

Used by the Lambda handlers, the bridge and the CLI (`getMe` during `init`, the webhook during
`deploy`/`destroy`). The API base URL is configurable everywhere so tests and the local target
point it at a stand-in. The bot token is part of every URL: it never appears in an exception or
log line raised from here.
"""

from __future__ import annotations

import html
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Final

from openclaw_deploy.runtime.resources import DEFAULT_TELEGRAM_API_URL

MESSAGE_LIMIT: Final = 4096
TOKEN_PATTERN: Final = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,64}$")
SECRET_TOKEN_PATTERN: Final = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class TelegramError(Exception):
    """The Bot API said no (or could not be reached). `status` 0 means no HTTP answer."""

    def __init__(self, status: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(f"Telegram API error {status}: {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after


@dataclass(frozen=True)
class BotInfo:
    id: int
    username: str
    first_name: str


def escape_html(text: str) -> str:
    """Escape for parse_mode=HTML: Telegram needs only <, > and & escaped."""
    return html.escape(text, quote=False)


def text_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _fitting_prefix(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 code units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split text into Telegram-sized pieces (at most `limit` UTF-16 code units each), cutting
    at a paragraph, then a line, then a word boundary in the second half of the window, and
    hard at the limit otherwise. Whitespace at a boundary cut is dropped; no piece is blank
    unless the whole text is. Split the raw text, then escape each piece: Telegram counts the
    length after parsing entities, so escaping does not change what fits.
    """
    pieces: list[str] = []
    rest = text
    while text_length(rest) > limit:
        end = max(1, _fitting_prefix(rest, limit))
        window = rest[:end]
        cut = end
        for separator in ("\n\n", "\n", " "):
            at = window.rfind(separator)
            if at >= end // 2 and at > 0:
                cut = at
                break
        if cut < end:  # at a boundary: the whitespace there goes
            piece, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        else:  # mid-word: keep every character
            piece, rest = rest[:cut], rest[cut:]
        if piece.strip():
            pieces.append(piece)
    if rest.strip() or not pieces:
        pieces.append(rest)
    return pieces


COMMAND_PATTERN: Final = re.compile(
    r"^/([A-Za-z0-9_]{1,32})(?:@([A-Za-z0-9_]{1,64}))?(?:\s+(.*))?$", re.DOTALL
)


def parse_command(text: str) -> tuple[str, str] | None:
    """`/name@bot args` → ("name" in lower case, "args"); None when the text is no command."""
    match = COMMAND_PATTERN.match(text.strip())
    if match is None:
        return None
    return match.group(1).lower(), (match.group(3) or "").strip()


def webhook_reply(method: str, **payload: Any) -> dict[str, Any]:
    """A Bot API call carried in the answer to a webhook request.

    Telegram performs it after our 200 arrives, so a handler replies without waiting on (or
    being slowed by) the Bot API; the cost is that the result is never seen. One call per
    answer, so the text must fit one message.
    """
    return {"method": method, **payload}


class TelegramBot:
    def __init__(self, token: str, *, api_url: str | None = None, timeout: float = 10.0) -> None:
        self._token = token
        self._api_url = (api_url or DEFAULT_TELEGRAM_API_URL).rstrip("/")
        self._timeout = timeout

    def call(self, method: str, payload: dict[str, Any] | None = None) -> Any:
        """Call one Bot API method with a JSON body; return `result` or raise TelegramError."""
        url = f"{self._api_url}/bot{self._token}/{method}"
        body = json.dumps(payload or {}).encode()
        request = urllib.request.Request(  # noqa: S310 - the scheme comes from our own config
            url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                data = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            data = _error_body(error)
            params = data.get("parameters") or {}
            raise TelegramError(
                error.code,
                str(data.get("description") or error.reason),
                retry_after=params.get("retry_after"),
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise TelegramError(0, f"could not reach the Telegram API ({reason})") from None
        except ValueError:
            raise TelegramError(
                0, "the Telegram API answered with something that is not JSON"
            ) from None
        if not data.get("ok"):
            raise TelegramError(int(data.get("error_code") or 0), str(data.get("description")))
        return data.get("result")

    def get_me(self) -> BotInfo:
        result = self.call("getMe")
        return BotInfo(
            id=int(result["id"]),
            username=str(result.get("username", "")),
            first_name=str(result.get("first_name", "")),
        )

    def send_message(
        self,
        chat_id: int,
        text: str,
        *,
        parse_mode: str | None = "HTML",
        reply_to_message_id: int | None = None,
    ) -> int:
        payload: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if parse_mode:
            payload["parse_mode"] = parse_mode
        if reply_to_message_id is not None:
            payload["reply_parameters"] = {
                "message_id": reply_to_message_id,
                "allow_sending_without_reply": True,
            }
        result = self.call("sendMessage", payload)
        return int(result["message_id"])

    def edit_message_text(
        self, chat_id: int, message_id: int, text: str, *, parse_mode: str | None = "HTML"
    ) -> None:
        payload: dict[str, Any] = {"chat_id": chat_id, "message_id": message_id, "text": text}
        if parse_mode:
            payload["parse_mode"] = parse_mode
        self.call("editMessageText", payload)

    def send_text(
        self, chat_id: int, text: str, *, reply_to_message_id: int | None = None
    ) -> list[int]:
        """Send plain text (escaped for HTML) as one or more messages; return their ids."""
        sent: list[int] = []
        for piece in split_message(text):
            if not piece.strip():
                continue
            sent.append(
                self.send_message(
                    chat_id,
                    escape_html(piece),
                    reply_to_message_id=reply_to_message_id if not sent else None,
                )
            )
        return sent

    def send_chat_action(self, chat_id: int, action: str = "typing") -> None:
        self.call("sendChatAction", {"chat_id": chat_id, "action": action})

    def set_webhook(self, url: str, secret_token: str) -> None:
        self.call(
            "setWebhook",
            {
                "url": url,
                "secret_token": secret_token,
                "allowed_updates": ["message", "edited_message", "callback_query"],
                "drop_pending_updates": False,
            },
        )

    def delete_webhook(self) -> None:
        self.call("deleteWebhook", {"drop_pending_updates": False})

    def get_webhook_info(self) -> dict[str, Any]:
        result = self.call("getWebhookInfo")
        return dict(result) if isinstance(result, dict) else {}


def _error_body(error: urllib.error.HTTPError) -> dict[str, Any]:
    try:
        data = json.loads(error.read() or b"{}")
    except (ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}
