"""EventBridge Scheduler expressions: checked as the service checks them, and their next runs.

Three forms (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html):

* `at(yyyy-mm-ddThh:mm:ss)`: once, at that wall-clock time of the schedule's time zone;
* `rate(value unit)`: every `value` minutes, hours or days (`minute` when the value is 1);
* `cron(minutes hours day-of-month month day-of-week year)`: six fields, one of the two day
  fields `?`; day-of-week 1-7 is SUN-SAT; `L`, `W` and `#` as in the AWS documentation.

`check` raises `ExpressionError` (with the reason) for anything the service would refuse, so a
schedule is never half-created. `next_runs` computes upcoming firings in a time zone (for
`schedule list`, the local target's clock and the cost of a schedule). Stdlib only.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MONTHS: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS: Final = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
"""Index + 1 is the day-of-week number EventBridge uses (1 = Sunday)."""
_AT: Final = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_RATE: Final = re.compile(r"^rate\((\d{1,9}) (minute|minutes|hour|hours|day|days)\)$")
_CRON: Final = re.compile(r"^cron\((.*)\)$")
_SECONDS: Final = {"minute": 60, "hour": 3600, "day": 86400}
MAX_YEARS_AHEAD: Final = 5
"""How far `next_runs` looks for a matching cron day before it gives up."""


class ExpressionError(ValueError):
    """An expression EventBridge Scheduler would refuse; the message says why."""


@dataclass(frozen=True, kw_only=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    offset: int = 1
    """The number of names[0] (months and days count from 1)."""


_MINUTE = _Field(name="minutes", low=0, high=59)
_HOUR = _Field(name="hours", low=0, high=23)
_DOM = _Field(name="day-of-month", low=1, high=31)
_MONTH = _Field(name="month", low=1, high=12, names=MONTHS)
_DOW = _Field(name="day-of-week", low=1, high=7, names=DAYS)
_YEAR = _Field(name="year", low=1970, high=2199)


@dataclass(frozen=True, kw_only=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int]
    dom: str
    """The day-of-month field as written (`?` when days are chosen by day-of-week)."""
    dow: str

    def day_matches(self, day: date) -> bool:
        if day.month not in self.months or day.year not in self.years:
            return False
        if self.dom != "?":
            return _dom_matches(self.dom, day)
        return _dow_matches(self.dow, day)


def _number(text: str, field: _Field) -> int:
    upper = text.upper()
    if field.names and upper in field.names:
        return field.names.index(upper) + field.offset
    if not text.isdigit():
        raise ExpressionError(f"{text!r} is not a valid value in the {field.name} field")
    value = int(text)
    if not field.low <= value <= field.high:
        raise ExpressionError(
            f"{value} is outside the {field.name} field's range {field.low}-{field.high}"
        )
    return value


def _values(text: str, field: _Field) -> frozenset[int]:
    """A field of numbers, names, `*`, ranges `a-b`, steps `a/n` or `a-b/n`, and lists."""
    found: set[int] = set()
    for part in text.split(","):
        if not part:
            raise ExpressionError(f"an empty item in the {field.name} field")
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ExpressionError(f"{part!r}: the step must be a positive number")
            step = int(step_text)
        if base == "*":
            low, high = field.low, field.high
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = _number(first, field), _number(last, field)
            if low > high:
                raise ExpressionError(
                    f"{part!r}: a range must go upwards in the {field.name} field"
                )
        else:
            low = _number(base, field)
            high = field.high if step_text else low
        found.update(range(low, high + 1, step))
    return frozenset(found)


def _check_dom(text: str) -> None:
    if text in ("L", "LW"):
        return
    if text.endswith("W") and text[:-1].isdigit():
        _number(text[:-1], _DOM)
        return
    _values(text, _DOM)


def _check_dow(text: str) -> None:
    if "#" in text:
        day, _, nth = text.partition("#")
        _number(day, _DOW)
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise ExpressionError(f"{text!r}: the week after # must be 1-5")
        return
    if text == "L":
        return
    if text.endswith("L") and len(text) > 1:
        _number(text[:-1], _DOW)
        return
    _values(text, _DOW)


def _dom_matches(text: str, day: date) -> bool:
    last = calendar.monthrange(day.year, day.month)[1]
    if text == "L":
        return day.day == last
    if text == "LW":
        return day == _weekday_near(date(day.year, day.month, last))
    if text.endswith("W"):
        wanted = min(int(text[:-1]), last)
        return day == _weekday_near(date(day.year, day.month, wanted))
    return day.day in _values(text, _DOM)


def _weekday_near(day: date) -> date:
    """The weekday nearest to `day` within its month (`W`)."""
    if day.weekday() == 5:
        return day - timedelta(days=1) if day.day > 1 else day + timedelta(days=2)
    if day.weekday() == 6:
        last = calendar.monthrange(day.year, day.month)[1]
        return day + timedelta(days=1) if day.day < last else day - timedelta(days=2)
    return day


def _aws_dow(day: date) -> int:
    return (day.weekday() + 1) % 7 + 1  # Monday (0) → 2, Sunday (6) → 1


def _dow_matches(text: str, day: date) -> bool:
    if "#" in text:
        wanted, _, nth = text.partition("#")
        return _aws_dow(day) == _number(wanted, _DOW) and (day.day - 1) // 7 + 1 == int(nth)
    last = calendar.monthrange(day.year, day.month)[1]
    if text == "L":
        return _aws_dow(day) == 7
    if text.endswith("L"):
        return _aws_dow(day) == _number(text[:-1], _DOW) and day.day + 7 > last
    return _aws_dow(day) in _values(text, _DOW)


def parse_cron(expression: str) -> Cron:
    match = _CRON.match(expression)
    if match is None:
        raise ExpressionError("not a cron(...) expression")
    fields = match.group(1).split()
    if len(fields) != 6:
        raise ExpressionError(
            f"cron needs six fields (minutes hours day-of-month month day-of-week year), "
            f"not {len(fields)}"
        )
    minute, hour, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise ExpressionError(
            "exactly one of day-of-month and day-of-week must be '?' "
            "(e.g. cron(0 8 ? * MON-FRI *) or cron(0 8 1 * ? *))"
        )
    if dom != "?":
        _check_dom(dom)
    if dow != "?":
        _check_dow(dow)
    return Cron(
        minutes=_values(minute, _MINUTE),
        hours=_values(hour, _HOUR),
        months=_values(month, _MONTH),
        years=_values(year, _YEAR),
        dom=dom,
        dow=dow,
    )


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; ExpressionError when there is none by that name."""
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ExpressionError(
            f"{name!r} is not a time zone name (use an IANA name such as Europe/Berlin, "
            "America/New_York or UTC)"
        ) from None


def at_time(expression: str) -> datetime:
    """The naive wall-clock time of an `at(...)` expression."""
    match = _AT.match(expression)
    if match is None:
        raise ExpressionError("not an at(yyyy-mm-ddThh:mm:ss) expression")
    try:
        return datetime.fromisoformat(match.group(1))
    except ValueError:
        raise ExpressionError(f"{match.group(1)} is not a calendar date and time") from None


def at_expression(when: datetime) -> str:
    """`at(...)` for a wall-clock time (seconds dropped: Scheduler fires on the minute)."""
    return f"at({when.replace(second=0, microsecond=0, tzinfo=None).isoformat()})"


def rate_seconds(expression: str) -> int:
    match = _RATE.match(expression)
    if match is None:
        raise ExpressionError(
            "not a rate(value unit) expression; the unit is minutes, hours or days, "
            "e.g. rate(30 minutes), rate(1 hour)"
        )
    value, unit = int(match.group(1)), match.group(2)
    if value == 0:
        raise ExpressionError("a rate must be at least 1")
    if (value == 1) != (not unit.endswith("s")):
        singular = unit.rstrip("s")
        right = f"rate(1 {singular})" if value == 1 else f"rate({value} {singular}s)"
        raise ExpressionError(f"write {right}: EventBridge wants the singular for 1 only")
    return value * _SECONDS[unit.rstrip("s")]


def check(expression: str) -> str:
    """Raise ExpressionError when EventBridge Scheduler would refuse `expression`; else return
    which kind it is (`at`, `rate` or `cron`)."""
    if expression.startswith("at("):
        at_time(expression)
        return "at"
    if expression.startswith("rate("):
        rate_seconds(expression)
        return "rate"
    if expression.startswith("cron("):
        parse_cron(expression)
        return "cron"
    raise ExpressionError("an expression is at(...), rate(...) or cron(...)")


def next_runs(
    expression: str,
    tz_name: str,
    after: datetime,
    *,
    limit: int = 1,
    start: datetime | None = None,
) -> Iterator[datetime]:
    """Up to `limit` firings strictly after `after` (aware), as aware datetimes in `tz_name`.

    A `rate` counts from `start` (when the schedule was created): it first fires one period
    after it."""
    tz = zone(tz_name)
    after = after.astimezone(tz)
    kind = check(expression)
    if kind == "at":
        when = at_time(expression).replace(tzinfo=tz)
        if when > after and limit > 0:
            yield when
        return
    if kind == "rate":
        step = rate_seconds(expression)
        origin = (start or after).astimezone(UTC).timestamp()
        now = after.astimezone(UTC).timestamp()
        # The first firing is one period after the start (creation), as EventBridge does.
        count = max(1, int((now - origin) // step) + 1)
        for index in range(count, count + limit):
            yield datetime.fromtimestamp(origin + index * step, UTC).astimezone(tz)
        return
    cron = parse_cron(expression)
    found = 0
    day = after.date()
    last_day = day + timedelta(days=366 * MAX_YEARS_AHEAD)
    while found < limit and day <= last_day:
        if cron.day_matches(day):
            for hour in sorted(cron.hours):
                for minute in sorted(cron.minutes):
                    when = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
                    # A wall-clock time skipped by a DST change does not exist: skip it too.
                    if when.astimezone(UTC).astimezone(tz).hour != hour:
                        continue
                    if when > after:
                        yield when
                        found += 1
                        if found >= limit:
                            return
        day += timedelta(days=1)
