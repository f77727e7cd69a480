"""Checking a schedule before it is created: the same rules for `schedule add` and the web app.

The expression as Scheduler checks it, the time zone against the IANA database, a one-time date
in the past, the prompt and channel, and what the schedule costs: every firing keeps the agent
awake for its idle timeout, so a schedule that fires more often than that keeps it awake all day
(refused), and one that keeps it awake for hours a day needs a confirmation showing its monthly
cost. Stdlib only (the API handler imports it); nothing here touches AWS.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from openclaw_deploy.runtime import schedule_expr, schedule_phrases, schedules
from openclaw_deploy.runtime.contract import MAX_TEXT_CHARS
from openclaw_deploy.runtime.schedule_expr import ExpressionError
from openclaw_deploy.runtime.schedules import Firing

START_MINUTES: Final = 2.0
"""A wake-up costs the task's start (about a minute) and the turn itself, before idling."""
AWAKE_ALL_DAY_HOURS: Final = 20.0
"""At least this many hours a day awake because of one schedule: refused (it never sleeps)."""
CONFIRM_HOURS_PER_DAY: Final = 2.0
"""Above this many hours a day awake, a schedule is created only after its cost is confirmed."""
DAYS_PER_MONTH: Final = 30
MAX_FIRINGS_PRICED: Final = 50_000
ENV_TASK_HOUR_USD: Final = "OPENCLAW_TASK_HOUR_USD"
"""What an hour of the agent's task costs (the API function prices a schedule with it)."""


class PlanError(ValueError):
    """A refused schedule: what is wrong (`field`: when, at, timezone, say, to) and a hint."""

    def __init__(self, message: str, *, field: str, hint: str) -> None:
        super().__init__(message)
        self.field = field
        self.hint = hint


@dataclass(frozen=True, kw_only=True)
class Cost:
    awake_hours_per_month: float
    monthly_usd: float


@dataclass(frozen=True, kw_only=True)
class Request:
    """A schedule as asked for (`schedule add`, the web form), before anything is checked."""

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


def _parse_when(request: Request, zone: ZoneInfo, wall: datetime) -> schedule_phrases.Parsed:
    if (request.when is None) == (request.at is None):
        raise PlanError(
            "Say when: a phrase or expression, or --at for a one-time date (not both).",
            field="when",
            hint='openclaw-deploy schedule add "every weekday at 08:00" --say "..."',
        )
    try:
        if request.at is not None:
            when = datetime.fromisoformat(request.at.strip())
            if when.tzinfo is not None:
                when = when.astimezone(zone).replace(tzinfo=None)
            return schedule_phrases.Parsed(
                expression=schedule_expr.at_expression(when),
                description=f"once, {when:%Y-%m-%d %H:%M}",
            )
        return schedule_phrases.parse(request.when or "", now=wall.replace(tzinfo=None))
    except ExpressionError as error:
        raise PlanError(
            str(error),
            field="when",
            hint="see `openclaw-deploy schedule add --help` for the phrases",
        ) from None
    except ValueError:
        raise PlanError(
            f"--at {request.at!r} is not a date and time.",
            field="at",
            hint="pass --at 2026-12-24T18:00",
        ) from None


def check(request: Request, *, now: float, idle_minutes: int, hour_usd: float) -> Plan:
    """Check `request`; PlanError (nothing to create) when it is refused."""
    try:
        zone = schedule_expr.zone(request.timezone)
    except ExpressionError as error:
        raise PlanError(
            str(error), field="timezone", hint="pass --tz Europe/Berlin (any IANA name)"
        ) from None
    wall = datetime.fromtimestamp(now, zone)
    if request.to not in schedules.CHANNELS:
        raise PlanError(
            f"--to {request.to!r} is not a channel.",
            field="to",
            hint="pass --to telegram or --to web",
        )
    say = request.say.strip()
    if not say:
        raise PlanError(
            "Say what the agent should do.", field="say", hint='pass --say "Summarise the news"'
        )
    if len(say) > MAX_TEXT_CHARS:
        raise PlanError(
            f"--say is over {MAX_TEXT_CHARS} characters.", field="say", hint="shorten the prompt"
        )
    parsed = _parse_when(request, zone, wall)
    if parsed.one_time:
        due = schedule_expr.at_time(parsed.expression).replace(tzinfo=zone)
        if due <= wall:
            raise PlanError(
                f"{due:%Y-%m-%d %H:%M} in {request.timezone} is in the past "
                f"(it is {wall:%Y-%m-%d %H:%M} there).",
                field="at" if request.at is not None else "when",
                hint="pick a later time, or check --tz",
            )
    hours = awake_hours(
        [(parsed.expression, request.timezone)], idle_minutes=idle_minutes, now=wall
    )
    cost = Cost(awake_hours_per_month=round(hours, 1), monthly_usd=round(hours * hour_usd, 2))
    per_day = hours / DAYS_PER_MONTH
    if per_day >= AWAKE_ALL_DAY_HOURS:
        raise PlanError(
            f"{parsed.description} keeps the agent awake all day: it fires more often than its "
            f"{idle_minutes}-minute idle timeout, about {hours:.0f} task hours "
            f"(${cost.monthly_usd:.2f}) a month.",
            field="when",
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


def create(scheduler: Any, names: schedules.Names, plan: Plan) -> None:
    """CreateSchedule of a checked plan in the deployment's group."""
    firing = plan.firing
    scheduler.create_schedule(
        Name=firing.schedule,
        GroupName=names.group,
        ScheduleExpression=plan.expression,
        ScheduleExpressionTimezone=plan.timezone,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=schedules.target(names, firing),
        Description=plan.description[:512],
        State="ENABLED",
        **({"ActionAfterCompletion": "DELETE"} if plan.expression.startswith("at(") else {}),
    )


UPDATABLE: Final = (
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "FlexibleTimeWindow",
    "Target",
    "Description",
    "StartDate",
    "EndDate",
    "ActionAfterCompletion",
)


def set_state(scheduler: Any, group: str, detail: dict[str, Any], *, enabled: bool) -> None:
    """Pause or resume: UpdateSchedule replaces the whole schedule, so every field is sent."""
    update = {key: detail[key] for key in UPDATABLE if detail.get(key) is not None}
    scheduler.update_schedule(
        Name=detail["Name"],
        GroupName=group,
        State="ENABLED" if enabled else "DISABLED",
        **update,
    )
