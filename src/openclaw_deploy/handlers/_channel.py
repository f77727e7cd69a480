"""What the Slack and Discord handlers share: their plain-text replies, who a sender is
(pairing), and what to say while the agent wakes. The path of a message itself (claim, record,
enqueue, wake) is `_inbound`'s, as for Telegram and the web."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from openclaw_deploy.handlers import _common, _inbound
from openclaw_deploy.runtime.lifecycle import PHASE_LABELS, RUNNING, STOPPING
from openclaw_deploy.runtime.pairing import PairedUser, Pairing, channel_user

if TYPE_CHECKING:
    from openclaw_deploy.runtime.lifecycle import AgentStatus

NOTICE_SECONDS: Final = 3600
"""A conversation is told once per wake that the agent is waking, not per message."""

WAKING: Final = "⏳ Waking your agent — {label}… I'll answer as soon as it's up."
GOING_TO_SLEEP: Final = (
    "💤 Your agent is going to sleep. Your message is kept and wakes it again within a few minutes."
)
START_FAILED: Final = (
    "⚠️ Your agent could not start: {reason}\n"
    "Your message is kept and will be answered once it runs."
)
PAIRING_CODE: Final = (
    "This is a private assistant. To ask its owner for access, give them this code: {code}\n"
    "They approve it in the web UI or with `openclaw-deploy pair approve {code}`."
)
PAIRED: Final = "✅ Paired. Write me anything."
PAIR_FAILED: Final = "That code is not valid or has expired. Ask the owner for a new one."
NEW_SESSION: Final = "🆕 Fresh conversation started. Earlier messages stay in the web UI."
TOO_LONG: Final = "That message is too long for the agent (the limit is {limit} characters)."
STATUS: Final = "Agent: {state}{detail}"


@dataclass(frozen=True, kw_only=True)
class Sender:
    """Who wrote, as the pairing table knows them."""

    channel: str
    user_id: str
    """The channel's own id of the user (`U0123`, a Discord snowflake)."""
    name: str

    @property
    def key(self) -> str:
        return channel_user(self.channel, self.user_id)


def not_set_up(problem: Exception) -> bool:
    """The channel is not set up: no secret is named, or none was ever stored. Not a failure to
    retry (a 5xx would make the sender retry)."""
    if isinstance(problem, RuntimeError):
        return True
    if isinstance(problem, ClientError):
        return problem.response.get("Error", {}).get("Code") == "ParameterNotFound"
    return False


def paired_user(pairing: Pairing, sender: Sender) -> PairedUser | None:
    return pairing.get_user(sender.key)


def stranger(pairing: Pairing, sender: Sender, text: str | None) -> str | None:
    """The answer to someone not paired: `pair CODE` redeems an owner's code; anything else gets
    a pairing code, at most once per period (None: they have one, say nothing)."""
    words = (text or "").split()
    if len(words) == 2 and words[0].lower().lstrip("/!") == "pair":
        paired = pairing.redeem(words[1], sender.key, sender.name, 0, channel=sender.channel)
        return PAIRED if paired else PAIR_FAILED
    request = pairing.request(sender.key, sender.name, 0, channel=sender.channel)
    return None if request is None else PAIRING_CODE.format(code=request.code)


def wake_notice(wake: _inbound.Wake, where: str) -> str | None:
    """What to tell conversation `where` after waking the agent: that it is waking (once per
    wake), going to sleep, or could not start; None when it is up (the reply follows)."""
    if wake.blocked and wake.error is not None:
        return "⚠️ " + wake.error
    if wake.error is not None:
        return START_FAILED.format(reason=wake.error[:300])
    status = wake.status
    if status is None or status.state == RUNNING:
        return None
    episode = int(status.started_at or status.since)
    if not _inbound.dedupe().once(
        f"notice#{where}#{status.state}#{episode}", seconds=NOTICE_SECONDS
    ):
        return None
    if status.state == STOPPING:
        return GOING_TO_SLEEP
    return WAKING.format(label=PHASE_LABELS.get(status.phase or "starting", "starting"))


def status_text(status: AgentStatus) -> str:
    detail = ""
    if status.state == "Starting":
        detail = f" — {PHASE_LABELS.get(status.phase or 'starting', 'starting')}"
    elif status.start_blocked(time.time()):
        detail = " (it cannot start: messages no longer wake it)"
    elif status.state == "Idle":
        detail = " (asleep; your next message wakes it)"
    elif status.since:
        detail = f" for {max(0, int((time.time() - status.since) // 60))} min"
    return STATUS.format(state=status.state, detail=detail)


def current_status() -> str:
    return status_text(_common.lifecycle().get())
