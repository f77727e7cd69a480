"""Streaming a reply to a Slack thread or a Discord interaction, by editing one message.

Both work alike: once text arrives, the reply shows as one message that is edited as it grows,
no more often than every `EDIT_INTERVAL` seconds (both APIs rate-limit edits, and a 429's
`retry_after` is honoured). The final text replaces the preview, split into as many messages as
the channel's limit needs (Slack ~4,000 characters, Discord 2,000).

* Slack: the reply is posted in the thread of the message that asked (`chat.postMessage`), then
  edited with `chat.update`; the bot token is read from SSM when the first Slack reply starts.
* Discord: the deferred response ("thinking…") is edited into the answer through the
  interaction's webhook (`PATCH .../messages/@original`), further pieces are follow-ups. The
  interaction token is the credential: no bot token is needed.

The stream offers the methods the bridge calls on the Telegram stream (`start`, `delta`,
`finish`, `fail`, `abandon`, `shown`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Final, Protocol

from openclaw_bridge.telegram_out import DeliveryError
from openclaw_deploy.runtime import discord, slack

log = logging.getLogger("openclaw_bridge.chat")

EDIT_INTERVAL: Final = 1.5
FINAL_ATTEMPTS: Final = 5
MAX_RETRY_AFTER: Final = 60.0


class ChannelStream(Protocol):
    """What the bridge does with a reply on its way to a chat channel."""

    @property
    def shown(self) -> bool: ...

    def start(self) -> None: ...

    def delta(self, text: str) -> None: ...

    def finish(self, text: str) -> None: ...

    def fail(self, message: str) -> None: ...

    def abandon(self) -> None: ...


class ApiError(Exception):
    """A refusal of the channel's API, as the stream needs to see it."""

    def __init__(self, status: int, detail: str, retry_after: float | None) -> None:
        super().__init__(detail)
        self.status = status
        self.retry_after = retry_after


class EditStream:
    """The channel-neutral part: pacing, previews, the final pieces and retries."""

    limit: int = 2000

    def __init__(
        self,
        *,
        edit_interval: float = EDIT_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._edit_interval = edit_interval
        self._sleep = sleep
        self._text = ""
        self._shown: list[tuple[str, str]] = []
        """(message id, text shown) of each message the reply occupies so far."""
        self._done = False
        self._cond = threading.Condition()
        self._next_edit = 0.0
        self._thread: threading.Thread | None = None

    # -- what a channel provides --------------------------------------------------------------

    def _split(self, text: str) -> list[str]:
        raise NotImplementedError

    def _send(self, index: int, piece: str) -> str:
        """Show `piece` as the reply's message `index` (a new one); return its id."""
        raise NotImplementedError

    def _edit(self, message_id: str, piece: str) -> None:
        raise NotImplementedError

    # -- the stream ---------------------------------------------------------------------------

    @property
    def shown(self) -> bool:
        return bool(self._shown)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chat-stream", daemon=True)
        self._thread.start()

    def delta(self, text: str) -> None:
        with self._cond:
            self._text += text
            self._cond.notify()

    def _run(self) -> None:
        shown_text = ""
        while True:
            with self._cond:
                while not self._done and (
                    self._text == shown_text or time.monotonic() < self._next_edit
                ):
                    wait = self._next_edit - time.monotonic() if self._text != shown_text else None
                    self._cond.wait(timeout=max(0.01, wait) if wait is not None else None)
                if self._done:
                    return
                text = self._text
            self._next_edit = time.monotonic() + self._edit_interval
            try:
                # A preview is the first message only, marked as unfinished.
                first = self._split(text)[0]
                if first != text:
                    first = first[: self.limit - 2].rstrip() + " …"
                self._show([first])
                shown_text = text
            except ApiError as error:
                if error.retry_after:
                    self._next_edit = time.monotonic() + error.retry_after
                log.info("reply preview not updated: %s", error)

    def _show(self, pieces: list[str]) -> None:
        for index, piece in enumerate(p for p in pieces if p.strip()):
            if index < len(self._shown):
                message_id, text = self._shown[index]
                if text != piece:
                    self._edit(message_id, piece)
                    self._shown[index] = (message_id, piece)
            else:
                self._shown.append((self._send(index, piece), piece))

    def _stop(self) -> None:
        with self._cond:
            self._done = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def finish(self, text: str) -> None:
        """Deliver the whole reply. DeliveryError when the channel may take it later."""
        self._stop()
        pieces = self._split(text) or [text]
        if self._shown:
            self._sleep(max(0.0, self._next_edit - time.monotonic()))
        for attempt in range(1, FINAL_ATTEMPTS + 1):
            try:
                self._show(pieces)
                return
            except ApiError as error:
                if error.retry_after and error.retry_after <= MAX_RETRY_AFTER:
                    self._sleep(error.retry_after)
                    continue
                if 400 <= error.status < 500 and error.status != 429:
                    log.error("the channel refused the reply: %s", error)
                    return
                if attempt == FINAL_ATTEMPTS or error.retry_after:
                    raise DeliveryError(str(error)) from None
                self._sleep(min(2.0**attempt, 10.0))
        raise DeliveryError("the channel kept asking to retry later")

    def fail(self, message: str) -> None:
        """The turn failed: say so (best effort)."""
        self._stop()
        try:
            self._show([text for _, text in self._shown] + [message])
        except ApiError as error:
            log.warning("could not tell the channel about the failure: %s", error)

    def abandon(self) -> None:
        """Stop previews (the message is handed back)."""
        self._stop()


class SlackStream(EditStream):
    limit = slack.MESSAGE_LIMIT

    def __init__(
        self,
        client: slack.SlackClient,
        channel: str,
        thread: str,
        *,
        edit_interval: float = EDIT_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(edit_interval=edit_interval, sleep=sleep)
        self._client = client
        self._channel = channel
        self._thread_ts = thread

    def _split(self, text: str) -> list[str]:
        return [p for p in discord.split_message(text, self.limit) if p.strip()]

    def _send(self, index: int, piece: str) -> str:
        with _slack_errors():
            return self._client.post_message(
                self._channel, slack.escape(piece), thread=self._thread_ts
            )

    def _edit(self, message_id: str, piece: str) -> None:
        with _slack_errors():
            self._client.update_message(self._channel, message_id, slack.escape(piece))


class DiscordStream(EditStream):
    limit = discord.MESSAGE_LIMIT

    def __init__(
        self,
        client: discord.DiscordClient,
        application_id: str,
        token: str,
        *,
        edit_interval: float = EDIT_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(edit_interval=edit_interval, sleep=sleep)
        self._client = client
        self._application = application_id
        self._token = token

    def _split(self, text: str) -> list[str]:
        return [p for p in discord.split_message(text, self.limit) if p.strip()]

    def _send(self, index: int, piece: str) -> str:
        with _discord_errors():
            if index == 0:  # the deferred response is already there: it becomes the answer
                self._client.edit_original(self._application, self._token, piece)
                return "@original"
            return self._client.follow_up(self._application, self._token, piece)

    def _edit(self, message_id: str, piece: str) -> None:
        with _discord_errors():
            if message_id == "@original":
                self._client.edit_original(self._application, self._token, piece)
            else:
                self._client.call(
                    "PATCH",
                    f"/webhooks/{self._application}/{self._token}/messages/{message_id}",
                    {"content": piece, "allowed_mentions": {"parse": []}},
                )


@contextlib.contextmanager
def _slack_errors() -> Iterator[None]:
    try:
        yield
    except slack.SlackError as error:
        # Slack answers most refusals with HTTP 200 and ok=false: those are permanent.
        status = 400 if error.status == 200 else error.status
        raise ApiError(status, str(error), error.retry_after) from None


@contextlib.contextmanager
def _discord_errors() -> Iterator[None]:
    try:
        yield
    except discord.DiscordError as error:
        raise ApiError(error.status, str(error), error.retry_after) from None
