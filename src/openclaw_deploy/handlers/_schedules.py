"""The web app's Schedules page: `GET /api/schedules` (the owner's and the agent's schedules,
each with its next run in its own time zone and its last run with the outcome).

Read from EventBridge Scheduler (the deployment's group) and the schedules table, as
`openclaw-deploy schedule list` reads them."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from openclaw_deploy.handlers import _common
from openclaw_deploy.runtime import aws, resources, schedules

if TYPE_CHECKING:
    from openclaw_deploy.handlers._common import Response

RUN_NOW_MARK = "-run-"
"""`schedule run` on the local target: a one-off, not a schedule."""


def list_schedules(request: Any) -> Response:
    scheduler = aws.client("scheduler")
    try:
        details = schedules.list_details(
            scheduler, _common.env(schedules.ENV_GROUP), skip=RUN_NOW_MARK
        )
    except scheduler.exceptions.ResourceNotFoundException:
        details = []
    runs = schedules.Runs(aws.dynamodb(), resources.table_name(resources.SCHEDULES)).all()
    now = datetime.fromtimestamp(time.time(), UTC)
    views = [schedules.view(d, runs.get(str(d["Name"])), now=now) for d in details]
    views.sort(key=lambda v: (v.kind != "owner", v.next_run or "9999", v.id))
    return _common.respond(200, {"schedules": [v.public() for v in views]})
