"""The warm window's schedule under the roles of the synthesized template, as the local target
(and AWS) authorizes them: the owner's `config set warm` (the user's own credentials) keeps it;
neither the web app's API role nor the agent's task role may create, replace or remove it, and
the API may read it (the Schedules page lists every schedule of the group)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from openclaw_deploy.runtime import schedules
from openclaw_deploy.runtime.warm import parse
from tests.conftest import ACCOUNT, REGION
from tests.iam.conftest import NAME, Enforced


def _names() -> schedules.Names:
    return schedules.Names.of(NAME, account=ACCOUNT, region=REGION)


def _definition() -> dict[str, Any]:
    names = _names()
    window = parse("08:00-09:00", "Europe/Berlin")
    firing = schedules.Firing(
        schedule=schedules.WARM_NAME, title="Warm window", text="x", to="web", owner="warm"
    )
    return {
        "Name": schedules.WARM_NAME,
        "GroupName": names.group,
        "ScheduleExpression": window.cron,
        "ScheduleExpressionTimezone": window.zone,
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": schedules.target(names, firing),
    }


@pytest.fixture
def owner_scheduler(enforced: Enforced) -> Any:
    scheduler = enforced.client("scheduler")
    scheduler.create_schedule_group(Name=_names().group)
    scheduler.create_schedule(**_definition())
    return scheduler


@pytest.mark.parametrize("component", ["api", "task"])
def test_no_role_but_the_owner_may_change_the_warm_schedule(
    enforced: Enforced, owner_scheduler: Any, component: str
) -> None:
    scheduler = enforced.client("scheduler", component)
    group = _names().group
    attempts = (
        ("scheduler:UpdateSchedule", lambda: scheduler.update_schedule(**_definition())),
        (
            "scheduler:DeleteSchedule",
            lambda: scheduler.delete_schedule(Name=schedules.WARM_NAME, GroupName=group),
        ),
    )
    for action, attempt in attempts:
        with pytest.raises(ClientError) as raised:
            attempt()
        assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
        assert action in raised.value.response["Error"]["Message"]
    kept = owner_scheduler.get_schedule(Name=schedules.WARM_NAME, GroupName=group)
    assert kept["ScheduleExpression"] == "cron(58 7 * * ? *)"


def test_the_api_reads_it_for_the_schedules_page(enforced: Enforced, owner_scheduler: Any) -> None:
    api = enforced.client("scheduler", "api")
    detail = api.get_schedule(Name=schedules.WARM_NAME, GroupName=_names().group)
    view = schedules.view(detail, None, now=detail["CreationDate"])
    assert (view.kind, view.timezone, view.next_run is not None) == ("warm", "Europe/Berlin", True)
