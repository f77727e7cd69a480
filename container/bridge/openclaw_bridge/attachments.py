"""Files in and out of the agent.

In: a message's attachments (a web upload in the state bucket, or a Telegram file the bridge
fetches with the bot token) are checked again here (size and type as stored, not as declared)
and given to the agent: an image as an `image_url` part of the turn's message (a data URI, which
OpenClaw's chat-completions endpoint accepts without fetching anything) when the turn's model
accepts images; every other file, and an image the model cannot see, saved into the agent's
workspace as the agent's own user (`attachments/<message>/<name>`), with a line telling the agent
its name, type and path. A voice note is transcribed with the provider's own speech-to-text
when it has one (OpenAI's `/audio/transcriptions`, with the owner's key, called by the bridge:
the model proxy forwards chat endpoints only): the agent gets the transcript and the reply opens
with it. With any other provider the note is saved like a file and the reply says it was not
transcribed (the pinned OpenClaw's media understanding works on its own channels, not on the
HTTP endpoint the bridge uses).

Out: a reply line `MEDIA:<path>` (OpenClaw's own convention for attaching a file to a reply: a
standalone line, outside code blocks) names a file the agent made. OpenClaw's chat-completions
stream drops such lines (it has no field for media), so after each turn the bridge reads the
turn's assistant messages from the session's transcript (`chat.history` over the gateway's
WebSocket) and collects the `MEDIA:` lines there, and any `mediaUrl`/`mediaUrls` fields. It reads
each file as the agent's user (so the agent cannot make the bridge read the bridge's own files),
stores it in the state bucket under `outbound/<session>/`; the channels then send it (a Telegram
photo or document, a `chat.final` attachment with a short-lived URL).
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import re
import secrets
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Final

import httpx
from botocore.exceptions import BotoCoreError, ClientError

from openclaw_bridge.agent import DEFAULT_PATH, AgentRunner
from openclaw_bridge.gateway import openclaw_session_key
from openclaw_bridge.reminders import AGENT_SESSION_PREFIX, GatewaySocket, GatewaySocketError
from openclaw_deploy.runtime.contract import (
    FILE_TYPES,
    IMAGE_TYPES,
    MAX_IMAGE_BYTES,
    MAX_UPLOAD_BYTES,
    OUTBOUND_PREFIX,
    UPLOAD_TTL_SECONDS,
    Attachment,
    QueueMessage,
    safe_file_name,
)
from openclaw_deploy.runtime.telegram import (
    DOWNLOAD_LIMIT_BYTES,
    TelegramBot,
    TelegramError,
)

log = logging.getLogger("openclaw_bridge.attachments")

WORKSPACE_FOLDER: Final = "attachments"
MAX_OUTBOUND_FILES: Final = 8
MAX_OUTBOUND_BYTES: Final = 50 * 1024 * 1024
"""Telegram's limit for a bot's documents; the web takes the same."""
MEDIA_LINE: Final = re.compile(r'^ {0,3}MEDIA:\s*(?:"([^"]+)"|(\S.*?))\s*$')
FENCE: Final = re.compile(r"^ {0,3}(```|~~~)")

# What the agent is told (plain text, after the person's own words).
TOLD_IMAGE: Final = "[The user attached the image {name} ({type}, {size}); it is shown to you.]"
TOLD_FILE: Final = (
    "[The user attached {name} ({type}, {size}). It is saved in your workspace as {path}.]"
)
TOLD_VOICE: Final = (
    "[The user sent a voice note ({type}, {size}). It could not be transcribed; "
    "it is saved in your workspace as {path}.]"
)
# What the person is told, at the top of the reply.
NO_VISION: Final = (
    "(The model {model} does not accept images, so I could not look at {name}; "
    "it is saved in my workspace as a file.)"
)
NO_TRANSCRIPT: Final = (
    "(Voice notes are not transcribed with this setup: the provider's speech-to-text is not "
    "available to the agent. Please type your message.)"
)
REFUSED: Final = "(I could not take {name}: {reason}.)"
TOLD_TRANSCRIPT: Final = '[The user sent a voice note; its transcript: "{text}"]'
SHOWN_TRANSCRIPT: Final = "🎤 “{text}”"
TRANSCRIBE_MODEL: Final = "gpt-4o-mini-transcribe"
MAX_TRANSCRIPT_CHARS: Final = 4000

Transcribe = Callable[[bytes, str, str], str]
"""(audio, content type, file name) → the words; raises TranscriptionError."""


class TranscriptionError(RuntimeError):
    pass


@dataclass(frozen=True)
class OpenAITranscriber:
    """Speech-to-text with the provider's `/audio/transcriptions` (OpenAI's API shape)."""

    base_url: str
    key: str
    model: str = TRANSCRIBE_MODEL
    timeout: float = 60.0

    def __call__(self, data: bytes, content_type: str, name: str) -> str:
        try:
            answer = httpx.post(
                f"{self.base_url.rstrip('/')}/audio/transcriptions",
                headers={"Authorization": f"Bearer {self.key}"},
                data={"model": self.model, "response_format": "json"},
                files={"file": (name, data, content_type)},
                timeout=self.timeout,
            )
        except httpx.HTTPError as error:
            raise TranscriptionError(f"could not reach it ({type(error).__name__})") from None
        if answer.status_code != 200:
            raise TranscriptionError(f"it answered HTTP {answer.status_code}")
        try:
            text = answer.json().get("text")
        except ValueError:
            text = None
        if not isinstance(text, str) or not text.strip():
            raise TranscriptionError("it heard no words")
        return text.strip()[:MAX_TRANSCRIPT_CHARS]


# Models that accept images, by provider (OpenClaw is told with `input: ["text", "image"]`).
_VISION: Final = {
    "anthropic": re.compile(r"^claude-"),
    "bedrock": re.compile(r"(^|[.:/])(anthropic\.)?claude-"),
    "openai": re.compile(r"^(gpt-4o|gpt-4\.1|gpt-5|o[134])"),
    "openrouter": re.compile(
        r"^(anthropic/claude-|openai/(gpt-4o|gpt-4\.1|gpt-5|o[134])|google/gemini|"
        r"meta-llama/llama-4|qwen/qwen.*vl|mistralai/pixtral)"
    ),
    "google": re.compile(r"^gemini"),
    "offline": re.compile(r".*"),  # the demo model reports what it received
}


def accepts_images(provider: str, model: str) -> bool:
    """Whether `model` of `provider` takes image input (DeepSeek's chat models do not)."""
    pattern = _VISION.get(provider)
    return bool(pattern and pattern.search(model))


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


class AttachmentError(RuntimeError):
    """A file we do not give to the agent (the reason is said to the person)."""


@dataclass(frozen=True, kw_only=True)
class Prepared:
    """What a message's files make of the turn."""

    text: str
    """The person's words, and one line per file for the agent."""
    images: list[dict[str, Any]] = field(default_factory=list)
    """`image_url` parts for the turn's message."""
    notices: list[str] = field(default_factory=list)
    """Said to the person at the top of the reply."""
    saved: list[str] = field(default_factory=list)
    """Workspace paths written."""


@dataclass(frozen=True, kw_only=True)
class OutboundFile:
    key: str
    name: str
    content_type: str
    size: int
    data: bytes = field(repr=False)

    @property
    def is_image(self) -> bool:
        return self.content_type in IMAGE_TYPES

    def record(self) -> dict[str, Any]:
        """As the history keeps it."""
        return {
            "key": self.key,
            "name": self.name,
            "contentType": self.content_type,
            "size": self.size,
        }


class Attachments:
    def __init__(
        self,
        s3_client: Any,
        bucket: str,
        *,
        workspace: Path,
        runner: AgentRunner,
        telegram: TelegramBot | None = None,
    ) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self.workspace = workspace
        self._runner = runner
        self._telegram = telegram
        self._socket: GatewaySocket | None = None

    def connect(self, base_url: str, token: str) -> None:
        """Read turns' transcripts from the gateway at `base_url` (its files, after each turn)."""
        self._socket = GatewaySocket(base_url.replace("http://", "ws://", 1), token)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()

    # -- in ------------------------------------------------------------------------------------

    def prepare(
        self,
        msg: QueueMessage,
        *,
        model: tuple[str, str],
        transcribe: Transcribe | None = None,
    ) -> Prepared:
        """Fetch, check and place a message's files; `model` is the turn's (provider, model),
        `transcribe` the provider's speech-to-text when it has one."""
        lines = [msg.text] if msg.text.strip() else []
        images: list[dict[str, Any]] = []
        notices: list[str] = []
        saved: list[str] = []
        vision = accepts_images(*model)
        for attachment in msg.attachments:
            try:
                data, content_type = self._fetch(attachment)
            except AttachmentError as problem:
                log.warning(
                    "attachment %s of %s refused: %s", attachment.name, msg.message_id, problem
                )
                notices.append(REFUSED.format(name=attachment.name, reason=problem))
                continue
            size = human_size(len(data))
            if content_type in IMAGE_TYPES and vision and len(data) <= MAX_IMAGE_BYTES:
                encoded = base64.b64encode(data).decode("ascii")
                images.append(
                    {
                        "type": "image_url",
                        "image_url": {"url": f"data:{content_type};base64,{encoded}"},
                    }
                )
                lines.append(TOLD_IMAGE.format(name=attachment.name, type=content_type, size=size))
                continue
            if attachment.kind == "voice" and transcribe is not None:
                try:
                    words = transcribe(data, content_type, attachment.name)
                except TranscriptionError as problem:
                    log.warning("voice note of %s not transcribed: %s", msg.message_id, problem)
                else:
                    lines.append(TOLD_TRANSCRIPT.format(text=words))
                    notices.append(SHOWN_TRANSCRIPT.format(text=words))
                    continue
            try:
                path = self._save(msg.message_id, attachment.name, data)
            except (AttachmentError, OSError) as problem:
                log.error("could not save %s for the agent: %s", attachment.name, problem)
                notices.append(REFUSED.format(name=attachment.name, reason="it could not be saved"))
                continue
            saved.append(path)
            if attachment.kind == "voice":
                lines.append(TOLD_VOICE.format(type=content_type, size=size, path=path))
                notices.append(NO_TRANSCRIPT)
                continue
            lines.append(
                TOLD_FILE.format(name=attachment.name, type=content_type, size=size, path=path)
            )
            if content_type in IMAGE_TYPES:
                notices.append(
                    NO_VISION.format(model=f"{model[0]}/{model[1]}", name=attachment.name)
                )
        return Prepared(text="\n\n".join(lines), images=images, notices=notices, saved=saved)

    def _fetch(self, attachment: Attachment) -> tuple[bytes, str]:
        if attachment.key is not None:
            return self._from_bucket(attachment.key)
        if attachment.file_id is not None:
            return self._from_telegram(attachment)
        raise AttachmentError("it did not arrive")

    def _from_bucket(self, key: str) -> tuple[bytes, str]:
        try:
            head = self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            raise AttachmentError("the upload is missing (it may have failed)") from error
        except BotoCoreError as error:
            raise AttachmentError("the file store did not answer") from error
        size = int(head.get("ContentLength") or 0)
        content_type = str(head.get("ContentType") or "")
        # The presigned POST fixed both; checked again, as stored, in case it was not.
        if size > MAX_UPLOAD_BYTES:
            self._discard(key)
            raise AttachmentError(f"it is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
        if content_type not in IMAGE_TYPES and content_type not in FILE_TYPES:
            self._discard(key)
            raise AttachmentError(f"files of type {content_type or 'unknown'} are not accepted")
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"]
            data = body.read(MAX_UPLOAD_BYTES + 1)
        except (ClientError, BotoCoreError) as error:
            raise AttachmentError("the file store did not answer") from error
        if len(data) > MAX_UPLOAD_BYTES:
            raise AttachmentError(f"it is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
        return bytes(data), content_type

    def _discard(self, key: str) -> None:
        try:
            self._s3.delete_object(Bucket=self._bucket, Key=key)
        except (ClientError, BotoCoreError) as error:
            log.warning("could not remove the refused upload %s: %s", key, error)

    def _from_telegram(self, attachment: Attachment) -> tuple[bytes, str]:
        if self._telegram is None:
            raise AttachmentError("the agent has no Telegram bot token")
        limit = DOWNLOAD_LIMIT_BYTES // (1024 * 1024)
        if attachment.size > DOWNLOAD_LIMIT_BYTES:
            raise AttachmentError(f"Telegram lets bots download files up to {limit} MB")
        assert attachment.file_id is not None
        try:
            path, _ = self._telegram.get_file(attachment.file_id)
            data = self._telegram.download(path)
        except TelegramError as error:
            raise AttachmentError(f"Telegram did not hand it over ({error})") from error
        return data, attachment.content_type

    def _save(self, message_id: str, name: str, data: bytes) -> str:
        """Write a file into the agent's workspace as the agent's user; its workspace path."""
        folder = PurePosixPath(WORKSPACE_FOLDER) / safe_file_name(message_id, "message")
        relative = folder / safe_file_name(name, "file")
        target = self.workspace / relative
        if self._runner.separate:
            self._as_agent(["mkdir", "-p", "--", str(target.parent)])
            self._as_agent(["tee", "--", str(target)], data)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return str(relative)

    def _as_agent(self, argv: list[str], data: bytes | None = None) -> bytes:
        try:
            result = subprocess.run(
                self._runner.command(argv),
                env={"PATH": DEFAULT_PATH},
                cwd="/",
                input=data if data is not None else b"",
                capture_output=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise AttachmentError(f"could not hand the file to the agent ({error})") from None
        if result.returncode != 0:
            raise AttachmentError("could not hand the file to the agent")
        return result.stdout

    # -- out -----------------------------------------------------------------------------------

    def produced(self, session: str) -> list[str]:
        """The files the latest turn of `session` attached (paths as the agent wrote them):
        `MEDIA:` lines and media fields of the assistant messages after the last user's."""
        if self._socket is None:
            return []
        try:
            history = self._socket.request(
                "chat.history",
                {"sessionKey": AGENT_SESSION_PREFIX + openclaw_session_key(session), "limit": 12},
            )
        except GatewaySocketError as error:
            log.warning("could not read the turn's transcript for its files: %s", error)
            return []
        return turn_media(history)

    def publish(
        self, session: str, text: str, paths: list[str] | None = None
    ) -> tuple[str, list[OutboundFile], list[str]]:
        """The reply without its `MEDIA:` lines, the files they (and `paths`) name, stored in
        the bucket, and a note per file that could not be sent."""
        shown, named = media_lines(text)
        paths = list(dict.fromkeys([*named, *(paths or [])]))
        files: list[OutboundFile] = []
        problems: list[str] = []
        for path in paths[:MAX_OUTBOUND_FILES]:
            name = safe_file_name(PurePosixPath(path).name, "file")
            try:
                data = self._read_agent_file(path)
            except AttachmentError as problem:
                log.warning("the agent's file %s was not sent: %s", path, problem)
                problems.append(REFUSED.format(name=name, reason=problem))
                continue
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            key = f"{OUTBOUND_PREFIX}{session}/{secrets.token_hex(8)}/{name}"
            try:
                self._s3.put_object(
                    Bucket=self._bucket, Key=key, Body=data, ContentType=content_type
                )
            except (ClientError, BotoCoreError) as error:
                log.warning("could not store the agent's file %s: %s", path, error)
                problems.append(REFUSED.format(name=name, reason="the file store did not answer"))
                continue
            files.append(
                OutboundFile(
                    key=key, name=name, content_type=content_type, size=len(data), data=data
                )
            )
        return shown, files, problems

    def _read_agent_file(self, path: str) -> bytes:
        target = Path(path) if path.startswith("/") else self.workspace / path
        if path.startswith("~/") and self._runner.home:
            target = Path(self._runner.home) / path[2:]
        if self._runner.separate:
            # As the agent: it can hand over only what it could read itself.
            data = self._as_agent(["head", "-c", str(MAX_OUTBOUND_BYTES + 1), "--", str(target)])
        else:
            try:
                with target.open("rb") as handle:
                    data = handle.read(MAX_OUTBOUND_BYTES + 1)
            except OSError as error:
                raise AttachmentError("the file is not there") from error
        if len(data) > MAX_OUTBOUND_BYTES:
            raise AttachmentError(f"it is over {MAX_OUTBOUND_BYTES // (1024 * 1024)} MB")
        if not data:
            raise AttachmentError("the file is empty")
        return data

    def download_url(self, key: str) -> str:
        return str(
            self._s3.generate_presigned_url(
                "get_object",
                Params={"Bucket": self._bucket, "Key": key},
                ExpiresIn=UPLOAD_TTL_SECONDS,
            )
        )


def _text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text") or "")
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def turn_media(history: Any) -> list[str]:
    """The files named by the assistant messages after the last user message of a
    `chat.history` answer."""
    messages = history.get("messages") if isinstance(history, dict) else None
    if not isinstance(messages, list):
        return []
    last_user = max(
        (i for i, m in enumerate(messages) if isinstance(m, dict) and m.get("role") == "user"),
        default=-1,
    )
    found: list[str] = []
    for message in messages[last_user + 1 :]:
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        found.extend(media_lines(_text_of(message))[1])
        urls = message.get("mediaUrls")
        single = message.get("mediaUrl")
        for url in [*(urls if isinstance(urls, list) else []), single]:
            if isinstance(url, str) and url and not url.startswith(("http://", "https://")):
                found.append(url)
    return list(dict.fromkeys(found))


def media_lines(text: str) -> tuple[str, list[str]]:
    """`text` without its standalone `MEDIA:` lines (outside fenced code), and their paths."""
    kept: list[str] = []
    paths: list[str] = []
    fenced = False
    for line in text.split("\n"):
        if FENCE.match(line):
            fenced = not fenced
        match = None if fenced else MEDIA_LINE.match(line)
        if match is None:
            kept.append(line)
            continue
        path = (match.group(1) or match.group(2) or "").strip()
        if path.startswith(("http://", "https://")) or not path:
            kept.append(line)  # a remote URL: left as a link
            continue
        paths.append(path)
    return "\n".join(kept).strip(), paths
