"""A schedule's firing, answered: its last run in the schedules table says so.

The schedule function records each firing as `queued` when it puts the prompt on the queue;
the bridge, once the answer reached the schedule's channel, marks it `answered`, so
`openclaw-deploy schedule list` shows whether the owner really got it.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.contract import QueueMessage
from openclaw_deploy.runtime.schedules import Runs

log = logging.getLogger("openclaw_bridge")

SENDER: Final = "schedule"
"""The `sender` of a queue message the schedule function made."""
SESSION_PREFIX: Final = "sched-"
ANSWERED: Final = "answered"


def settle_answered(dynamodb: Any, msg: QueueMessage) -> None:
    """Mark the schedule behind `msg` answered; anything else is left alone. Never raises: the
    answer is delivered whatever the bookkeeping does."""
    if msg.sender != SENDER or not msg.session.startswith(SESSION_PREFIX):
        return
    schedule = msg.session.removeprefix(SESSION_PREFIX)
    try:
        Runs(dynamodb, resources.table_name(resources.SCHEDULES)).settle(schedule, ANSWERED)
    except (ClientError, BotoCoreError, RuntimeError) as error:
        log.warning("could not record that schedule %s was answered: %s", schedule, error)
