"""A stand-in for the Telegram Bot API: a real HTTP server on 127.0.0.1 that records every call.

Point any client at it with its `url` (our `TelegramBot(token, api_url=fake.url)`, the handlers'
and bridge's `OPENCLAW_TELEGRAM_API_URL`). It serves `/bot<token>/<method>` with JSON,
form-encoded or query-string parameters, the way api.telegram.org does, and answers like it:

* a token other than `token` → 401 `Unauthorized`; an unknown method → 404;
* `sendMessage` / `editMessageText` check the text as Telegram does: not blank, at most 4096
  characters after entity parsing (UTF-16 units), and with `parse_mode=HTML` every tag known
  and balanced and every `<`, `>`, `&` escaped — otherwise 400 `can't parse entities`;
* `fail_next(method, 429, retry_after=3)` (or 401, 500, ...) makes the next call(s) fail;
* `setWebhook` / `deleteWebhook` / `getWebhookInfo` keep the webhook state;
* files: `add_file(data)` stores a file as Telegram's servers hold what users send (a
  `file_id`); `getFile` answers its `file_path` (refused above 20 MB, as for real bots), and
  `/file/bot<token>/<file_path>` serves its bytes; `sendPhoto` / `sendDocument` take multipart
  uploads (photos up to 10 MB, documents up to 50 MB) and keep what was sent (`sent_files`);
* `setMyCommands` keeps the command menu (`commands`).

It also plays Telegram's side of a webhook: `deliver(url, update, secret)` POSTs an update to a
webhook URL with `X-Telegram-Bot-Api-Secret-Token`, and a Bot API call carried in the answer
(`{"method": "sendMessage", ...}`) is performed and recorded just as Telegram would.
`apply_webhook_reply(body)` does that last step for a test that calls a handler directly.
`text_update(...)` and friends build realistic updates with increasing `update_id`s.

    with fake_telegram() as telegram:
        bot = TelegramBot(telegram.token, api_url=telegram.url)
        bot.send_message(42, "hi")
        assert telegram.sent_texts(42) == ["hi"]
"""

from __future__ import annotations

import email.parser
import email.policy
import html
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_TOKEN = "123456:TEST-fake-token-for-the-stand-in-bot-api"
MESSAGE_LIMIT = 4096

_ALLOWED_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_HTML_TOKEN = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[^<>]*)?)>"  # a tag
    r"|&(#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6}|lt|gt|amp|quot);"  # an entity
    r"|([<>&])"  # anything else with these characters is a parse error
)


class HtmlError(ValueError):
    pass


def html_to_text(text: str) -> str:
    """The plain text of a `parse_mode=HTML` message, raising HtmlError where Telegram would."""
    out: list[str] = []
    stack: list[str] = []
    position = 0
    for match in _HTML_TOKEN.finditer(text):
        out.append(text[position : match.start()])
        position = match.end()
        closing, tag, _attrs, entity, stray = match.groups()
        if stray is not None:
            raise HtmlError(f"unexpected {stray!r} at byte offset {match.start()}")
        if entity is not None:
            out.append(html.unescape(match.group(0)))
            continue
        tag = tag.lower()
        if tag not in _ALLOWED_TAGS:
            raise HtmlError(f"unsupported start tag {tag!r} at byte offset {match.start()}")
        if closing:
            if not stack or stack[-1] != tag:
                raise HtmlError(f"can't find end tag corresponding to start tag {tag!r}")
            stack.pop()
        else:
            stack.append(tag)
    out.append(text[position:])
    if stack:
        raise HtmlError(f"can't find end tag corresponding to start tag {stack[-1]!r}")
    return "".join(out)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Call:
    """One Bot API call as received, and whether it was answered `ok`."""

    method: str
    params: dict[str, Any]
    token: str
    via_webhook_reply: bool = False
    ok: bool = True
    at: float = field(default_factory=time.time)


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: float | None
    times: int


class FakeTelegram:
    """The server's state; use `fake_telegram()` to run one."""

    def __init__(
        self, token: str = DEFAULT_TOKEN, *, bot_username: str = "openclaw_test_bot"
    ) -> None:
        self.token = token
        bot_id = token.split(":", 1)[0]
        self.bot_id = int(bot_id) if bot_id.isdigit() else 1
        self.bot_username = bot_username
        self.url = ""
        self.calls: list[Call] = []
        self.webhook: dict[str, Any] = {"url": "", "secret_token": None}
        self._lock = threading.Lock()
        self._failures: dict[str, list[_Failure]] = {}
        self._message_ids = itertools.count(1000)
        self._update_ids = itertools.count(900_000_000)
        self._user_message_ids = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self.sent_files: list[dict[str, Any]] = []
        self.commands: list[dict[str, Any]] = []

    # -- what a test asks ----------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def sent_texts(self, chat_id: int | None = None) -> list[str]:
        """The plain text of every message sent and accepted (HTML parsed), optionally to one
        chat."""
        texts = []
        for call in self.calls_to("sendMessage"):
            if not call.ok:
                continue
            if chat_id is None or _int(call.params.get("chat_id")) == chat_id:
                text = str(call.params.get("text", ""))
                html_mode = call.params.get("parse_mode") == "HTML"
                texts.append(html_to_text(text) if html_mode else text)
        return texts

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        *,
        retry_after: float | None = None,
        times: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` (or "*" for any) answer with `status`."""
        default = {
            401: "Unauthorized",
            429: "Too Many Requests: retry later",
            400: "Bad Request",
            500: "Internal Server Error",
        }.get(status, "Error")
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(status, description or default, retry_after, times)
            )

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._failures.clear()

    # -- files ---------------------------------------------------------------------------------

    def add_file(self, data: bytes) -> tuple[str, str]:
        """Keep `data` as a file a user sent; its (file_id, file_unique_id)."""
        number = len(self.files) + 1
        file_id = f"AgACAgIAAxkBAAI{number:06d}"
        with self._lock:
            self.files[file_id] = data
        return file_id, f"AQAD{number:06d}"

    def photo_sizes(self, data: bytes) -> list[dict[str, Any]]:
        """A `photo` array as Telegram sends it: smaller thumbnails first, the original last."""
        sizes = []
        for width, height, part in ((90, 67, data[:64]), (320, 240, data[:256]), (1280, 960, data)):
            file_id, unique = self.add_file(part)
            sizes.append(
                {
                    "file_id": file_id,
                    "file_unique_id": unique,
                    "file_size": len(part),
                    "width": width,
                    "height": height,
                }
            )
        return sizes

    def file_bytes(self, file_path: str) -> bytes | None:
        file_id = file_path.rsplit("/", 1)[-1].split(".", 1)[0]
        with self._lock:
            return self.files.get(file_id)

    # -- building updates ----------------------------------------------------------------------

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def message_update(
        self,
        *,
        user_id: int = 4242,
        chat_id: int | None = None,
        first_name: str = "Ada",
        chat_type: str = "private",
        kind: str = "message",
        **content: Any,
    ) -> dict[str, Any]:
        """An update whose `kind` ("message", "edited_message", "channel_post") carries
        `content` (text=..., photo=[...], sticker={...})."""
        chat = chat_id if chat_id is not None else user_id
        message: dict[str, Any] = {
            "message_id": next(self._user_message_ids),
            "date": int(time.time()),
            "chat": {"id": chat, "type": chat_type, "first_name": first_name},
            **content,
        }
        if kind != "channel_post":
            message["from"] = {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name,
                "language_code": "en",
            }
        if kind == "edited_message":
            message["edit_date"] = int(time.time())
        return {"update_id": self.next_update_id(), kind: message}

    def text_update(self, text: str, **kwargs: Any) -> dict[str, Any]:
        update = self.message_update(text=text, **kwargs)
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            update["message"]["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_length(command)}
            ]
        return update

    # -- Telegram's side of a webhook ----------------------------------------------------------

    def deliver(
        self,
        webhook_url: str,
        update: dict[str, Any],
        secret_token: str | None,
        *,
        timeout: float = 10.0,
    ) -> tuple[int, bytes]:
        """POST `update` to a webhook as Telegram does; perform a Bot API call in the answer."""
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        request = urllib.request.Request(
            webhook_url, data=json.dumps(update).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        if 200 <= status < 300 and body:
            try:
                answer = json.loads(body)
            except ValueError:
                answer = None
            if isinstance(answer, dict):
                self.apply_webhook_reply(answer)
        return status, body

    def apply_webhook_reply(self, answer: dict[str, Any]) -> dict[str, Any] | None:
        """Perform the Bot API call carried in a webhook's answer, if there is one."""
        method = answer.get("method")
        if not isinstance(method, str):
            return None
        params = {key: value for key, value in answer.items() if key != "method"}
        return self._dispatch(method, params, self.token, via_webhook_reply=True)

    # -- the Bot API ---------------------------------------------------------------------------

    def _dispatch(
        self, method: str, params: dict[str, Any], token: str, *, via_webhook_reply: bool = False
    ) -> dict[str, Any]:
        answer = self._answer(method, params, token)
        with self._lock:
            self.calls.append(Call(method, params, token, via_webhook_reply, bool(answer["ok"])))
        return answer

    def _answer(self, method: str, params: dict[str, Any], token: str) -> dict[str, Any]:
        if token != self.token:
            return _error(401, "Unauthorized")
        with self._lock:
            failure = self._take_failure(method)
        if failure is not None:
            return _error(failure.status, failure.description, failure.retry_after)
        handler = getattr(self, "_api_" + method, None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        try:
            return {"ok": True, "result": handler(params)}
        except _ApiError as error:
            return _error(error.status, error.description)

    def _take_failure(self, method: str) -> _Failure | None:
        for key in (method, "*"):
            queue = self._failures.get(key)
            if queue:
                failure = queue[0]
                failure.times -= 1
                if failure.times <= 0:
                    queue.pop(0)
                return failure
        return None

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "OpenClaw",
            "username": self.bot_username,
            "can_join_groups": False,
        }

    def _check_text(self, params: dict[str, Any]) -> str:
        text = str(params.get("text", ""))
        plain = text
        if params.get("parse_mode") == "HTML":
            try:
                plain = html_to_text(text)
            except HtmlError as error:
                raise _ApiError(400, f"Bad Request: can't parse entities: {error}") from None
        if not plain.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if utf16_length(plain) > MESSAGE_LIMIT:
            raise _ApiError(400, "Bad Request: message is too long")
        return text

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        if "chat_id" not in params:
            raise _ApiError(400, "Bad Request: chat_id is empty")
        text = self._check_text(params)
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": _int(params["chat_id"]), "type": "private"},
            "text": text,
        }

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        text = self._check_text(params)
        return {
            "message_id": _int(params.get("message_id")),
            "text": text,
            "chat": {"id": _int(params.get("chat_id")), "type": "private"},
        }

    def _api_sendChatAction(self, params: dict[str, Any]) -> bool:  # noqa: N802
        if "chat_id" not in params:
            raise _ApiError(400, "Bad Request: chat_id is empty")
        return True

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:  # noqa: N802
        return True

    def _api_deleteMessage(self, params: dict[str, Any]) -> bool:  # noqa: N802
        return True

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:  # noqa: N802
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = {
            "url": str(params.get("url", "")),
            "secret_token": secret,
            "allowed_updates": params.get("allowed_updates"),
        }
        return True

    def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        file_id = str(params.get("file_id", ""))
        with self._lock:
            data = self.files.get(file_id)
        if data is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if len(data) > 20 * 1024 * 1024:
            raise _ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": "u" + file_id,
            "file_size": len(data),
            "file_path": f"documents/{file_id}.bin",
        }

    def _sent_file(self, params: dict[str, Any], field: str, limit: int) -> dict[str, Any]:
        upload = params.get(field)
        if not isinstance(upload, dict) or "data" not in upload:
            raise _ApiError(400, f"Bad Request: there is no {field} in the request")
        if len(upload["data"]) > limit:
            raise _ApiError(413, "Request Entity Too Large")
        chat_id = _int(params.get("chat_id"))
        with self._lock:
            self.sent_files.append(
                {
                    "method": field,
                    "chat_id": chat_id,
                    "name": upload.get("filename"),
                    "content_type": upload.get("content_type"),
                    "data": upload["data"],
                    "caption": params.get("caption"),
                }
            )
        return {"message_id": next(self._message_ids), "chat": {"id": chat_id}}

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return self._sent_file(params, "photo", 10 * 1024 * 1024)

    def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        return self._sent_file(params, "document", 50 * 1024 * 1024)

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:  # noqa: N802
        commands = params.get("commands")
        if not isinstance(commands, list) or not all(
            isinstance(c, dict) and re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command", "")))
            for c in commands
        ):
            raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        with self._lock:
            self.commands = list(commands)
        return True

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:  # noqa: N802
        self.webhook = {"url": "", "secret_token": None}
        return True

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for `getUpdates` (the long-polling way a bot receives them)."""
        with self._lock:
            self._updates.append(update)

    def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:  # noqa: N802
        if self.webhook.get("url"):
            # As Telegram: no getUpdates while a webhook is set.
            raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = _int(params.get("offset", 0))
        deadline = time.monotonic() + min(float(params.get("timeout", 0) or 0), 2.0)
        while True:
            with self._lock:
                # An offset confirms every update before it, as on Telegram.
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = list(self._updates)
            if ready or time.monotonic() >= deadline:
                return ready
            time.sleep(0.02)

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }
        if self.webhook.get("allowed_updates"):
            info["allowed_updates"] = self.webhook["allowed_updates"]
        return info


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _error(status: int, description: str, retry_after: float | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return body


def _params(handler: BaseHTTPRequestHandler, query: str) -> dict[str, Any]:
    params: dict[str, Any] = dict(urllib.parse.parse_qsl(query))
    length = int(handler.headers.get("Content-Length") or 0)
    raw = handler.rfile.read(length) if length else b""
    kind = (handler.headers.get("Content-Type") or "").split(";")[0].strip()
    if raw and kind == "application/json":
        data = json.loads(raw)
        if isinstance(data, dict):
            params.update(data)
    elif raw and kind == "multipart/form-data":
        head = f"Content-Type: {handler.headers.get('Content-Type')}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename is not None:
                params[str(name)] = {
                    "filename": filename,
                    "content_type": part.get_content_type(),
                    "data": payload,
                }
            else:
                value = payload.decode()
                try:
                    params[str(name)] = json.loads(value) if value[:1] in "[{" else value
                except ValueError:
                    params[str(name)] = value
    elif raw:
        for key, value in urllib.parse.parse_qsl(raw.decode()):
            # Form-encoded calls carry nested objects as JSON strings.
            try:
                params[key] = json.loads(value) if value[:1] in "[{" else value
            except ValueError:
                params[key] = value
    return params


@contextmanager
def fake_telegram(token: str = DEFAULT_TOKEN, **kwargs: Any) -> Iterator[FakeTelegram]:
    """Run a FakeTelegram on 127.0.0.1 (a free port) for the duration of the block."""
    api = FakeTelegram(token, **kwargs)
    path_pattern = re.compile(r"^/bot([^/]+)/([A-Za-z]+)$")
    file_pattern = re.compile(r"^/file/bot([^/]+)/(.+)$")

    class Handler(BaseHTTPRequestHandler):
        def _file(self, token: str, file_path: str) -> None:
            data = api.file_bytes(file_path) if token == api.token else None
            self.send_response(200 if data is not None else 404)
            self.send_header("Content-Length", str(len(data or b"")))
            self.end_headers()
            self.wfile.write(data or b"")

        def _serve(self) -> None:
            path, _, query = self.path.partition("?")
            downloading = file_pattern.match(path)
            if downloading is not None and self.command == "GET":
                self._file(downloading.group(1), downloading.group(2))
                return
            match = path_pattern.match(path)
            if match is None:
                answer = _error(404, "Not Found")
            else:
                try:
                    params = _params(self, query)
                except ValueError:
                    answer = _error(400, "Bad Request: can't parse JSON")
                else:
                    answer = api._dispatch(match.group(2), params, match.group(1))
            body = json.dumps(answer).encode()
            self.send_response(200 if answer.get("ok") else int(answer["error_code"]))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _serve  # noqa: N815
        do_POST = _serve  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll interval: shutdown() waits for one, and tests start many of these.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
