"""What the web chat's controls ask of OpenClaw beyond a turn, over its gateway WebSocket.

Stop: the bridge closes the turn's stream, and OpenClaw aborts the run (its OpenAI-compatible
endpoint aborts on a client disconnect). The aborted run leaves the owner's message in the
session's transcript with no answer after it, and OpenClaw would merge it into the next message
("orphaned user message"), so the agent would take up the stopped request again. The bridge
therefore appends what was written, marked as stopped, as the assistant's answer
(`chat.inject`): the model then sees that the owner stopped it.
"""

from __future__ import annotations

import logging
from typing import Final

from openclaw_bridge.gateway import openclaw_session_key
from openclaw_bridge.reminders import AGENT_SESSION_PREFIX, GatewaySocket, GatewaySocketError

log = logging.getLogger("openclaw_bridge.control")

STOPPED_MARK: Final = "[The owner stopped this reply here.]"
INJECT_LABEL: Final = "stopped"


def transcript_key(session: str) -> str:
    """The key OpenClaw files one of our sessions under (its main agent's)."""
    return AGENT_SESSION_PREFIX + openclaw_session_key(session)


def stopped_answer(text: str) -> str:
    return f"{text.rstrip()}\n\n{STOPPED_MARK}" if text.strip() else STOPPED_MARK


class AgentControl:
    def __init__(self, base_url: str, token: str, *, timeout: float = 20.0) -> None:
        self._socket = GatewaySocket(
            base_url.replace("http://", "ws://", 1), token, timeout=timeout
        )

    def record_stopped(self, session: str, text: str) -> bool:
        """Close the stopped turn in OpenClaw's transcript with what was written; False (and a
        log line) when OpenClaw refused: the next message is then merged with the stopped one."""
        try:
            self._socket.request(
                "chat.inject",
                {
                    "sessionKey": transcript_key(session),
                    "message": stopped_answer(text),
                    "label": INJECT_LABEL,
                },
            )
        except GatewaySocketError as error:
            log.warning("could not mark the stopped reply in %s: %s", session, error)
            return False
        return True

    def close(self) -> None:
        self._socket.close()
