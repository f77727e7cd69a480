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
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Final

from openclaw_deploy.runtime.resources import DEFAULT_TELEGRAM_API_URL

MESSAGE_LIMIT: Final = 4096
TOKEN_PATTERN: Final = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,64}$")
SECRET_TOKEN_PATTERN: Final = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
DOWNLOAD_LIMIT_BYTES: Final = 20 * 1024 * 1024
"""The largest file a bot may download (getFile)."""
PHOTO_LIMIT_BYTES: Final = 10 * 1024 * 1024
"""The largest photo a bot may send (sendPhoto); bigger images go as documents."""
DOCUMENT_LIMIT_BYTES: Final = 50 * 1024 * 1024
"""The largest file a bot may send (sendDocument)."""
CAPTION_LIMIT: Final = 1024
COMMANDS: Final[tuple[tuple[str, str], ...]] = (
    ("new", "Start a new conversation"),
    ("status", "Is the agent awake?"),
    ("help", "What I can do"),
)
"""The bot's command menu, registered with setMyCommands at deploy."""


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
        return self._post(method, json.dumps(payload or {}).encode(), "application/json")

    def _post(self, method: str, body: bytes, content_type: str) -> Any:
        url = f"{self._api_url}/bot{self._token}/{method}"
        request = urllib.request.Request(  # noqa: S310 - the scheme comes from our own config
            url, data=body, headers={"Content-Type": content_type}, method="POST"
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

    def get_file(self, file_id: str) -> tuple[str, int | None]:
        """Where Telegram keeps a file (`file_path`) and its size, for `download`."""
        result = self.call("getFile", {"file_id": file_id})
        path = result.get("file_path") if isinstance(result, dict) else None
        if not isinstance(path, str) or not path:
            raise TelegramError(0, "Telegram gave no path for the file (too big to download?)")
        size = result.get("file_size")
        return path, size if isinstance(size, int) else None

    def download(self, file_path: str, *, limit: int = DOWNLOAD_LIMIT_BYTES) -> bytes:
        """The bytes of a file `get_file` found; TelegramError when it is over `limit`."""
        url = f"{self._api_url}/file/bot{self._token}/{file_path}"
        try:
            with urllib.request.urlopen(url, timeout=max(self._timeout, 60)) as response:  # noqa: S310
                data = response.read(limit + 1)
        except urllib.error.HTTPError as error:
            raise TelegramError(error.code, "could not download the file") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise TelegramError(0, f"could not reach the Telegram API ({reason})") from None
        if len(data) > limit:
            raise TelegramError(0, f"the file is over {limit // (1024 * 1024)} MB")
        return bytes(data)

    def send_file(
        self,
        chat_id: int,
        *,
        name: str,
        data: bytes,
        content_type: str,
        as_photo: bool,
        caption: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> int:
        """Send a file as a photo (`sendPhoto`) or a document (`sendDocument`); its message id."""
        method, field = ("sendPhoto", "photo") if as_photo else ("sendDocument", "document")
        fields: dict[str, str] = {"chat_id": str(chat_id)}
        if caption:
            fields["caption"] = caption[:CAPTION_LIMIT]
        if reply_to_message_id is not None:
            fields["reply_parameters"] = json.dumps(
                {"message_id": reply_to_message_id, "allow_sending_without_reply": True}
            )
        boundary = "----openclaw" + secrets.token_hex(12)
        body = _multipart(boundary, fields, field, name, content_type, data)
        result = self._post(method, body, f"multipart/form-data; boundary={boundary}")
        return int(result["message_id"])

    def set_my_commands(self, commands: tuple[tuple[str, str], ...] = COMMANDS) -> None:
        self.call(
            "setMyCommands",
            {"commands": [{"command": c, "description": d} for c, d in commands]},
        )

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


def _multipart(
    boundary: str,
    fields: dict[str, str],
    file_field: str,
    name: str,
    content_type: str,
    data: bytes,
) -> bytes:
    parts: list[bytes] = []
    for key, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    quoted = name.replace('"', "_").replace("\r", "_").replace("\n", "_")
    parts.append(
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{file_field}"; filename="{quoted}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)


def _error_body(error: urllib.error.HTTPError) -> dict[str, Any]:
    try:
        data = json.loads(error.read() or b"{}")
    except (ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}
