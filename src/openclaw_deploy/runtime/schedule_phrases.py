"""Plain-English schedule phrases → EventBridge Scheduler expressions.

Understood (case does not matter; times as `08:00`, `8:30`, `8am`, `6:15pm`, `noon`, `midnight`):

* `every day at 08:00`, `daily at 8am`, `every day at 08:00 and 18:00` (same minute);
* `every weekday at 08:00` (Monday-Friday), `every weekend at 10:00`;
* `every monday at 09:00`, `every mon, wed and fri at 7pm`, `mondays at 9am`;
* `every month on the 1st at 09:00`, `monthly on the 15th at noon`, `on the last day of every
  month at 18:00`;
* `every 30 minutes`, `every hour`, `hourly`, `every 2 hours`, `every 3 days`;
* once: `tomorrow at 09:00`, `today at 18:30`, `on 2026-12-24 at 18:00`, `in 2 hours`,
  `in 45 minutes`.

Anything else may be given as a raw `cron(...)`, `rate(...)` or `at(...)` expression, which is
passed through after `schedule_expr.check`. `parse` raises `PhraseError` with the list above when
a phrase is not understood. Stdlib only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from openclaw_deploy.runtime import schedule_expr
from openclaw_deploy.runtime.schedule_expr import DAYS, ExpressionError

UNDERSTOOD: Final = (
    "every day at 08:00",
    "every weekday at 08:00",
    "every weekend at 10:00",
    "every monday and thursday at 7pm",
    "every month on the 1st at 09:00",
    "every 30 minutes / every 2 hours / hourly",
    "tomorrow at 09:00 / on 2026-12-24 at 18:00 / in 2 hours",
    "cron(0 8 ? * MON-FRI *) / rate(1 hour) / at(2026-12-24T18:00:00)",
)
_DAY_NAMES: Final = {
    "sunday": "SUN",
    "monday": "MON",
    "tuesday": "TUE",
    "wednesday": "WED",
    "thursday": "THU",
    "friday": "FRI",
    "saturday": "SAT",
    **{day.lower(): day for day in DAYS},
    "tues": "TUE",
    "thur": "THU",
    "thurs": "THU",
}
_TIME: Final = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")
_UNITS: Final = {"minute": "minute", "min": "minute", "hour": "hour", "day": "day"}


class PhraseError(ExpressionError):
    """A phrase we do not understand, or one that names an impossible time."""


@dataclass(frozen=True, kw_only=True)
class Parsed:
    expression: str
    description: str
    """The schedule in words, as `schedule list` shows it."""

    @property
    def one_time(self) -> bool:
        return self.expression.startswith("at(")


def _not_understood(phrase: str) -> PhraseError:
    return PhraseError(
        f"{phrase!r} is not a schedule phrase we understand. Try one of: " + "; ".join(UNDERSTOOD)
    )


def parse_time(text: str) -> tuple[int, int]:
    """`08:00`, `8:30`, `8am`, `6:15 pm`, `noon`, `midnight` → (hour, minute)."""
    text = text.strip().lower()
    if text == "noon":
        return 12, 0
    if text == "midnight":
        return 0, 0
    match = _TIME.match(text)
    if match is None:
        raise PhraseError(f"{text!r} is not a time of day (write 08:00, 8am or 6:30pm)")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = match.group(3)
    if suffix:
        if not 1 <= hour <= 12:
            raise PhraseError(f"{text!r}: with am/pm the hour is 1-12")
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        raise PhraseError(f"{text!r} is not a time of day")
    return hour, minute


def _times(text: str) -> tuple[str, str, str]:
    """`08:00 and 18:00` → cron minute and hour fields and the words; one minute for all."""
    parts = [p for p in re.split(r"\s*(?:,|\band\b)\s*", text.strip()) if p]
    if not parts:
        raise PhraseError("say at what time, e.g. 'at 08:00'")
    times = [parse_time(part) for part in parts]
    minutes = {minute for _, minute in times}
    if len(minutes) > 1:
        raise PhraseError(
            "several times a day must share their minutes (08:00 and 18:00), "
            "or make one schedule per time"
        )
    hours = sorted({hour for hour, _ in times})
    words = " and ".join(f"{hour:02d}:{times[0][1]:02d}" for hour in hours)
    return str(times[0][1]), ",".join(str(h) for h in hours), words


def _days(text: str) -> list[str]:
    names = [p for p in re.split(r"\s*(?:,|\band\b|\s)\s*", text.strip()) if p]
    days: list[str] = []
    for name in names:
        key = name.lower().removesuffix("s") if name.lower() not in _DAY_NAMES else name.lower()
        if key not in _DAY_NAMES:
            raise PhraseError(f"{name!r} is not a day of the week")
        if _DAY_NAMES[key] not in days:
            days.append(_DAY_NAMES[key])
    return days


def _ordinal(text: str) -> int:
    match = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", text)
    if match is None or not 1 <= int(match.group(1)) <= 31:
        raise PhraseError(f"{text!r} is not a day of the month (1st-31st)")
    return int(match.group(1))


def parse(phrase: str, *, now: datetime) -> Parsed:
    """`phrase` as an expression; `now` is the wall-clock time in the schedule's time zone
    (for `tomorrow` and `in 2 hours`). Raw expressions are checked and passed through."""
    text = " ".join(phrase.strip().split())
    if text.startswith(("cron(", "rate(", "at(")):
        kind = schedule_expr.check(text)
        words = {"at": "once", "rate": "repeating"}.get(kind, "cron")
        return Parsed(expression=text, description=words)
    lower = text.lower()
    found = _repeating(lower) or _one_time(lower, now)
    if found is None:
        raise _not_understood(phrase)
    return found


def _repeating(lower: str) -> Parsed | None:  # noqa: PLR0911 - one answer per form

    match = re.fullmatch(r"(?:every|each) (\d+) (minute|min|hour|day)s?", lower)
    if match:
        value, unit = int(match.group(1)), _UNITS[match.group(2)]
        if value == 0:
            raise PhraseError("the interval must be at least 1")
        plural = "" if value == 1 else "s"
        return Parsed(
            expression=f"rate({value} {unit}{plural})", description=f"every {value} {unit}{plural}"
        )
    match = re.fullmatch(r"(?:every (minute|hour|day)|(hourly))", lower)
    if match and (match.group(2) or match.group(1) != "day"):
        unit = "hour" if match.group(2) else match.group(1)
        return Parsed(expression=f"rate(1 {unit})", description=f"every {unit}")

    match = re.fullmatch(r"(?:every day|daily|each day) at (.+)", lower)
    if match:
        minute, hours, words = _times(match.group(1))
        return Parsed(
            expression=f"cron({minute} {hours} * * ? *)", description=f"every day at {words}"
        )
    match = re.fullmatch(r"(?:every |on )?(weekday|weekend)s? at (.+)", lower)
    if match:
        minute, hours, words = _times(match.group(2))
        span = "MON-FRI" if match.group(1) == "weekday" else "SAT,SUN"
        return Parsed(
            expression=f"cron({minute} {hours} ? * {span} *)",
            description=f"every {match.group(1)} at {words}",
        )
    match = re.fullmatch(
        r"(?:every month|monthly) on the (\w+)(?: day)? at (.+)"
        r"|on the (\w+) (?:day )?of every month at (.+)",
        lower,
    )
    if match:
        day_text = match.group(1) or match.group(3)
        minute, hours, words = _times(match.group(2) or match.group(4))
        if day_text == "last":
            return Parsed(
                expression=f"cron({minute} {hours} L * ? *)",
                description=f"on the last day of every month at {words}",
            )
        day = _ordinal(day_text)
        return Parsed(
            expression=f"cron({minute} {hours} {day} * ? *)",
            description=f"on day {day} of every month at {words}",
        )
    match = re.fullmatch(r"(?:every |on )?([a-z, ]+?) at (.+)", lower)
    if match and not match.group(1).startswith(("tomorrow", "today", "in ")):
        try:
            days = _days(match.group(1))
        except PhraseError:
            days = []
        if days:
            minute, hours, words = _times(match.group(2))
            return Parsed(
                expression=f"cron({minute} {hours} ? * {','.join(days)} *)",
                description=f"every {', '.join(d.title() for d in days)} at {words}",
            )

    return None


def _one_time(lower: str, now: datetime) -> Parsed | None:
    match = re.fullmatch(r"in (\d+) (minute|min|hour|day)s?", lower)
    if match:
        value, unit = int(match.group(1)), _UNITS[match.group(2)]
        if value == 0:
            raise PhraseError("say how long from now, e.g. 'in 2 hours'")
        when = now + timedelta(**{f"{unit}s": value})
        return _once(when)
    match = re.fullmatch(r"(today|tomorrow) at (.+)", lower)
    if match:
        hour, minute = parse_time(match.group(2))
        day = now.date() + timedelta(days=1 if match.group(1) == "tomorrow" else 0)
        return _once(datetime(day.year, day.month, day.day, hour, minute))
    match = re.fullmatch(r"(?:on )?(\d{4}-\d{2}-\d{2})(?: at |t| )(.+)", lower)
    if match:
        try:
            day = datetime.fromisoformat(match.group(1)).date()
        except ValueError:
            raise PhraseError(f"{match.group(1)} is not a calendar date") from None
        hour, minute = parse_time(match.group(2))
        return _once(datetime(day.year, day.month, day.day, hour, minute))
    return None


def _once(when: datetime) -> Parsed:
    expression = schedule_expr.at_expression(when)
    return Parsed(expression=expression, description=f"once, {when:%Y-%m-%d %H:%M}")
