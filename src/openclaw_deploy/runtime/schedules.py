"""Schedules on EventBridge Scheduler: names, the payload a firing carries, and their runs.

One schedule group per deployment (`group_name`, created by the stack, so `destroy` removes
every schedule with it). Each schedule invokes the `schedule` function (`TARGET_KEY`) with a
`Firing` as its input, through the scheduler's role (`role_name`), which may invoke that function
only; undeliverable firings go to the schedules' dead-letter queue. Two kinds share the group:

* the owner's (`openclaw-deploy schedule add`, the web app): names start with `s-`;
* the agent's own wake-ups (the bridge leaves a one-time one before the task sleeps, ahead of
  OpenClaw's earliest pending cron job): names start with `agent-`;
* the owner's warm window (`config set warm`): one daily schedule named `warm` that only wakes
  the agent (neither the web app's role nor the agent's may touch it).

The last run of each schedule and its outcome are kept in the schedules table (pk = the name).
Stdlib only (the handlers and the bridge import it); the Scheduler client is injected.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from botocore.exceptions import ClientError

from openclaw_deploy.runtime import ddb, resources, schedule_expr
from openclaw_deploy.runtime.contract import MAX_TEXT_CHARS, ContractError, loads

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

VERSION: Final = 1
TARGET_KEY: Final = "schedule"
"""The function key of the target handler (`openclaw_deploy.handlers.schedule`)."""
OWNER_PREFIX: Final = "s-"
AGENT_PREFIX: Final = "agent-"
WARM_NAME: Final = "warm"
NAME_PATTERN: Final = re.compile(r"^(?:s|agent)-[a-z0-9-]{4,40}$")
"""The names of the owner's schedules and the agent's wake-ups (the web app's API checks ids with
it); a firing may also come from `WARM_NAME`."""
MAX_SCHEDULES: Final = 50
"""More owner schedules than anyone keeps by hand; a script gone wrong meets this limit."""
FLEXIBLE_WINDOW_MINUTES: Final = 0
"""Off: a reminder should come on the minute it was asked for."""
RETRY_ATTEMPTS: Final = 3
MAX_EVENT_AGE_SECONDS: Final = 3600
SCHEDULED_TIME: Final = "<aws.scheduler.scheduled-time>"
"""A context attribute Scheduler replaces in the input with the firing's time (ISO 8601)."""
ENV_GROUP: Final = "OPENCLAW_SCHEDULE_GROUP"
ENV_TARGET_ARN: Final = "OPENCLAW_SCHEDULE_TARGET_ARN"
ENV_ROLE_ARN: Final = "OPENCLAW_SCHEDULE_ROLE_ARN"
ENV_DLQ_ARN: Final = "OPENCLAW_SCHEDULE_DLQ_ARN"

Channel = Literal["telegram", "web"]
CHANNELS: Final[tuple[str, ...]] = ("telegram", "web")
Owner = Literal["owner", "agent", "warm"]


def group_name(deployment: str) -> str:
    return resources.resource_prefix(deployment)


def role_name(deployment: str) -> str:
    return f"{resources.resource_prefix(deployment)}-scheduler"


def function_name(deployment: str) -> str:
    return f"{resources.resource_prefix(deployment)}-{TARGET_KEY}"


def dead_letter_name(deployment: str) -> str:
    return f"{resources.resource_prefix(deployment)}-schedules-dlq"


@dataclass(frozen=True, kw_only=True)
class Names:
    """Everything a `CreateSchedule` call names, in one account and region."""

    group: str
    target_arn: str
    role_arn: str
    dead_letter_arn: str

    @classmethod
    def of(cls, deployment: str, *, account: str, region: str) -> Names:
        return cls(
            group=group_name(deployment),
            target_arn=f"arn:aws:lambda:{region}:{account}:function:{function_name(deployment)}",
            role_arn=f"arn:aws:iam::{account}:role/{role_name(deployment)}",
            dead_letter_arn=f"arn:aws:sqs:{region}:{account}:{dead_letter_name(deployment)}",
        )

    @classmethod
    def from_env(cls, environ: dict[str, str]) -> Names | None:
        try:
            return cls(
                group=environ[ENV_GROUP],
                target_arn=environ[ENV_TARGET_ARN],
                role_arn=environ[ENV_ROLE_ARN],
                dead_letter_arn=environ[ENV_DLQ_ARN],
            )
        except KeyError:
            return None

    def environment(self) -> dict[str, str]:
        return {
            ENV_GROUP: self.group,
            ENV_TARGET_ARN: self.target_arn,
            ENV_ROLE_ARN: self.role_arn,
            ENV_DLQ_ARN: self.dead_letter_arn,
        }


def new_name(prefix: str = OWNER_PREFIX) -> str:
    return prefix + secrets.token_hex(4)


@dataclass(frozen=True, kw_only=True)
class Firing:
    """The input of a schedule: what the target enqueues when it fires."""

    schedule: str
    title: str
    """What the owner called it (the web conversation's title)."""
    text: str
    to: str
    owner: str = "owner"
    chat_id: int | None = None
    """The agent's wake-ups: the Telegram chat the request came from (None: the owner's)."""
    session: str | None = None
    """The agent's wake-ups: the session whose cron job is due (None: the schedule's own)."""
    scheduled_time: str = SCHEDULED_TIME
    v: int = VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), ensure_ascii=False)

    @property
    def session_key(self) -> str:
        return self.session or f"sched-{self.schedule}"

    @classmethod
    def from_event(cls, event: Any) -> Firing:
        """The firing in a Lambda event (the schedule's input, parsed by Lambda) or its JSON."""
        data = loads(event) if isinstance(event, str | bytes) else event
        if not isinstance(data, dict) or data.get("v") != VERSION:
            raise ContractError("bad_request", f"a firing is an object with v={VERSION}")
        name = data.get("schedule")
        if not isinstance(name, str) or not (NAME_PATTERN.match(name) or name == WARM_NAME):
            raise ContractError("bad_request", "schedule must be a schedule name")
        text = data.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_CHARS:
            raise ContractError("bad_request", "text must be a non-empty string within the limit")
        to = data.get("to")
        if to not in CHANNELS:
            raise ContractError("bad_request", f"to must be one of {', '.join(CHANNELS)}")
        chat_id = data.get("chat_id")
        session = data.get("session")
        title = data.get("title")
        when = data.get("scheduled_time")
        return cls(
            schedule=name,
            title=title[:80] if isinstance(title, str) and title.strip() else name,
            text=text,
            to=to,
            owner=_owner(name, data.get("owner")),
            chat_id=chat_id if isinstance(chat_id, int) and not isinstance(chat_id, bool) else None,
            session=session if isinstance(session, str) and session else None,
            scheduled_time=when if isinstance(when, str) else SCHEDULED_TIME,
        )


def _owner(name: str, given: object) -> str:
    """Whose firing: the warm window's schedule is only ever the warm window (it never queues a
    prompt, whatever its input says), and no other schedule is."""
    if name == WARM_NAME:
        return "warm"
    return "agent" if given == "agent" else "owner"


def target(names: Names, firing: Firing) -> dict[str, Any]:
    """The `Target` of a schedule that fires `firing`."""
    return {
        "Arn": names.target_arn,
        "RoleArn": names.role_arn,
        "Input": firing.to_json(),
        "DeadLetterConfig": {"Arn": names.dead_letter_arn},
        "RetryPolicy": {
            "MaximumRetryAttempts": RETRY_ATTEMPTS,
            "MaximumEventAgeInSeconds": MAX_EVENT_AGE_SECONDS,
        },
    }


def create_once(
    scheduler: Any, names: Names, *, name: str, at: str, firing: Firing, description: str
) -> None:
    """A one-time schedule (`at(...)` in UTC) that deletes itself after it fired."""
    scheduler.create_schedule(
        Name=name,
        GroupName=names.group,
        ScheduleExpression=at,
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=target(names, firing),
        ActionAfterCompletion="DELETE",
        Description=description[:512],
        State="ENABLED",
    )


@dataclass(frozen=True, kw_only=True)
class Run:
    schedule: str
    at: float
    outcome: str
    """`queued` (the agent is awake or waking for it), `delivered`, or `failed`."""
    detail: str = ""
    runs: int = 0


class Runs:
    """The last run of each schedule, in the schedules table."""

    def __init__(
        self,
        dynamodb_client: DynamoDBClient,
        table_name: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = dynamodb_client
        self._table = table_name
        self._clock = clock

    def record(self, schedule: str, outcome: str, detail: str = "") -> None:
        self._db.update_item(
            TableName=self._table,
            Key={"pk": ddb.s(schedule)},
            UpdateExpression=(
                "SET last_at = :at, outcome = :outcome, detail = :detail ADD runs :one"
            ),
            ExpressionAttributeValues={
                ":at": ddb.n(self._clock()),
                ":outcome": ddb.s(outcome),
                ":detail": ddb.s(detail[:300]),
                ":one": ddb.n(1),
            },
        )

    def settle(self, schedule: str, outcome: str, detail: str = "") -> None:
        """Change the outcome of the last run (the bridge: the answer was delivered)."""
        try:
            self._db.update_item(
                TableName=self._table,
                Key={"pk": ddb.s(schedule)},
                UpdateExpression="SET outcome = :outcome, detail = :detail",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={
                    ":outcome": ddb.s(outcome),
                    ":detail": ddb.s(detail[:300]),
                },
            )
        except ClientError as error:
            if not ddb.is_condition_failure(error):
                raise

    def all(self) -> dict[str, Run]:
        found: dict[str, Run] = {}
        kwargs: dict[str, Any] = {"TableName": self._table}
        while True:
            page = self._db.scan(**kwargs)
            for item in page.get("Items", []):
                name = ddb.get_s(item, "pk") or ""
                found[name] = Run(
                    schedule=name,
                    at=float(ddb.get_n(item, "last_at") or 0),
                    outcome=ddb.get_s(item, "outcome") or "",
                    detail=ddb.get_s(item, "detail") or "",
                    runs=int(ddb.get_n(item, "runs") or 0),
                )
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@dataclass(frozen=True, kw_only=True)
class View:
    """One schedule as `schedule list` and the web app show it."""

    id: str
    kind: str
    """`owner` (made with `schedule add` or the web app), `agent` (the agent's own wake-up) or
    `warm` (the warm window's daily wake-up, `config set warm`)."""
    title: str
    prompt: str
    to: str
    expression: str
    timezone: str
    state: str
    """ENABLED or DISABLED (paused)."""
    next_run: str | None
    """ISO 8601 in the schedule's time zone; None when it will not fire again (or is paused)."""
    last_run: str | None = None
    outcome: str | None = None
    detail: str | None = None
    runs: int = 0

    def public(self) -> dict[str, Any]:
        """The web app's shape (camelCase)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "prompt": self.prompt,
            "to": self.to,
            "expression": self.expression,
            "timezone": self.timezone,
            "state": self.state,
            "nextRun": self.next_run,
            "lastRun": self.last_run,
            "outcome": self.outcome,
            "detail": self.detail,
            "runs": self.runs,
        }


def view(detail: dict[str, Any], run: Run | None, *, now: datetime) -> View:
    """A `GetSchedule` answer and its last run, with the next run computed in its time zone."""
    name = str(detail["Name"])
    try:
        firing = Firing.from_event(str(detail.get("Target", {}).get("Input", "")))
    except ValueError:
        firing = Firing(schedule=name, title=name, text="?", to="web")
    zone = str(detail.get("ScheduleExpressionTimezone") or "UTC")
    expression = str(detail.get("ScheduleExpression", ""))
    state = str(detail.get("State", "ENABLED"))
    next_run: str | None = None
    if state == "ENABLED":
        created = detail.get("CreationDate")
        start = created if isinstance(created, datetime) else None
        try:
            upcoming = list(schedule_expr.next_runs(expression, zone, now, start=start))
        except schedule_expr.ExpressionError:
            upcoming = []
        next_run = upcoming[0].isoformat() if upcoming else None
    last_run = None
    if run is not None and run.at:
        last_run = datetime.fromtimestamp(run.at, schedule_expr.zone(zone)).isoformat()
    return View(
        id=name,
        kind=_kind(name),
        title=firing.title,
        prompt=firing.text,
        to=firing.to,
        expression=expression,
        timezone=zone,
        state=state,
        next_run=next_run,
        last_run=last_run,
        outcome=run.outcome if run else None,
        detail=(run.detail or None) if run else None,
        runs=run.runs if run else 0,
    )


def _kind(name: str) -> str:
    if name == WARM_NAME:
        return "warm"
    return "agent" if name.startswith(AGENT_PREFIX) else "owner"


def list_details(scheduler: Any, group: str, *, skip: str | None = None) -> list[dict[str, Any]]:
    """`GetSchedule` of every schedule in `group` (names containing `skip` left out)."""
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"GroupName": group, "MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        page = scheduler.list_schedules(**kwargs)
        for summary in page.get("Schedules", []):
            if skip and skip in summary["Name"]:
                continue
            found.append(scheduler.get_schedule(Name=summary["Name"], GroupName=group))
        token = page.get("NextToken")
        if not token:
            return found
