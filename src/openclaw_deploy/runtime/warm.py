"""The owner's warm window: a short daily span, in their time zone, when the agent stays awake.

The agent sleeps when idle, and a wake-up takes about a minute. With a warm window (`config set
warm 08:00-09:00`) a schedule named `WARM_NAME` wakes it `WAKE_LEAD_MINUTES` before the window's
start every day, so it is up and has taken its warm-up turn (openclaw_bridge.warmup) when the
window begins, and the bridge does not sleep for idleness from then until the window's end (time
in the window's zone); after that, the normal idle timeout applies. The window is kept in the
owner's settings row as `08:00-09:00@Europe/Berlin` (`WarmWindow.stored`).

The window's math is wall-clock time in its zone (zoneinfo), so it follows daylight saving time:
a window may cross midnight, and on a day whose clocks change it is as long as the clocks say.
Stdlib only: the CLI, the schedule target and the bridge import it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from openclaw_deploy.runtime import schedule_expr

MAX_HOURS: Final = 8
"""Longest window: the watchdog stops a task after 12 hours, so a window past that would be cut
short, and a longer one is close to an always-on agent (a bigger decision than this setting)."""
WAKE_LEAD_MINUTES: Final = 2
"""How long before the window the agent is woken: a wake-up at the default size takes about a
minute, and the bridge's warm-up turn some seconds more."""
DAYS_PER_MONTH: Final = 30.4
"""What the monthly cost of a daily window is priced with (365 / 12)."""
_SPAN: Final = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_MINUTES_PER_DAY: Final = 24 * 60


class WarmError(ValueError):
    """A window that cannot be kept: what is wrong, in words to show the owner."""


@dataclass(frozen=True)
class WarmWindow:
    start: int
    """Minutes after midnight, in `zone`."""
    end: int
    zone: str

    @property
    def minutes(self) -> int:
        """How long the window is on a day without a clock change."""
        return (self.end - self.start) % _MINUTES_PER_DAY

    @property
    def hours(self) -> float:
        return self.minutes / 60

    @property
    def awake_hours(self) -> float:
        """How long the agent is kept awake a day: the window and the lead before it."""
        return (self.minutes + WAKE_LEAD_MINUTES) / 60

    @property
    def _wake(self) -> int:
        return (self.start - WAKE_LEAD_MINUTES) % _MINUTES_PER_DAY

    @property
    def span(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"

    @property
    def stored(self) -> str:
        """The settings row's form (`parse_stored` reads it back)."""
        return f"{self.span}@{self.zone}"

    def __str__(self) -> str:
        return f"{self.span} {self.zone}"

    @property
    def cron(self) -> str:
        """Scheduler's expression for the daily wake-up, `WAKE_LEAD_MINUTES` before the
        window's start (in `zone`)."""
        return f"cron({self._wake % 60} {self._wake // 60} * * ? *)"

    def holds(self, at: datetime) -> bool:
        """Whether `at` (an aware time) is inside the window or its lead, in the window's
        zone: the agent stays awake then."""
        local = at.astimezone(schedule_expr.zone(self.zone))
        minute = local.hour * 60 + local.minute
        if self._wake < self.end:
            return self._wake <= minute < self.end
        return minute >= self._wake or minute < self.end

    def monthly_usd(self, hour_usd: float) -> float:
        """What keeping the task awake for the window (and its lead) every day adds to a month
        (at most: an agent already awake then costs nothing more)."""
        return round(self.awake_hours * DAYS_PER_MONTH * hour_usd, 2)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse(span: str, zone: str) -> WarmWindow:
    """`HH:MM-HH:MM` in `zone`; WarmError when it is not a window this setting keeps."""
    match = _SPAN.match(span)
    if match is None:
        raise WarmError(f"a warm window is HH:MM-HH:MM, such as 08:00-09:00, not {span!r}")
    start_h, start_m, end_h, end_m = (int(part) for part in match.groups())
    for hour, minute in ((start_h, start_m), (end_h, end_m)):
        if hour > 23 or minute > 59:
            raise WarmError(f"{hour:02d}:{minute:02d} is not a time of day (00:00 to 23:59)")
    try:
        schedule_expr.zone(zone)
    except schedule_expr.ExpressionError as error:
        raise WarmError(str(error)) from None
    window = WarmWindow(start=start_h * 60 + start_m, end=end_h * 60 + end_m, zone=zone)
    if window.minutes == 0:
        raise WarmError("the window's end must differ from its start")
    if window.minutes > MAX_HOURS * 60:
        raise WarmError(
            f"{window.span} is {window.hours:g} hours; a warm window is at most {MAX_HOURS} hours"
        )
    return window


def parse_stored(value: str | None) -> WarmWindow | None:
    """The window the settings row keeps (None: no window, or one that no longer parses)."""
    if not value or "@" not in value:
        return None
    span, zone = value.split("@", 1)
    try:
        return parse(span, zone)
    except WarmError:
        return None
