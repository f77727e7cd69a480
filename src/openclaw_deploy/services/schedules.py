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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from openclaw_deploy.aws.errors import translate_boto_errors
from openclaw_deploy.config import Deployment
from openclaw_deploy.context import AppContext
from openclaw_deploy.errors import NotFoundError, UsageError
from openclaw_deploy.runtime import resources, schedule_expr, schedule_phrases, schedules
from openclaw_deploy.runtime.contract import MAX_TEXT_CHARS
from openclaw_deploy.runtime.schedule_expr import ExpressionError
from openclaw_deploy.runtime.schedules import Firing, Names
from openclaw_deploy.services.target import connect

DEFAULT_TIMEZONE: Final = "UTC"
START_MINUTES: Final = 2.0
"""A wake-up costs the task's start (about a minute) and the turn itself, before idling."""
AWAKE_ALL_DAY_HOURS: Final = 20.0
"""At least this many hours a day awake because of one schedule: refused (it never sleeps)."""
CONFIRM_HOURS_PER_DAY: Final = 2.0
"""Above this many hours a day awake, a schedule is created only after its cost is confirmed."""
DAYS_PER_MONTH: Final = 30
MAX_FIRINGS_PRICED: Final = 50_000
RUN_PREFIX: Final = "-run-"


ScheduleInfo = schedules.View


@dataclass(frozen=True, kw_only=True)
class ScheduleList:
    deployment: str
    schedules: list[ScheduleInfo]


@dataclass(frozen=True, kw_only=True)
class Cost:
    awake_hours_per_month: float
    monthly_usd: float


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


@dataclass(frozen=True, kw_only=True)
class Request:
    """A schedule as asked for (`schedule add`), before anything is checked."""

    when: str | None
    at: str | None
    say: str
    to: str
    timezone: str
    title: str | None = None


@dataclass(frozen=True, kw_only=True)
class Plan:
    """A checked request: what will be created, and what it costs."""

    expression: str
    description: str
    timezone: str
    firing: Firing
    cost: Cost
    needs_confirmation: bool


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


def awake_hours(
    expressions: Iterable[tuple[str, str]], *, idle_minutes: float, now: datetime
) -> float:
    """Hours the agent is awake in the next 30 days because of these (expression, time zone)
    schedules: each firing keeps it up for its start and the idle timeout; overlaps count once."""
    end = now + timedelta(days=DAYS_PER_MONTH)
    awake = timedelta(minutes=idle_minutes + START_MINUTES)
    spans: list[tuple[datetime, datetime]] = []
    for expression, zone in expressions:
        for when in schedule_expr.next_runs(
            expression, zone, now, limit=MAX_FIRINGS_PRICED, start=now
        ):
            if when > end:
                break
            spans.append((when.astimezone(UTC), when.astimezone(UTC) + awake))
    spans.sort()
    total = timedelta()
    current: tuple[datetime, datetime] | None = None
    for start, stop in spans:
        if current is None or start > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (start, stop)
        else:
            current = (current[0], max(current[1], stop))
    if current is not None:
        total += min(current[1], end + awake) - current[0]
    return total.total_seconds() / 3600


def _hour_usd(deployment: Deployment) -> float:
    from openclaw_deploy.services.cost import task_hour_usd

    return task_hour_usd(deployment.agent)


def _parse_when(request: Request, zone: ZoneInfo, wall: datetime) -> schedule_phrases.Parsed:
    if (request.when is None) == (request.at is None):
        raise UsageError(
            "Say when: a phrase or expression, or --at for a one-time date (not both).",
            hint='openclaw-deploy schedule add "every weekday at 08:00" --say "..."',
        )
    try:
        if request.at is not None:
            when = datetime.fromisoformat(request.at.strip())
            if when.tzinfo is not None:
                when = when.astimezone(zone).replace(tzinfo=None)
            parsed = schedule_phrases.Parsed(
                expression=schedule_expr.at_expression(when),
                description=f"once, {when:%Y-%m-%d %H:%M}",
            )
        else:
            parsed = schedule_phrases.parse(request.when or "", now=wall.replace(tzinfo=None))
    except ExpressionError as error:
        raise UsageError(
            str(error), hint="see `openclaw-deploy schedule add --help` for the phrases"
        ) from None
    except ValueError:
        raise UsageError(
            f"--at {request.at!r} is not a date and time.", hint="pass --at 2026-12-24T18:00"
        ) from None
    return parsed


def plan(deployment: Deployment, request: Request, *, now: float) -> Plan:
    """Check `request` without touching AWS; UsageError (nothing created) when it is refused."""
    try:
        zone = schedule_expr.zone(request.timezone)
    except ExpressionError as error:
        raise UsageError(str(error), hint="pass --tz Europe/Berlin (any IANA name)") from None
    wall = datetime.fromtimestamp(now, zone)
    if request.to not in schedules.CHANNELS:
        raise UsageError(
            f"--to {request.to!r} is not a channel.", hint="pass --to telegram or --to web"
        )
    say = request.say.strip()
    if not say:
        raise UsageError("Say what the agent should do.", hint='pass --say "Summarise the news"')
    if len(say) > MAX_TEXT_CHARS:
        raise UsageError(f"--say is over {MAX_TEXT_CHARS} characters.", hint="shorten the prompt")
    parsed = _parse_when(request, zone, wall)
    if parsed.one_time:
        due = schedule_expr.at_time(parsed.expression).replace(tzinfo=zone)
        if due <= wall:
            raise UsageError(
                f"{due:%Y-%m-%d %H:%M} in {request.timezone} is in the past "
                f"(it is {wall:%Y-%m-%d %H:%M} there).",
                hint="pick a later time, or check --tz",
            )
    idle = deployment.agent.idle_timeout_minutes
    hours = awake_hours([(parsed.expression, request.timezone)], idle_minutes=idle, now=wall)
    cost = Cost(
        awake_hours_per_month=round(hours, 1),
        monthly_usd=round(hours * _hour_usd(deployment), 2),
    )
    per_day = hours / DAYS_PER_MONTH
    if per_day >= AWAKE_ALL_DAY_HOURS:
        raise UsageError(
            f"{parsed.description} keeps the agent awake all day: it fires more often than its "
            f"{idle}-minute idle timeout, about {hours:.0f} task hours "
            f"(${cost.monthly_usd:.2f}) a month.",
            hint="fire less often, e.g. every 2 hours or every weekday at 08:00",
        )
    title = (request.title or say).strip()
    firing = Firing(
        schedule=schedules.new_name(),
        title=" ".join(title.split())[:80],
        text=say,
        to=request.to,
    )
    return Plan(
        expression=parsed.expression,
        description=parsed.description,
        timezone=request.timezone,
        firing=firing,
        cost=cost,
        needs_confirmation=per_day > CONFIRM_HOURS_PER_DAY,
    )


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
        scheduler.create_schedule(
            Name=firing.schedule,
            GroupName=names.group,
            ScheduleExpression=checked.expression,
            ScheduleExpressionTimezone=checked.timezone,
            FlexibleTimeWindow={"Mode": "OFF"},
            Target=schedules.target(names, firing),
            Description=checked.description[:512],
            State="ENABLED",
            **({"ActionAfterCompletion": "DELETE"} if checked.expression.startswith("at(") else {}),
        )
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


_UPDATABLE: Final = (
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "FlexibleTimeWindow",
    "Target",
    "Description",
    "StartDate",
    "EndDate",
    "ActionAfterCompletion",
)


def set_state(
    app: AppContext, deployment: Deployment, schedule_id: str, *, enabled: bool
) -> ScheduleChange:
    """Pause or resume: UpdateSchedule replaces the whole schedule, so every field is sent."""
    names = _names(app, deployment)
    detail = _find(app, deployment, names, schedule_id)
    update = {key: detail[key] for key in _UPDATABLE if detail.get(key) is not None}
    with translate_boto_errors("change the schedule"):
        _scheduler(app, deployment).update_schedule(
            Name=schedule_id,
            GroupName=names.group,
            State="ENABLED" if enabled else "DISABLED",
            **update,
        )
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
