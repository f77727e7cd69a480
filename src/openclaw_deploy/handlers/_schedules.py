"""The web app's Schedules page: `GET /api/schedules` (the owner's and the agent's schedules,
each with its next run in its own time zone and its last run with the outcome), and the same
actions as `openclaw-deploy schedule`: `POST /api/schedules` (add), `POST .../{id}/pause`,
`.../resume`, `.../run` and `DELETE .../{id}`.

Read from EventBridge Scheduler (the deployment's group) and the schedules table, as
`openclaw-deploy schedule list` reads them. A new schedule is checked by the same rules as the
CLI's (`runtime.schedule_plan`); one that needs the CLI's cost confirmation answers 409 with its
cost until the request says `"confirm": true`. The agent's own wake-ups (`agent-`) are shown
but not changed here."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from openclaw_deploy.handlers import _common
from openclaw_deploy.handlers._common import BadRequestError
from openclaw_deploy.runtime import aws, resources, schedule_expr, schedule_plan, schedules

if TYPE_CHECKING:
    from openclaw_deploy.handlers._common import Response

RUN_NOW_MARK = "-run-"
"""`schedule run` on the local target: a one-off, not a schedule."""


FIELDS: Final = ("when", "at", "say", "to", "timezone", "title")
RUN_DELAY: Final = timedelta(minutes=1)
"""Run now: a one-time schedule at the next minute (Scheduler fires on the minute)."""


def _now() -> datetime:
    return datetime.fromtimestamp(time.time(), UTC)


def _runs() -> schedules.Runs:
    return schedules.Runs(aws.dynamodb(), resources.table_name(resources.SCHEDULES))


def _names() -> schedules.Names:
    names = schedules.Names.from_env(dict(os.environ))
    if names is None:
        raise RuntimeError("the schedules' names are not in the environment")
    return names


def _refused(message: str, *, field: str, hint: str) -> Response:
    return _common.respond(
        400, {"error": {"code": "bad_request", "message": message, "field": field, "hint": hint}}
    )


def _owners(schedule_id: str) -> dict[str, Any]:
    """The owner's schedule `schedule_id` (GetSchedule); BadRequestError refuses any other."""
    if schedule_id.startswith(schedules.AGENT_PREFIX):
        raise BadRequestError(
            "the agent's own wake-ups are not changed here", status=403, code="forbidden"
        )
    missing = BadRequestError(f"no schedule {schedule_id}", status=404, code="not_found")
    if not schedules.NAME_PATTERN.match(schedule_id) or RUN_NOW_MARK in schedule_id:
        raise missing
    scheduler = aws.client("scheduler")
    try:
        found: dict[str, Any] = scheduler.get_schedule(
            Name=schedule_id, GroupName=_common.env(schedules.ENV_GROUP)
        )
    except scheduler.exceptions.ResourceNotFoundException:
        raise missing from None
    return found


def create_schedule(request: Any) -> Response:
    body = request.json()
    if not isinstance(body, dict):
        raise BadRequestError("the body must be a JSON object")
    values: dict[str, str | None] = {}
    for key in FIELDS:
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            raise BadRequestError(f"{key} must be a string")
        values[key] = value.strip() if isinstance(value, str) and value.strip() else None
    wanted = schedule_plan.Request(
        when=values["when"],
        at=values["at"],
        say=values["say"] or "",
        to=values["to"] or "web",
        timezone=values["timezone"] or "UTC",
        title=values["title"],
    )
    try:
        plan = schedule_plan.check(
            wanted,
            now=time.time(),
            idle_minutes=_common.settings().get().idle_timeout_minutes,
            hour_usd=float(_common.env(schedule_plan.ENV_TASK_HOUR_USD)),
        )
    except schedule_plan.PlanError as problem:
        return _refused(str(problem), field=problem.field, hint=problem.hint)
    cost = {
        "awakeHoursPerMonth": plan.cost.awake_hours_per_month,
        "monthlyUsd": plan.cost.monthly_usd,
    }
    if plan.needs_confirmation and body.get("confirm") is not True:
        return _common.respond(
            409,
            {
                "error": {
                    "code": "confirm_cost",
                    "message": (
                        f"{plan.description} keeps the agent awake about "
                        f"{plan.cost.awake_hours_per_month:g} h a month "
                        f"(about ${plan.cost.monthly_usd:.2f}). Create it anyway?"
                    ),
                    "field": "when",
                },
                "cost": cost,
            },
        )
    names = _names()
    scheduler = aws.client("scheduler")
    owners = [
        d
        for d in schedules.list_details(scheduler, names.group, skip=RUN_NOW_MARK)
        if str(d["Name"]).startswith(schedules.OWNER_PREFIX)
    ]
    if len(owners) >= schedules.MAX_SCHEDULES:
        return _refused(
            f"There are already {len(owners)} schedules, the most a deployment keeps.",
            field="when",
            hint="remove one first",
        )
    schedule_plan.create(scheduler, names, plan)
    detail = scheduler.get_schedule(Name=plan.firing.schedule, GroupName=names.group)
    view = schedules.view(detail, None, now=_now())
    return _common.respond(201, {"schedule": view.public(), "cost": cost})


def _set_state(request: Any, *, enabled: bool) -> Response:
    found = _owners(request.params["id"])
    group = _common.env(schedules.ENV_GROUP)
    scheduler = aws.client("scheduler")
    schedule_plan.set_state(scheduler, group, found, enabled=enabled)
    detail = scheduler.get_schedule(Name=found["Name"], GroupName=group)
    run = _runs().all().get(str(found["Name"]))
    return _common.respond(200, {"schedule": schedules.view(detail, run, now=_now()).public()})


def pause_schedule(request: Any) -> Response:
    return _set_state(request, enabled=False)


def resume_schedule(request: Any) -> Response:
    return _set_state(request, enabled=True)


def remove_schedule(request: Any) -> Response:
    found = _owners(request.params["id"])
    aws.client("scheduler").delete_schedule(
        Name=found["Name"], GroupName=_common.env(schedules.ENV_GROUP)
    )
    return _common.respond(204)


def run_schedule(request: Any) -> Response:
    """Fire it now: a one-time schedule with its input at the next minute, which deletes itself
    after it fired (what `schedule run` does on the local target; the same everywhere)."""
    found = _owners(request.params["id"])
    name = str(found["Name"])
    firing = schedules.Firing.from_event(str(found.get("Target", {}).get("Input", "")))
    now = _now()
    schedules.create_once(
        aws.client("scheduler"),
        _names(),
        name=f"{name}{RUN_NOW_MARK}{int(now.timestamp()):x}"[:64],
        at=schedule_expr.at_expression((now + RUN_DELAY).replace(tzinfo=None)),
        firing=firing,
        description=f"run now: {name}",
    )
    return _common.respond(202, {"id": name, "note": "it runs within a minute"})


def list_schedules(request: Any) -> Response:
    scheduler = aws.client("scheduler")
    try:
        details = schedules.list_details(
            scheduler, _common.env(schedules.ENV_GROUP), skip=RUN_NOW_MARK
        )
    except scheduler.exceptions.ResourceNotFoundException:
        details = []
    runs = _runs().all()
    now = _now()
    views = [schedules.view(d, runs.get(str(d["Name"])), now=now) for d in details]
    views.sort(key=lambda v: (v.kind != "owner", v.next_run or "9999", v.id))
    return _common.respond(200, {"schedules": [v.public() for v in views]})
