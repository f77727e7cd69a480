"""The warm window's math (`runtime.warm`, shared by the CLI and the bridge): wall-clock time in
the window's zone, across midnight and on the days the clocks change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from openclaw_deploy.runtime.warm import (
    WAKE_LEAD_MINUTES,
    WarmError,
    WarmWindow,
    parse,
    parse_stored,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def test_a_morning_window_holds_from_its_wake_up_lead_up_to_its_end() -> None:
    window = parse("08:00-09:00", "Europe/Berlin")
    assert WAKE_LEAD_MINUTES == 2
    assert (window.hours, window.cron, str(window)) == (
        1,
        "cron(58 7 * * ? *)",  # woken 2 minutes early: up and warm at 08:00
        "08:00-09:00 Europe/Berlin",
    )
    day = datetime(2026, 12, 1, tzinfo=BERLIN)
    assert not window.holds(day.replace(hour=7, minute=57, second=59))
    assert window.holds(day.replace(hour=7, minute=58))
    assert window.holds(day.replace(hour=8))
    assert window.holds(day.replace(hour=8, minute=59, second=59))
    assert not window.holds(day.replace(hour=9))
    # The same instant seen from UTC: 08:30 in Berlin is 07:30 UTC in winter.
    assert window.holds(datetime(2026, 12, 1, 7, 30, tzinfo=UTC))
    assert not window.holds(datetime(2026, 12, 1, 8, 30, tzinfo=UTC))


def test_a_window_may_cross_midnight() -> None:
    window = parse("23:30-01:15", "Europe/Berlin")
    assert window.hours == 1.75
    assert window.cron == "cron(28 23 * * ? *)"
    day = datetime(2026, 12, 1, tzinfo=BERLIN)
    assert window.holds(day.replace(hour=23, minute=45))
    assert window.holds(day.replace(hour=0, minute=5))
    assert window.holds(day.replace(hour=1, minute=14))
    assert not window.holds(day.replace(hour=1, minute=15))
    assert not window.holds(day.replace(hour=12))
    assert window.holds(day.replace(hour=23, minute=28))
    assert not window.holds(day.replace(hour=23, minute=27))
    # A window at midnight is woken the evening before.
    assert parse("00:01-01:00", "UTC").cron == "cron(59 23 * * ? *)"


def test_it_follows_daylight_saving_time_in_its_zone() -> None:
    window = parse("08:00-09:00", "Europe/Berlin")
    # Summer time began on 2026-03-29: 08:30 in Berlin is 07:30 UTC the day before, 06:30 on it.
    assert window.holds(datetime(2026, 3, 28, 7, 30, tzinfo=UTC))
    assert not window.holds(datetime(2026, 3, 29, 7, 30, tzinfo=UTC))
    assert window.holds(datetime(2026, 3, 29, 6, 30, tzinfo=UTC))
    # On the night the clocks go forward, 02:00-03:00 does not happen at all (only the lead,
    # 01:58-02:00, does) ...
    night = parse("02:00-03:00", "Europe/Berlin")
    start = datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    minutes = [start + timedelta(minutes=m) for m in range(0, 4 * 60)]
    assert sum(night.holds(at) for at in minutes) == WAKE_LEAD_MINUTES
    # ... and on the night they go back (2026-10-25) it happens twice: two hours held.
    back = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)
    minutes = [back + timedelta(minutes=m) for m in range(0, 5 * 60)]
    assert sum(night.holds(at) for at in minutes) == 120 + WAKE_LEAD_MINUTES
    # New York changes on another day (2026-03-08): the window is its own zone's.
    ny = parse("08:00-09:00", "America/New_York")
    assert ny.holds(datetime(2026, 3, 7, 13, 30, tzinfo=UTC))
    assert ny.holds(datetime(2026, 3, 9, 12, 30, tzinfo=UTC))
    assert not ny.holds(datetime(2026, 3, 9, 13, 30, tzinfo=UTC))


def test_the_stored_form_reads_back_and_a_broken_one_is_no_window() -> None:
    window = parse("07:05-07:35", "America/New_York")
    assert window.stored == "07:05-07:35@America/New_York"
    assert (
        parse_stored(window.stored)
        == window
        == WarmWindow(start=425, end=455, zone="America/New_York")
    )
    for broken in (None, "", "07:05-07:35", "07:05-07:35@Nowhere/Land", "x@UTC"):
        assert parse_stored(broken) is None


def test_the_monthly_cost_is_hours_awake_a_day_times_30_4_days() -> None:
    # The window and the 2 minutes of lead before it.
    assert parse("08:00-09:00", "UTC").awake_hours == 62 / 60
    assert parse("08:00-09:00", "UTC").monthly_usd(0.0131585) == 0.41
    assert parse("22:00-01:00", "UTC").monthly_usd(0.05) == round(182 / 60 * 30.4 * 0.05, 2)


@pytest.mark.parametrize(
    ("span", "zone", "says"),
    [
        ("8-9", "UTC", "HH:MM-HH:MM"),
        ("08:00", "UTC", "HH:MM-HH:MM"),
        ("08:00-08:00", "UTC", "must differ"),
        ("25:00-01:00", "UTC", "not a time of day"),
        ("08:60-09:00", "UTC", "not a time of day"),
        ("08:00-16:01", "UTC", "at most 8 hours"),
        ("20:00-04:30", "UTC", "at most 8 hours"),
        ("08:00-09:00", "Mars/Olympus", "not a time zone"),
        ("08:00-09:00", "../etc/passwd", "not a time zone"),
    ],
)
def test_bad_windows_are_refused_in_words(span: str, zone: str, says: str) -> None:
    with pytest.raises(WarmError, match=says):
        parse(span, zone)
