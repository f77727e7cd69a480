"""Schedule phrases and EventBridge Scheduler expressions: what is understood, what is refused
(as the service refuses it), and when a schedule fires next in its time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from openclaw_deploy.runtime.schedule_expr import ExpressionError, check, next_runs, zone
from openclaw_deploy.runtime.schedule_phrases import PhraseError, parse

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 12, 0)  # a Monday, wall clock


@pytest.mark.parametrize(
    ("phrase", "expression"),
    [
        ("every weekday at 08:00", "cron(0 8 ? * MON-FRI *)"),
        ("Every Weekday at 8am", "cron(0 8 ? * MON-FRI *)"),
        ("every day at 07:30", "cron(30 7 * * ? *)"),
        ("daily at 6:15pm", "cron(15 18 * * ? *)"),
        ("every day at 08:00 and 18:00", "cron(0 8,18 * * ? *)"),
        ("every weekend at noon", "cron(0 12 ? * SAT,SUN *)"),
        ("every monday at 09:00", "cron(0 9 ? * MON *)"),
        ("every mon, wed and fri at 7pm", "cron(0 19 ? * MON,WED,FRI *)"),
        ("mondays at 9am", "cron(0 9 ? * MON *)"),
        ("every month on the 1st at 09:00", "cron(0 9 1 * ? *)"),
        ("monthly on the 15th at midnight", "cron(0 0 15 * ? *)"),
        ("on the last day of every month at 18:00", "cron(0 18 L * ? *)"),
        ("every 30 minutes", "rate(30 minutes)"),
        ("every 1 hour", "rate(1 hour)"),
        ("every hour", "rate(1 hour)"),
        ("hourly", "rate(1 hour)"),
        ("every 3 days", "rate(3 days)"),
        ("tomorrow at 09:00", "at(2026-12-01T09:00:00)"),
        ("today at 18:30", "at(2026-11-30T18:30:00)"),
        ("in 2 hours", "at(2026-11-30T14:00:00)"),
        ("in 45 minutes", "at(2026-11-30T12:45:00)"),
        ("on 2026-12-24 at 18:00", "at(2026-12-24T18:00:00)"),
        ("cron(0 8 ? * MON-FRI *)", "cron(0 8 ? * MON-FRI *)"),
        ("rate(5 minutes)", "rate(5 minutes)"),
    ],
)
def test_understood_phrases(phrase: str, expression: str) -> None:
    assert parse(phrase, now=NOW).expression == expression


@pytest.mark.parametrize(
    "phrase",
    [
        "whenever you like",
        "every day at 25:00",
        "every day at 13pm",
        "every funday at 09:00",
        "every day at 08:00 and 18:30",
        "every month on the 32nd at 09:00",
        "every 0 minutes",
        "on 2026-02-30 at 09:00",
    ],
)
def test_phrases_refused_with_a_reason(phrase: str) -> None:
    with pytest.raises(PhraseError):
        parse(phrase, now=NOW)


def test_an_unknown_phrase_lists_what_is_understood() -> None:
    with pytest.raises(PhraseError, match="every weekday at 08:00"):
        parse("at some point", now=NOW)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("cron(0 8 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 8 ? * MON-FRI)", "six fields"),
        ("cron(60 8 ? * MON *)", "range 0-59"),
        ("cron(0 8 ? * 8 *)", "range 1-7"),
        ("cron(0 8 ? * MON#6 *)", "1-5"),
        ("cron(0 8 ? FOO * *)", "not a valid value"),
        ("rate(1 minutes)", "rate\\(1 minute\\)"),
        ("rate(5 minute)", "rate\\(5 minutes\\)"),
        ("rate(0 hours)", "at least 1"),
        ("rate(5 weeks)", "minutes, hours or days"),
        ("at(2026-13-01T00:00:00)", "not a calendar date"),
        ("at(2026-12-01 08:00)", "at\\(yyyy"),
        ("every(5)", "at\\(...\\), rate\\(...\\) or cron"),
    ],
)
def test_expressions_eventbridge_refuses(expression: str, reason: str) -> None:
    with pytest.raises(ExpressionError, match=reason):
        check(expression)


@pytest.mark.parametrize(
    "expression",
    ["cron(0 8 L * ? *)", "cron(0 8 15W * ? *)", "cron(0 8 ? * 6L *)", "cron(0/15 * ? * 2#1 2027)"],
)
def test_special_cron_characters_are_accepted(expression: str) -> None:
    assert check(expression) == "cron"


def test_next_weekday_run_in_the_owners_time_zone() -> None:
    friday_evening = datetime(2026, 12, 4, 20, 0, tzinfo=BERLIN)
    (run,) = next_runs("cron(0 8 ? * MON-FRI *)", "Europe/Berlin", friday_evening)
    assert run == datetime(2026, 12, 7, 8, 0, tzinfo=BERLIN)  # skips the weekend
    assert run.astimezone(UTC).hour == 7


def test_next_runs_follow_daylight_saving_time() -> None:
    before = datetime(2026, 3, 28, 7, 0, tzinfo=BERLIN)  # DST starts on the 29th
    runs = list(next_runs("cron(0 8 * * ? *)", "Europe/Berlin", before, limit=2))
    assert [r.astimezone(UTC).hour for r in runs] == [7, 6]  # CET, then CEST


def test_special_days() -> None:
    start = datetime(2026, 2, 1, tzinfo=UTC)
    assert next(next_runs("cron(0 8 L * ? *)", "UTC", start)).day == 28
    assert next(next_runs("cron(0 8 ? * 2#1 *)", "UTC", start)).day == 2  # first Monday
    assert next(next_runs("cron(0 8 ? * 6L *)", "UTC", start)).day == 27  # last Friday
    # The 14th of March 2026 is a Saturday: the nearest weekday is Friday the 13th.
    march = datetime(2026, 3, 1, tzinfo=UTC)
    assert next(next_runs("cron(0 8 14W * ? *)", "UTC", march)).day == 13


def test_rate_counts_from_the_schedules_start() -> None:
    start = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    now = datetime(2026, 11, 30, 13, 10, tzinfo=UTC)
    run = next(next_runs("rate(30 minutes)", "UTC", now, start=start))
    assert run == datetime(2026, 11, 30, 13, 30, tzinfo=UTC)


def test_a_past_at_has_no_next_run() -> None:
    later = datetime(2026, 12, 2, tzinfo=UTC)
    assert list(next_runs("at(2026-12-01T09:00:00)", "UTC", later)) == []


@pytest.mark.parametrize("name", ["Mars/Olympus", "../etc/passwd", "", "Europe/Berln"])
def test_unknown_time_zones_are_refused(name: str) -> None:
    with pytest.raises(ExpressionError, match="IANA"):
        zone(name)
