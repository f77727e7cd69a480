"""Streaming a reply to the web UI through API Gateway's `@connections` API.

Every open connection of the owner gets the frames (`chat.delta` in order, then `chat.final`);
a connection API Gateway reports gone (410) is forgotten. Pieces that arrive while a post is in
flight are sent together in the next frame, so a fast model does not turn into one HTTP call
per token, and no frame exceeds the 32 KB limit (text is chunked at 24 KB of UTF-8).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from openclaw_deploy.runtime.connections import Connections
from openclaw_deploy.runtime.contract import CHUNK_BYTES, chunk_text, server_frame

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient

log = logging.getLogger("openclaw_bridge.web")


class WebPoster:
    """Posts frames to every open connection; a no-op when the deployment has no web API."""

    def __init__(
        self, connections: Connections | None, api: ApiGatewayManagementApiClient | None
    ) -> None:
        self._connections = connections
        self._api = api

    @property
    def enabled(self) -> bool:
        return self._connections is not None and self._api is not None

    def connection_ids(self) -> list[str]:
        if self._connections is None or self._api is None:
            return []
        try:
            return self._connections.list()
        except (ClientError, BotoCoreError) as error:
            log.warning("could not list web connections: %s", error)
            return []

    def post(self, connection_ids: list[str], frame: str) -> list[str]:
        """Send `frame` to each connection; return the ids still open."""
        if self._connections is None or self._api is None:
            return []
        still_open: list[str] = []
        for connection_id in connection_ids:
            try:
                if self._connections.post(self._api, connection_id, frame):
                    still_open.append(connection_id)
                else:
                    log.info("web connection %s is gone; forgot it", connection_id)
            except (ClientError, BotoCoreError) as error:
                # Best effort: the reply is in the history table, and the UI reloads it.
                log.warning("could not post to web connection %s: %s", connection_id, error)
                still_open.append(connection_id)
        return still_open

    def broadcast(self, kind: Any, **fields: Any) -> None:
        ids = self.connection_ids()
        if ids:
            self.post(ids, server_frame(kind, **fields))


class WebStream:
    """One reply on its way to the web UI. `delta` never blocks; `finish` waits for delivery."""

    def __init__(self, poster: WebPoster, *, message_id: str, session: str) -> None:
        self._poster = poster
        self._message_id = message_id
        self._session = session
        self._pending: list[str] = []
        self._done = False
        self._cond = threading.Condition()
        self._seq = 0
        self._ids: list[str] = []
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self._poster.enabled:
            return
        self._thread = threading.Thread(target=self._run, name="web-stream", daemon=True)
        self._thread.start()

    def delta(self, text: str) -> None:
        if self._thread is None:
            return
        with self._cond:
            self._pending.append(text)
            self._cond.notify()

    def _take(self) -> str | None:
        with self._cond:
            while not self._pending and not self._done:
                self._cond.wait()
            if not self._pending:
                return None
            text = "".join(self._pending)
            self._pending.clear()
            return text

    def _run(self) -> None:
        # Listing the connections here keeps it off the path to OpenClaw's first token.
        self._ids = self._poster.connection_ids()
        while True:
            text = self._take()
            if text is None:
                return
            for piece in chunk_text(text, CHUNK_BYTES):
                self._send_delta(piece)

    def _send_delta(self, piece: str) -> None:
        frame = server_frame(
            "chat.delta", id=self._message_id, session=self._session, seq=self._seq, text=piece
        )
        self._seq += 1
        if self._ids:
            self._ids = self._poster.post(self._ids, frame)

    def _stop(self, timeout: float = 30.0) -> None:
        if self._thread is None:
            return
        with self._cond:
            self._done = True
            self._cond.notify()
        self._thread.join(timeout)

    def finish(
        self,
        text: str,
        *,
        stopped: bool = False,
        attachments: list[dict[str, Any]] | None = None,
    ) -> None:
        """Send what is left, then `chat.final` (to connections opened meanwhile too);
        `stopped` marks a reply the owner stopped (`text` is what was written until then);
        `attachments` are the files the agent produced (`{name, contentType, size, url}`)."""
        if not self._poster.enabled:
            return
        self._stop()
        ids = sorted(set(self._ids) | set(self._poster.connection_ids()))
        marks: dict[str, Any] = {"stopped": True} if stopped else {}
        if attachments:
            marks["attachments"] = attachments
        if len(text.encode("utf-8")) <= CHUNK_BYTES:
            frame = server_frame(
                "chat.final", id=self._message_id, session=self._session, text=text, **marks
            )
        else:
            frame = server_frame(
                "chat.final",
                id=self._message_id,
                session=self._session,
                text="",
                chunked=True,
                **marks,
            )
        self._poster.post(ids, frame)

    def fail(self, code: str, message: str) -> None:
        """The turn failed: tell the UI (an `error` frame for this message id)."""
        if not self._poster.enabled:
            return
        self._stop()
        ids = sorted(set(self._ids) | set(self._poster.connection_ids()))
        self._poster.post(
            ids, server_frame("error", id=self._message_id, code=code, message=message)
        )

    def abandon(self) -> None:
        """Stop streaming without a final frame (the message is handed back)."""
        self._stop(timeout=5.0)
