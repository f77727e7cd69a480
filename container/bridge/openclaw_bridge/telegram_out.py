"""Streaming a reply to a Telegram chat.

While the agent thinks, the chat shows "typing…" (sent every ~4 s: Telegram shows it for at most
5 s). Once text arrives it appears as a message that is edited as the reply grows, no more often
than every 1.5 s (editing faster earns long 429 penalties). The final text replaces the preview:
Markdown turned into Telegram HTML, split into messages of at most 4096 characters; a piece
Telegram cannot parse is sent again as escaped plain text. `retry_after` is honoured everywhere.

A message redelivered after its task died mid-reply already has a partial preview in the chat:
given those messages (`resume`), the stream edits them instead of leaving them half-written
beside a second reply. `on_shown` hears the reply's message ids whenever a message is added, so
the bridge can remember them for that case.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Final

from chatgpt_md_converter import telegram_format  # type: ignore[import-untyped]

from openclaw_deploy.runtime.telegram import (
    MESSAGE_LIMIT,
    TelegramBot,
    TelegramError,
    escape_html,
    split_message,
)

log = logging.getLogger("openclaw_bridge.telegram")

EDIT_INTERVAL: Final = 1.5
TYPING_INTERVAL: Final = 4.0
FINAL_ATTEMPTS: Final = 5
MAX_RETRY_AFTER: Final = 60.0
"""Wait at most this long for one `retry_after`; a longer ban fails the delivery (redelivery)."""


class DeliveryError(RuntimeError):
    """Telegram did not take the final reply for a reason that may pass (retry later)."""


def to_html(markdown: str) -> str:
    """Telegram HTML for one piece of the reply (tags closed even when the piece is partial)."""
    try:
        return str(telegram_format(markdown))
    except Exception:  # noqa: BLE001 - a formatter bug must not cost the reply
        return escape_html(markdown)


def _is_parse_error(error: TelegramError) -> bool:
    return error.status == 400 and "parse" in error.description.lower()


def _not_modified(error: TelegramError) -> bool:
    return error.status == 400 and "not modified" in error.description.lower()


def _permanent(error: TelegramError) -> bool:
    """Refusals that no retry can fix (the user blocked the bot, the chat is gone, ...)."""
    return 400 <= error.status < 500 and error.status != 429


class TelegramStream:
    def __init__(
        self,
        bot: TelegramBot,
        chat_id: int,
        *,
        reply_to: int | None = None,
        edit_interval: float = EDIT_INTERVAL,
        typing_interval: float = TYPING_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
        resume: list[int] | None = None,
        on_shown: Callable[[list[int]], None] | None = None,
    ) -> None:
        self._bot = bot
        self._chat_id = chat_id
        self._reply_to = reply_to
        self._edit_interval = edit_interval
        self._typing_interval = typing_interval
        self._sleep = sleep
        self._text = ""
        self._shown: list[tuple[int, str]] = [(message_id, "") for message_id in resume or []]
        """(message id, HTML shown) of each message the reply occupies so far."""
        self._resumed = set(resume or [])
        """Messages an earlier, interrupted attempt left (what they show is unknown)."""
        self._on_shown = on_shown
        self._done = False
        self._cond = threading.Condition()
        self._next_edit = 0.0
        self._next_typing = 0.0
        self._thread: threading.Thread | None = None

    @property
    def shown(self) -> bool:
        """Whether the reply occupies any message in the chat."""
        return bool(self._shown)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="telegram-stream", daemon=True)
        self._thread.start()

    def delta(self, text: str) -> None:
        with self._cond:
            self._text += text
            self._cond.notify()

    # -- while the reply streams -------------------------------------------------------------

    def _run(self) -> None:
        shown_text = ""
        while True:
            with self._cond:
                now = time.monotonic()
                while not self._done:
                    changed = self._text != shown_text
                    due = min(self._next_typing, self._next_edit if changed else float("inf"))
                    if due <= now:
                        break
                    self._cond.wait(timeout=due - now)
                    now = time.monotonic()
                if self._done:
                    return
                text = self._text
            if now >= self._next_typing:
                self._typing()
            if text != shown_text and now >= self._next_edit:
                self._next_edit = time.monotonic() + self._edit_interval
                if self._preview(text):
                    shown_text = text

    def _typing(self) -> None:
        self._next_typing = time.monotonic() + self._typing_interval
        try:
            self._bot.send_chat_action(self._chat_id, "typing")
        except TelegramError as error:
            if error.retry_after:
                self._next_typing = time.monotonic() + float(error.retry_after)
            log.debug("typing indicator failed: %s", error)

    def _preview(self, text: str) -> bool:
        try:
            self._show(split_message(text, MESSAGE_LIMIT))
        except TelegramError as error:
            if error.retry_after:
                self._next_edit = time.monotonic() + float(error.retry_after)
            log.info("reply preview not updated: %s", error)
            return False
        return True

    # -- putting text in the chat ------------------------------------------------------------

    def _put(self, index: int, piece: str) -> None:
        """Show `piece` as message `index` of the reply (send it, or edit what is there)."""
        html = to_html(piece)
        for attempt_html in (html, escape_html(piece)):
            try:
                if index < len(self._shown) and not self._edit(index, attempt_html):
                    return
                if index >= len(self._shown):
                    message_id = self._bot.send_message(
                        self._chat_id,
                        attempt_html,
                        reply_to_message_id=self._reply_to if index == 0 else None,
                    )
                    self._shown.append((message_id, attempt_html))
                    if self._on_shown is not None:
                        self._on_shown([shown_id for shown_id, _ in self._shown])
                return
            except TelegramError as error:
                if _not_modified(error):
                    return
                if not _is_parse_error(error) or attempt_html != html:
                    raise
                log.info("Telegram could not parse the formatted reply; sending it plain")

    def _edit(self, index: int, html: str) -> bool:
        """Edit message `index` to `html`. False when done; True when the message turned out
        to be an interrupted attempt's that can no longer be edited (deleted, too old): the
        reply then continues in new messages from `index` on."""
        message_id, shown = self._shown[index]
        if shown == html:
            return False
        try:
            self._bot.edit_message_text(self._chat_id, message_id, html)
        except TelegramError as error:
            gone = _permanent(error) and not _is_parse_error(error) and not _not_modified(error)
            if message_id not in self._resumed or not gone:
                raise
            log.info("an interrupted attempt's message cannot be edited (%s); sending anew", error)
            self._resumed.clear()
            del self._shown[index:]
            return True
        self._shown[index] = (message_id, html)
        return False

    def _show(self, pieces: list[str]) -> None:
        for index, piece in enumerate(p for p in pieces if p.strip()):
            self._put(index, piece)

    def _stop(self) -> None:
        with self._cond:
            self._done = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=30)

    # -- the end of the turn -----------------------------------------------------------------

    def finish(self, text: str) -> None:
        """Deliver the whole reply. DeliveryError when Telegram may take it later."""
        self._stop()
        pieces = [p for p in split_message(text, MESSAGE_LIMIT) if p.strip()]
        if self._shown:
            # The last edit counts too: keep the final one to the same pace.
            self._sleep(max(0.0, self._next_edit - time.monotonic()))
        for attempt in range(1, FINAL_ATTEMPTS + 1):
            try:
                self._show(pieces)
                break
            except TelegramError as error:
                if error.retry_after and float(error.retry_after) <= MAX_RETRY_AFTER:
                    self._sleep(float(error.retry_after))
                    continue
                if _permanent(error):
                    log.error("Telegram refused the reply for chat %s: %s", self._chat_id, error)
                    return
                if attempt == FINAL_ATTEMPTS or error.retry_after:
                    raise DeliveryError(str(error)) from None
                self._sleep(min(2.0**attempt, 10.0))
        else:
            raise DeliveryError("Telegram kept asking to retry later")
        # A preview that ran longer than the final text (rare) leaves messages to remove.
        for message_id, _ in self._shown[len(pieces) :]:
            try:
                self._bot.call(
                    "deleteMessage", {"chat_id": self._chat_id, "message_id": message_id}
                )
            except TelegramError as error:
                log.info("could not remove a leftover preview message: %s", error)

    def fail(self, message: str) -> None:
        """The turn failed: say so in the chat (best effort)."""
        self._stop()
        try:
            self._put(len(self._shown), message)
        except TelegramError as error:
            log.warning("could not tell chat %s about the failure: %s", self._chat_id, error)

    def abandon(self) -> None:
        """Stop the typing indicator and previews (the message is handed back)."""
        self._stop()
