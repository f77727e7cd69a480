"""`schedule`: the owner's scheduled prompts on EventBridge Scheduler, and the agent's own wake-ups.

A schedule lives in Scheduler only (the deployment's group): its expression, time zone and state
are Scheduler's, its prompt, title and channel are the input it fires with (`runtime.schedules.
Firing`). The schedules table adds the last run and its outcome. So `list` is ListSchedules +
GetSchedule, and nothing can drift between two stores.

Before anything is created, the input is checked: the expression as Scheduler checks it, the
time zone against the IANA database, a one-time date in the past, the number of schedules, and
what the schedule costs — every firing keeps the agent awake for its idle timeout, so a schedule
that fires more often than that keeps it awake all day (refused), and one that keeps it awake
for hours a day needs a confirmation that shows its monthly cost.

`run` fires a schedule now: on AWS by invoking its target function with its input (what
Scheduler does); on the local target through a one-time schedule due now, which the local
cloud's clock fires within seconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from openclaw_deploy.aws.errors import translate_boto_errors
from openclaw_deploy.config import Deployment
from openclaw_deploy.context import AppContext
from openclaw_deploy.errors import NotFoundError, UsageError
from openclaw_deploy.runtime import resources, schedule_expr, schedule_plan, schedules
from openclaw_deploy.runtime.schedule_plan import Cost, Plan, awake_hours
from openclaw_deploy.runtime.schedules import Firing, Names
from openclaw_deploy.services.target import connect

DEFAULT_TIMEZONE: Final = "UTC"
RUN_PREFIX: Final = "-run-"


ScheduleInfo = schedules.View
Request = schedule_plan.Request
"""A schedule as asked for (`schedule add`), checked by `plan`."""


@dataclass(frozen=True, kw_only=True)
class ScheduleList:
    deployment: str
    schedules: list[ScheduleInfo]


@dataclass(frozen=True, kw_only=True)
class ScheduleChange:
    deployment: str
    action: str
    schedule: ScheduleInfo
    cost: Cost | None = None
    note: str | None = None


@dataclass(frozen=True, kw_only=True)
class ScheduleHours:
    """What the schedules add to the month (`cost --schedules`)."""

    schedules: int
    awake_hours_per_month: float
    monthly_usd: float
    hour_usd: float
    idle_timeout_minutes: int


def default_timezone() -> str:
    """This machine's IANA time zone (`TZ`, else /etc/localtime's name), else UTC."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        return name
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        return DEFAULT_TIMEZONE
    marker = "/zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else DEFAULT_TIMEZONE


# -- checking --------------------------------------------------------------------------------


def _hour_usd(deployment: Deployment) -> float:
    from openclaw_deploy.services.cost import task_hour_usd

    return task_hour_usd(deployment.agent)


def plan(deployment: Deployment, request: Request, *, now: float) -> Plan:
    """Check `request` without touching AWS; UsageError (nothing created) when it is refused."""
    try:
        return schedule_plan.check(
            request,
            now=now,
            idle_minutes=deployment.agent.idle_timeout_minutes,
            hour_usd=_hour_usd(deployment),
        )
    except schedule_plan.PlanError as error:
        raise UsageError(str(error), hint=error.hint) from None


# -- Scheduler -------------------------------------------------------------------------------


def _names(app: AppContext, deployment: Deployment) -> Names:
    connect(app, deployment)
    with translate_boto_errors("find the AWS account"):
        account = app.client("sts", deployment.region).get_caller_identity()["Account"]
    return Names.of(deployment.name, account=account, region=deployment.region)


def _scheduler(app: AppContext, deployment: Deployment) -> Any:
    return app.client("scheduler", deployment.region)


def _runs(app: AppContext, deployment: Deployment) -> dict[str, schedules.Run]:
    dynamodb = app.client("dynamodb", deployment.region)
    with translate_boto_errors("read the schedules' last runs"):
        try:
            store = schedules.Runs(dynamodb, resources.SCHEDULES.physical_name(deployment.name))
            return store.all()
        except dynamodb.exceptions.ResourceNotFoundException:
            return {}


def _info(detail: dict[str, Any], run: schedules.Run | None, *, now: datetime) -> ScheduleInfo:
    return schedules.view(detail, run, now=now)


def _group_missing(error: Exception, deployment: Deployment) -> NotFoundError:
    return NotFoundError(
        f"The deployment {deployment.name!r} has no schedule group ({error}).",
        hint="openclaw-deploy deploy (schedules need this version's stack)",
    )


def _details(app: AppContext, deployment: Deployment, names: Names) -> list[dict[str, Any]]:
    scheduler = _scheduler(app, deployment)
    with translate_boto_errors("list the schedules"):
        try:
            return schedules.list_details(scheduler, names.group, skip=RUN_PREFIX)
        except scheduler.exceptions.ResourceNotFoundException as error:
            raise _group_missing(error, deployment) from None


def list_all(app: AppContext, deployment: Deployment) -> ScheduleList:
    names = _names(app, deployment)
    details = _details(app, deployment, names)
    runs = _runs(app, deployment)
    now = datetime.fromtimestamp(app.clock(), UTC)
    infos = [_info(d, runs.get(str(d["Name"])), now=now) for d in details]
    infos.sort(key=lambda i: (i.kind != "owner", i.next_run or "9999", i.id))
    return ScheduleList(deployment=deployment.name, schedules=infos)


def add(app: AppContext, deployment: Deployment, checked: Plan) -> ScheduleChange:
    names = _names(app, deployment)
    existing = [d for d in _details(app, deployment, names) if str(d["Name"]).startswith("s-")]
    if len(existing) >= schedules.MAX_SCHEDULES:
        raise UsageError(
            f"{deployment.name} already has {len(existing)} schedules, the most it keeps.",
            hint="openclaw-deploy schedule list, then schedule remove ID",
        )
    scheduler = _scheduler(app, deployment)
    firing = checked.firing
    with translate_boto_errors("create the schedule"):
        schedule_plan.create(scheduler, names, checked)
    detail = scheduler.get_schedule(Name=firing.schedule, GroupName=names.group)
    now = datetime.fromtimestamp(app.clock(), UTC)
    return ScheduleChange(
        deployment=deployment.name,
        action="created",
        schedule=_info(detail, None, now=now),
        cost=checked.cost,
    )


def _find(
    app: AppContext, deployment: Deployment, names: Names, schedule_id: str
) -> dict[str, Any]:
    scheduler = _scheduler(app, deployment)
    with translate_boto_errors("read the schedule"):
        try:
            found: dict[str, Any] = scheduler.get_schedule(Name=schedule_id, GroupName=names.group)
        except scheduler.exceptions.ResourceNotFoundException:
            raise NotFoundError(
                f"No schedule {schedule_id!r} in {deployment.name}.",
                hint="openclaw-deploy schedule list",
            ) from None
        except scheduler.exceptions.ValidationException:
            raise NotFoundError(
                f"{schedule_id!r} is not a schedule id.", hint="openclaw-deploy schedule list"
            ) from None
    return found


def _not_the_warm_window(schedule_id: str, action: str) -> None:
    """The warm window's wake-up belongs to its setting: removed or paused here, the setting
    would still say it is on."""
    if schedule_id == schedules.WARM_NAME:
        raise UsageError(
            f"{schedule_id!r} is the warm window's daily wake-up; it is not {action} here but "
            "with the setting.",
            hint="openclaw-deploy config set warm off",
        )


def set_state(
    app: AppContext, deployment: Deployment, schedule_id: str, *, enabled: bool
) -> ScheduleChange:
    """Pause or resume: UpdateSchedule replaces the whole schedule, so every field is sent."""
    _not_the_warm_window(schedule_id, "resumed" if enabled else "paused")
    names = _names(app, deployment)
    detail = _find(app, deployment, names, schedule_id)
    with translate_boto_errors("change the schedule"):
        schedule_plan.set_state(_scheduler(app, deployment), names.group, detail, enabled=enabled)
    detail = _find(app, deployment, names, schedule_id)
    now = datetime.fromtimestamp(app.clock(), UTC)
    return ScheduleChange(
        deployment=deployment.name,
        action="resumed" if enabled else "paused",
        schedule=_info(detail, _runs(app, deployment).get(schedule_id), now=now),
    )


def describe(app: AppContext, deployment: Deployment, schedule_id: str) -> ScheduleInfo:
    names = _names(app, deployment)
    detail = _find(app, deployment, names, schedule_id)
    now = datetime.fromtimestamp(app.clock(), UTC)
    return _info(detail, _runs(app, deployment).get(schedule_id), now=now)


def remove(app: AppContext, deployment: Deployment, schedule_id: str) -> ScheduleChange:
    _not_the_warm_window(schedule_id, "removed")
    names = _names(app, deployment)
    detail = _find(app, deployment, names, schedule_id)
    now = datetime.fromtimestamp(app.clock(), UTC)
    info = _info(detail, None, now=now)
    with translate_boto_errors("remove the schedule"):
        _scheduler(app, deployment).delete_schedule(Name=schedule_id, GroupName=names.group)
    return ScheduleChange(deployment=deployment.name, action="removed", schedule=info)


def run_now(app: AppContext, deployment: Deployment, schedule_id: str) -> ScheduleChange:
    names = _names(app, deployment)
    detail = _find(app, deployment, names, schedule_id)
    now = datetime.fromtimestamp(app.clock(), UTC)
    info = _info(detail, None, now=now)
    payload = str(detail.get("Target", {}).get("Input", ""))
    if deployment.target == "local":
        # The local cloud's clock fires due one-time schedules (moto never fires any).
        firing = Firing.from_event(payload)
        stamp = f"{int(app.clock()):x}"
        schedules.create_once(
            _scheduler(app, deployment),
            names,
            name=f"{schedule_id}{RUN_PREFIX}{stamp}"[:64],
            at=schedule_expr.at_expression(now.replace(tzinfo=None)),
            firing=firing,
            description=f"run now: {schedule_id}",
        )
        note = "the local cloud fires it within a few seconds"
    else:
        lambda_client = app.client("lambda", deployment.region)
        with translate_boto_errors("run the schedule"):
            lambda_client.invoke(
                FunctionName=names.target_arn,
                InvocationType="Event",
                Payload=payload.encode("utf-8"),
            )
        note = "fired: the answer follows on its channel"
    return ScheduleChange(deployment=deployment.name, action="run", schedule=info, note=note)


def schedule_hours(app: AppContext, deployment: Deployment) -> ScheduleHours:
    """The task hours this month's schedules add (their awake time, overlaps counted once)."""
    listed = list_all(app, deployment)
    active = [s for s in listed.schedules if s.state == "ENABLED"]
    now = datetime.fromtimestamp(app.clock(), UTC)
    idle = deployment.agent.idle_timeout_minutes
    hours = awake_hours(((s.expression, s.timezone) for s in active), idle_minutes=idle, now=now)
    hour_usd = _hour_usd(deployment)
    return ScheduleHours(
        schedules=len(active),
        awake_hours_per_month=round(hours, 1),
        monthly_usd=round(hours * hour_usd, 2),
        hour_usd=hour_usd,
        idle_timeout_minutes=idle,
    )
