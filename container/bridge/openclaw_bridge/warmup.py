"""OpenClaw's first turn after a start, taken by the bridge when no message is waiting for it.

A started OpenClaw does much of the work of an agent run only at the first turn: it loads the
agent runtime, builds the tool catalog and the skills snapshot. That first turn took 3.4-4 s
on two cores where the next one took 0.3-0.4 s (the offline model, `bench/cold_start.py`'s
machine), and about 19 s at 0.5 vCPU. When the agent woke without a message (the web chat's
wake on typing, the warm window, the Start button), the bridge takes that first turn itself so
the owner's first message meets a warm OpenClaw:

* on the offline demo model, never the owner's: it costs no tokens and reaches no provider
  (the bridge starts one for it when the owner's model is another, and the model proxy routes
  it like any provider);
* in a session of its own, which it then deletes with its transcript, so nothing of it stays in
  the agent's state or backups;
* only when no message waits at ready (SQS's count of the queue, read with the same
  GetQueueAttributes grant the bridge's start uses) and none comes in the seconds after: the
  message that woke the agent is the first turn itself, and a warm-up beside it would only
  take CPU from it.

A message that arrives while the warm-up runs is not held back: OpenClaw runs the two sessions
side by side.
"""

from __future__ import annotations

import time
from typing import Final

from openclaw_bridge.gateway import GatewayClient, openclaw_session_key
from openclaw_bridge.reminders import GatewaySocket

SESSION: Final = "bridge-warm-up"
TEXT: Final = "A warm-up turn after the agent started: reply with one word."
SETTLE_SECONDS: Final = 2.0
"""How long after ready the bridge waits to see whether a message is waiting."""


def warm_up(client: GatewayClient, socket: GatewaySocket, model_ref: str) -> float:
    """Run the warm-up turn on `model_ref` (`provider/model`) and delete its session; the
    seconds the turn took. Raises what the turn or the deletion raises."""
    started = time.monotonic()
    for _ in client.stream_reply(SESSION, TEXT, model=model_ref):
        pass
    seconds = time.monotonic() - started
    socket.request(
        "sessions.delete", {"key": openclaw_session_key(SESSION), "deleteTranscript": True}
    )
    return seconds
