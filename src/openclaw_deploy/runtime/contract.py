"""The message contract between the web UI, the Lambda handlers and the bridge, defined once.

Three kinds of message cross process boundaries:

* frames the browser sends on the WebSocket (`ClientFrame`, parsed by `parse_client_frame`);
* frames the server sends to the browser (`server_frame` builds them; the bridge and the ws
  handler both use it);
* queue messages from the handlers to the bridge (`QueueMessage`).

`describe()` returns the contract as JSON; `web/src/generated/contract.json` is that output
(a test keeps it current), so the TypeScript client reads the same names and limits.
Documented for people in `docs/protocol.md`. Stdlib only.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

VERSION: Final = 1

MAX_TEXT_CHARS: Final = 32_000
"""Longest chat message accepted from any channel; longer input gets `error` code `too_long`."""
FRAME_BYTES: Final = 32 * 1024
"""API Gateway's WebSocket frame limit; server frames are chunked to stay under it."""
CHUNK_BYTES: Final = 24 * 1024
"""Text bytes per server frame, leaving room for the JSON envelope."""
TELEGRAM_MESSAGE_CHARS: Final = 4096
TICKET_TTL_SECONDS: Final = 60
MAX_REF_CHARS: Final = 512
"""Longest channel reference in a reply target (a Discord interaction token is ~200)."""
ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
"""Client message ids and session keys: safe as SQS dedup ids and OpenClaw session keys."""

# -- attachments (files in and out of the agent) ---------------------------------------------

MAX_UPLOAD_BYTES: Final = 20 * 1024 * 1024
"""Largest file the web chat may attach (Telegram's own bots can download at most 20 MB)."""
MAX_IMAGE_BYTES: Final = 10 * 1024 * 1024
"""Largest image given to the model (OpenClaw's `images.maxBytes` default)."""
MAX_ATTACHMENTS: Final = 8
"""Files per message (OpenClaw takes at most 8 image parts in one message)."""
UPLOAD_TTL_SECONDS: Final = 300
"""How long a presigned upload or download URL stays valid."""
MAX_FILE_NAME_CHARS: Final = 128
IMAGE_TYPES: Final[tuple[str, ...]] = ("image/jpeg", "image/png", "image/gif", "image/webp")
"""Images the model sees (when it accepts images at all)."""
FILE_TYPES: Final[tuple[str, ...]] = (
    "application/pdf",
    "text/plain",
    "text/markdown",
    "text/csv",
    "application/json",
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "audio/ogg",
    "audio/mpeg",
)
"""Other files saved into the agent's workspace (the agent is told their name and type)."""
UPLOADS_PREFIX: Final = "uploads/"
"""State-bucket prefix of files sent to the agent: `uploads/<owner>/<session>/<id>/<name>`."""
OUTBOUND_PREFIX: Final = "outbound/"
"""State-bucket prefix of files the agent produced: `outbound/<session>/<id>/<name>`."""
_UNSAFE_NAME: Final = re.compile(r"[\x00-\x1f\x7f/\\<>:\"|?*]")

ClientType = Literal["chat.send", "chat.stop", "ping", "resume"]
CLIENT_TYPES: Final[tuple[str, ...]] = ("chat.send", "chat.stop", "ping", "resume")

ServerType = Literal[
    "ack",  # chat.send accepted and queued (id = the client's message id)
    "pong",
    "agent.status",  # lifecycle state + phase while the agent wakes or sleeps
    "chat.delta",  # a piece of the reply being written
    "chat.final",  # the reply is complete (carries the full text unless chunked)
    "agent.activity",  # what the agent is doing for a reply (thinking, running a tool)
    "error",
]
SERVER_TYPES: Final[tuple[str, ...]] = (
    "ack",
    "pong",
    "agent.status",
    "chat.delta",
    "chat.final",
    "agent.activity",
    "error",
)

AgentState = Literal["Idle", "Starting", "Running", "Stopping"]
AGENT_STATES: Final[tuple[str, ...]] = ("Idle", "Starting", "Running", "Stopping")
PHASES: Final[tuple[str, ...]] = ("queued", "starting", "restoring", "loading", "ready", "stopping")
"""Phases shown while the agent wakes: task starting, restoring memory, loading OpenClaw."""

Channel = Literal["web", "telegram", "slack", "discord"]
CHANNELS: Final[tuple[str, ...]] = ("web", "telegram", "slack", "discord")

ERROR_CODES: Final[tuple[str, ...]] = (
    "bad_request",
    "too_long",
    "unauthorized",
    "rate_limited",
    "agent_failed",
    "internal",
)


class ContractError(ValueError):
    """A message that does not follow the contract; `code` is one of ERROR_CODES."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# -- untrusted JSON ----------------------------------------------------------------------------

MAX_JSON_BYTES: Final = 256 * 1024
"""Nothing any channel sends us is bigger (a chat message is at most 32,000 characters)."""
MAX_JSON_DEPTH: Final = 32
"""Deeper than anything we accept; checked before parsing, so no input reaches the recursion
limit of the parser or of the code that walks its result."""
_JSON_STRING: Final = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS: Final = re.compile(r"[\[\]{}]")
_LONE_SURROGATE: Final = re.compile(r"[\ud800-\udfff]")
_ASCII_INT: Final = re.compile(r"-?[0-9]{1,18}")


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in `text` (brackets inside strings do not count)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def clean_text(text: str) -> str:
    """`text` with each lone UTF-16 surrogate (valid in JSON, not in UTF-8) replaced by U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text) if _LONE_SURROGATE.search(text) else text


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_clean(item) for item in value]
    if isinstance(value, dict):
        return {clean_text(key): _clean(item) for key, item in value.items()}
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(
    raw: str | bytes, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> Any:
    """`json.loads` for input from outside: ContractError (never RecursionError, a decode error
    or a 5xx further on) for anything too big, too deep, not UTF-8 or not JSON. NaN and
    Infinity are refused; lone surrogates in strings are replaced, so the text can be stored,
    queued and sent on as UTF-8."""
    if len(raw) > max_bytes:
        raise ContractError("too_long", f"the JSON is over {max_bytes // 1024} KB")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ContractError("bad_request", "the JSON is not UTF-8") from None
    if json_depth(raw) > max_depth:
        raise ContractError("bad_request", f"the JSON nests deeper than {max_depth} levels")
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise ContractError("bad_request", "not valid JSON") from None
    return _clean(data)


def ascii_int(text: object) -> int | None:
    """`text` as an integer when it is written in ASCII digits (an optional minus and at most 18
    of them), else None: `int()` also takes `'²'`-like digits of other scripts, `' 1_0 '` and
    thousands of digits."""
    if not isinstance(text, str) or not _ASCII_INT.fullmatch(text):
        return None
    return int(text)


def file_name_problem(name: object) -> str | None:
    """Why `name` cannot be a stored file's name (None when it can): a plain name, no folder,
    no `..`, no control or reserved characters, at most MAX_FILE_NAME_CHARS characters."""
    if not isinstance(name, str) or not name.strip():
        return "the file needs a name"
    if len(name) > MAX_FILE_NAME_CHARS:
        return f"the file name is longer than {MAX_FILE_NAME_CHARS} characters"
    if ".." in name or name.startswith((".", " ")) or name.endswith((" ", ".")):
        return "the file name may not contain '..' or start or end with a dot or space"
    if _UNSAFE_NAME.search(name):
        return 'the file name may not contain a folder, control characters or <>:"|?*'
    return None


def safe_file_name(name: str, fallback: str) -> str:
    """`name` made safe to store (for names from Telegram, which we do not refuse)."""
    cleaned = _UNSAFE_NAME.sub("_", name).replace("..", "_").strip(" .")[:MAX_FILE_NAME_CHARS]
    return cleaned if file_name_problem(cleaned) is None else fallback


def upload_type_problem(content_type: object) -> str | None:
    if content_type in IMAGE_TYPES or content_type in FILE_TYPES:
        return None
    return "files of this type cannot be attached (images, PDF, text, office and zip files can)"


def upload_size_problem(size: object) -> str | None:
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        return "size must be a positive whole number of bytes"
    if size > MAX_UPLOAD_BYTES:
        return f"the file is {size} bytes; the limit is {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"
    return None


def uploads_prefix(owner: str, session: str) -> str:
    """Where one owner's uploads for one conversation go in the state bucket."""
    return f"{UPLOADS_PREFIX}{owner}/{session}/"


def is_upload_of(key: str, owner: str, session: str) -> bool:
    """Whether `key` is an upload `POST /api/uploads` made for this owner and conversation:
    `uploads/<owner>/<session>/<16 hex>/<plain name>`."""
    prefix = uploads_prefix(owner, session)
    if not owner or not key.startswith(prefix):
        return False
    folder, _, name = key[len(prefix) :].partition("/")
    return bool(re.fullmatch(r"[0-9a-f]{16}", folder)) and file_name_problem(name) is None


@dataclass(frozen=True, kw_only=True)
class Attachment:
    """A file that goes with a message: in the state bucket (`key`) or, from Telegram, still on
    Telegram's servers (`file_id`, fetched by the bridge, which holds the bot token)."""

    name: str
    content_type: str
    size: int
    key: str | None = None
    file_id: str | None = None
    kind: str = "file"
    """`image`, `file` or `voice`."""

    def public(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "name": self.name,
            "contentType": self.content_type,
            "size": self.size,
            "kind": self.kind,
        }
        if self.key is not None:
            found["key"] = self.key
        if self.file_id is not None:
            found["fileId"] = self.file_id
        return found

    @classmethod
    def parse(cls, data: object) -> Attachment:
        """One attachment from a frame or queue body; ContractError when it is off-contract."""
        if not isinstance(data, dict):
            raise ContractError("bad_request", "an attachment must be an object")
        key, file_id = data.get("key"), data.get("fileId")
        if key is not None and (
            not isinstance(key, str) or not key.startswith(UPLOADS_PREFIX) or len(key) > 1024
        ):
            raise ContractError("bad_request", "attachment key must be an uploads/ key")
        if file_id is not None and (not isinstance(file_id, str) or len(file_id) > MAX_REF_CHARS):
            raise ContractError("bad_request", "attachment fileId must be a short string")
        if (key is None) == (file_id is None):
            raise ContractError("bad_request", "an attachment needs a key")
        name = data.get("name")
        if (problem := file_name_problem(name)) is not None:
            raise ContractError("bad_request", f"attachment name: {problem}")
        content_type, size = data.get("contentType"), data.get("size")
        if not isinstance(content_type, str) or len(content_type) > 128:
            raise ContractError("bad_request", "attachment contentType must be a string")
        if key is not None and (problem := upload_type_problem(content_type)) is not None:
            raise ContractError("bad_request", f"attachment contentType: {problem}")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ContractError("bad_request", "attachment size must be a whole number")
        kind = data.get("kind")
        if kind not in ("image", "file", "voice"):
            kind = "image" if content_type in IMAGE_TYPES else "file"
        assert isinstance(name, str)
        return cls(
            name=name, content_type=content_type, size=size, key=key, file_id=file_id, kind=kind
        )


def parse_attachments(value: object) -> tuple[Attachment, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_ATTACHMENTS:
        raise ContractError(
            "bad_request", f"attachments must be a list of at most {MAX_ATTACHMENTS}"
        )
    return tuple(Attachment.parse(item) for item in value)


@dataclass(frozen=True, kw_only=True)
class ClientFrame:
    type: str
    id: str
    session: str | None = None
    text: str | None = None
    attachments: tuple[Attachment, ...] = ()


def _require_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise ContractError("bad_request", f"{what} must match {ID_PATTERN.pattern}")
    return value


def parse_client_frame(raw: str | bytes | None) -> ClientFrame:
    """Parse and validate one browser frame; raise ContractError on anything off-contract."""
    if raw is None or len(raw) == 0:
        raise ContractError("bad_request", "empty frame")
    try:
        data = loads(raw, max_bytes=FRAME_BYTES)
    except ContractError as error:
        raise ContractError(error.code, f"frame: {error}") from None
    if not isinstance(data, dict):
        raise ContractError("bad_request", "frame must be a JSON object")
    kind = data.get("type")
    if kind not in CLIENT_TYPES:
        raise ContractError("bad_request", f"type must be one of {', '.join(CLIENT_TYPES)}")
    frame_id = _require_id(data.get("id"), "id")
    if kind == "chat.send":
        session = _require_id(data.get("session"), "session")
        attachments = parse_attachments(data.get("attachments"))
        text = data.get("text")
        if text is None and attachments:
            text = ""
        if not isinstance(text, str) or not (text.strip() or attachments):
            raise ContractError("bad_request", "text must be a non-empty string")
        if len(text) > MAX_TEXT_CHARS:
            raise ContractError(
                "too_long", f"message is {len(text)} characters; the limit is {MAX_TEXT_CHARS}"
            )
        for attachment in attachments:
            if attachment.key is None:
                raise ContractError("bad_request", "a web attachment needs the key of its upload")
        return ClientFrame(
            type=kind, id=frame_id, session=session, text=text, attachments=attachments
        )
    if kind == "chat.stop":
        # `id` names the chat.send whose reply should stop.
        return ClientFrame(
            type=kind, id=frame_id, session=_require_id(data.get("session"), "session")
        )
    if kind == "resume":
        return ClientFrame(
            type=kind, id=frame_id, session=_require_id(data.get("session"), "session")
        )
    return ClientFrame(type=kind, id=frame_id)


def server_frame(kind: ServerType, **fields: Any) -> str:
    """One server→browser frame as JSON text. Fields are those documented in docs/protocol.md."""
    if kind not in SERVER_TYPES:
        raise ValueError(f"unknown server frame type {kind!r}")
    return json.dumps({"type": kind, **fields}, separators=(",", ":"), ensure_ascii=False)


def chunk_text(text: str, limit_bytes: int = CHUNK_BYTES) -> list[str]:
    """Split text into pieces of at most `limit_bytes` UTF-8 bytes, never inside a character."""
    if not text:
        return [""]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        width = len(char.encode("utf-8"))
        if size + width > limit_bytes and current:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    pieces.append("".join(current))
    return pieces


@dataclass(frozen=True, kw_only=True)
class ReplyTarget:
    """Where the bridge sends the reply: the web UI's connections, a Telegram chat, a Slack
    thread or a Discord interaction."""

    chat_id: int | None = None
    """Telegram chat id; None for the web (the bridge posts to every open connection)."""
    reply_to_message_id: int | None = None
    conversation: str | None = None
    """Slack: the channel id; Discord: the application id (its follow-up webhook's owner)."""
    thread: str | None = None
    """Slack: the thread's `ts`; Discord: the interaction token (valid 15 minutes)."""


@dataclass(frozen=True, kw_only=True)
class QueueMessage:
    """The body of one message on the inbound FIFO queue (group = session)."""

    channel: str
    session: str
    message_id: str
    """The channel's own id (client message id, `tg-<update_id>`): dedup id and idempotency key."""
    text: str
    received_at: float
    reply: ReplyTarget = field(default_factory=ReplyTarget)
    sender: str | None = None
    attachments: tuple[Attachment, ...] = ()
    v: int = VERSION

    def to_json(self) -> str:
        body = asdict(self)
        body["attachments"] = [a.public() for a in self.attachments]
        if not self.attachments:
            del body["attachments"]  # bodies without files stay as they were
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, body: str) -> QueueMessage:
        """Parse a queue body; ContractError when it is malformed (it then goes to the DLQ)."""
        try:
            data = loads(body)
        except ContractError:
            raise ContractError("bad_request", "queue message is not JSON") from None
        if not isinstance(data, dict) or data.get("v") != VERSION:
            raise ContractError("bad_request", f"queue message must be an object with v={VERSION}")
        channel = data.get("channel")
        if channel not in CHANNELS:
            raise ContractError("bad_request", f"channel must be one of {', '.join(CHANNELS)}")
        attachments = parse_attachments(data.get("attachments"))
        text = data.get("text")
        if not isinstance(text, str) or not (text or attachments) or len(text) > MAX_TEXT_CHARS:
            raise ContractError("bad_request", "text must be a non-empty string within the limit")
        received_at = data.get("received_at")
        if not isinstance(received_at, int | float):
            raise ContractError("bad_request", "received_at must be a number")
        reply = data.get("reply") or {}
        if not isinstance(reply, dict):
            raise ContractError("bad_request", "reply must be an object")
        chat_id = reply.get("chat_id")
        reply_to = reply.get("reply_to_message_id")
        if chat_id is not None and not isinstance(chat_id, int):
            raise ContractError("bad_request", "reply.chat_id must be an integer")
        if channel == "telegram" and chat_id is None:
            raise ContractError("bad_request", "a telegram message needs reply.chat_id")
        conversation, thread = reply.get("conversation"), reply.get("thread")
        for name, value in (("conversation", conversation), ("thread", thread)):
            if value is not None and (not isinstance(value, str) or len(value) > MAX_REF_CHARS):
                raise ContractError("bad_request", f"reply.{name} must be a short string")
        if channel in ("slack", "discord") and (conversation is None or thread is None):
            raise ContractError(
                "bad_request", f"a {channel} message needs reply.conversation and reply.thread"
            )
        sender = data.get("sender")
        return cls(
            channel=channel,
            session=_require_id(data.get("session"), "session"),
            message_id=_require_id(data.get("message_id"), "message_id"),
            text=text,
            received_at=float(received_at),
            reply=ReplyTarget(
                chat_id=chat_id,
                reply_to_message_id=reply_to if isinstance(reply_to, int) else None,
                conversation=conversation,
                thread=thread,
            ),
            sender=sender if isinstance(sender, str) else None,
            attachments=attachments,
        )


@dataclass(frozen=True, kw_only=True)
class StopRequest:
    """A control message on the inbound queue: stop the reply to `message_id` (the owner pressed
    Stop). Sent in a group of its own (`stop_group`), so the FIFO queue delivers it while the
    session's own group is held by the turn it stops."""

    session: str
    message_id: str
    v: int = VERSION

    def to_json(self) -> str:
        body = {"v": self.v, "stop": {"session": self.session, "message_id": self.message_id}}
        return json.dumps(body, separators=(",", ":"))

    @property
    def group(self) -> str:
        return f"stop:{self.session}"

    @property
    def dedup_id(self) -> str:
        return f"stop:{self.message_id}"

    @classmethod
    def from_json(cls, body: str) -> StopRequest | None:
        """The stop request in `body`, None when `body` is not one (a chat message); a malformed
        stop request raises ContractError."""
        if '"stop"' not in body:
            return None
        try:
            data = loads(body)
        except ContractError:
            return None
        if not isinstance(data, dict) or "stop" not in data or "channel" in data:
            return None
        stop = data["stop"]
        if data.get("v") != VERSION or not isinstance(stop, dict):
            raise ContractError("bad_request", f"a stop request must be an object with v={VERSION}")
        return cls(
            session=_require_id(stop.get("session"), "stop.session"),
            message_id=_require_id(stop.get("message_id"), "stop.message_id"),
        )


ACTIVITY_KINDS: Final[tuple[str, ...]] = ("thinking", "tool")
"""What `agent.activity` says the agent is doing: running a tool (`tool` names it, `detail` says
on what: a command, a page) or thinking again (the model works once the tool is done)."""
ACTIVITY_DETAIL_CHARS: Final = 160


def describe() -> dict[str, Any]:
    """The contract's names and limits as data, for the web client."""
    return {
        "version": VERSION,
        "clientTypes": list(CLIENT_TYPES),
        "serverTypes": list(SERVER_TYPES),
        "agentStates": list(AGENT_STATES),
        "phases": list(PHASES),
        "errorCodes": list(ERROR_CODES),
        "idPattern": ID_PATTERN.pattern,
        "maxTextChars": MAX_TEXT_CHARS,
        "frameBytes": FRAME_BYTES,
        "ticketTtlSeconds": TICKET_TTL_SECONDS,
        "activityKinds": list(ACTIVITY_KINDS),
        "uploads": {
            "maxBytes": MAX_UPLOAD_BYTES,
            "maxImageBytes": MAX_IMAGE_BYTES,
            "maxFiles": MAX_ATTACHMENTS,
            "maxNameChars": MAX_FILE_NAME_CHARS,
            "imageTypes": list(IMAGE_TYPES),
            "fileTypes": list(FILE_TYPES),
            "ttlSeconds": UPLOAD_TTL_SECONDS,
        },
    }
