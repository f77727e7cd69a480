"""What the agent is doing while it answers, from OpenClaw's own tool events.

The bridge subscribes to the gateway's session events (`sessions.subscribe` on a WebSocket of
its own); OpenClaw then sends a `session.tool` event as each tool call of a run starts and
ends. `tool_activity` turns one into what the web chat shows (running `exec` and its command,
browsing a page and its address, thinking again once the tool is done), and the bridge posts it
as an `agent.activity` frame for the turn the session is running.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from websockets.exceptions import WebSocketException

from openclaw_bridge.reminders import GatewaySocket, GatewaySocketError, bridge_session
from openclaw_deploy.runtime.contract import ACTIVITY_DETAIL_CHARS

log = logging.getLogger("openclaw_bridge.activity")

RECONNECT_SECONDS: Final = 2.0
BROWSING_TOOLS: Final = ("browser", "web_fetch")
DETAIL_KEYS: Final = ("command", "url", "targetUrl", "query", "path", "file_path", "action")
"""Where a tool's arguments say what it works on, in order of preference."""


@dataclass(frozen=True, kw_only=True)
class Activity:
    session: str
    kind: str
    tool: str | None = None
    detail: str | None = None


def _detail(tool: str, args: Mapping[str, Any]) -> str | None:
    for key in DETAIL_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            text = " ".join(value.split())
            if tool in BROWSING_TOOLS and key in ("url", "targetUrl"):
                parts = urlsplit(text)
                text = (parts.netloc + parts.path).rstrip("/") or text
            if len(text) > ACTIVITY_DETAIL_CHARS:
                text = text[: ACTIVITY_DETAIL_CHARS - 1] + "…"
            return text
    return None


def _tool_data(event: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """(our session, the tool event's data) of a `session.tool` event frame, else None."""
    if event.get("type") != "event" or event.get("event") not in ("session.tool", "agent"):
        return None
    payload = event.get("payload")
    if not isinstance(payload, Mapping) or payload.get("stream") != "tool":
        return None
    key = payload.get("sessionKey")
    session = bridge_session(key) if isinstance(key, str) else None
    data = payload.get("data")
    if session is None or not isinstance(data, Mapping):
        return None
    return session, data


def tool_activity(event: Mapping[str, Any]) -> Activity | None:
    """The activity one gateway event frame says, or None when it says none."""
    found = _tool_data(event)
    if found is None:
        return None
    session, data = found
    phase, name = data.get("phase"), data.get("name")
    if not isinstance(name, str) or data.get("parentToolCallId"):
        return None
    if phase == "start":
        args = data.get("args")
        detail = _detail(name, args) if isinstance(args, Mapping) else None
        return Activity(session=session, kind="tool", tool=name, detail=detail)
    if phase in ("result", "end"):
        return Activity(session=session, kind="thinking")
    return None


class ToolEvents(GatewaySocket):
    """A gateway connection that only listens: session events, one at a time."""

    def listen(self, on_activity: Callable[[Activity], None], stop: threading.Event) -> None:
        """Pass each activity to `on_activity` until `stop` is set; reconnect when the
        connection drops (OpenClaw restarting, a slow moment)."""
        while not stop.is_set():
            try:
                self.request("sessions.subscribe", {})
                conn = self._connected()
                while not stop.is_set():
                    try:
                        raw = conn.recv(timeout=1.0)
                    except TimeoutError:
                        continue
                    try:
                        frame = json.loads(raw)
                    except ValueError:
                        continue
                    activity = tool_activity(frame) if isinstance(frame, dict) else None
                    if activity is not None:
                        on_activity(activity)
            except (GatewaySocketError, OSError, WebSocketException) as error:
                log.info("tool events paused (%s); connecting again", error)
                self.close()
                stop.wait(RECONNECT_SECONDS)
        self.close()
