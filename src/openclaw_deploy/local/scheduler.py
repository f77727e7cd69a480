"""EventBridge Scheduler for the local target: moto keeps schedules but never fires them.

Every few seconds (`TICK_SECONDS`) the local cloud reads the deployment's schedule group from
moto, as Scheduler would, and fires each enabled schedule whose time has come: the firing's
input gets its context attributes filled in (`<aws.scheduler.scheduled-time>`), the scheduler's
role must allow `lambda:InvokeFunction` on the target (checked against the synthesized template,
as everything else in the local cloud), and the *same* target handler runs with that input under
its function's role. A one-time schedule made with `ActionAfterCompletion: DELETE` is deleted
after it fired. A firing that fails is retried at the next ticks, `schedules.RETRY_ATTEMPTS`
times, then dropped with a log line (the local cloud has no dead-letter queue for it).

The clock is injected, so tests move time instead of waiting for it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from openclaw_deploy.runtime import schedule_expr, schedules

log = logging.getLogger("openclaw_deploy.local.scheduler")

TICK_SECONDS: Final = 5.0
CATCH_UP: Final = timedelta(minutes=10)
"""A firing missed by more than this (the local cloud was stopped) is skipped, not made up."""


class InvokeRefusedError(Exception):
    """The scheduler's role may not invoke the target (what AWS would refuse)."""


Invoke = Callable[[str, dict[str, Any]], Any]
"""(target ARN, input) → the handler's answer; raises when the invocation fails."""


@dataclass
class LocalScheduler:
    scheduler: Any
    """A Scheduler client on moto (the service's own view: unrestricted)."""
    group: str
    invoke: Invoke
    clock: Callable[[], float] = time.time
    _seen: dict[str, datetime] = field(default_factory=dict)
    """Schedule name → the last scheduled time fired (or the time it was first seen)."""
    _failures: dict[tuple[str, datetime], int] = field(default_factory=dict)

    def tick(self) -> list[tuple[str, datetime]]:
        """Fire every due schedule once; return (name, scheduled time) of what fired."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        fired: list[tuple[str, datetime]] = []
        for name in self._names():
            try:
                detail = self.scheduler.get_schedule(Name=name, GroupName=self.group)
            except self.scheduler.exceptions.ResourceNotFoundException:
                continue
            fired += self._fire_due(detail, now)
        return fired

    def _names(self) -> list[str]:
        names: list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"GroupName": self.group, "MaxResults": 100}
            if token:
                kwargs["NextToken"] = token
            try:
                page = self.scheduler.list_schedules(**kwargs)
            except self.scheduler.exceptions.ResourceNotFoundException:
                return []
            names += [s["Name"] for s in page.get("Schedules", []) if s.get("State") != "DISABLED"]
            token = page.get("NextToken")
            if not token:
                return names

    def _fire_due(self, detail: dict[str, Any], now: datetime) -> list[tuple[str, datetime]]:
        name = str(detail["Name"])
        if detail.get("State") == "DISABLED":
            return []
        expression = str(detail["ScheduleExpression"])
        zone = str(detail.get("ScheduleExpressionTimezone") or "UTC")
        created = detail.get("CreationDate")
        created = created if isinstance(created, datetime) else now
        since = self._seen.get(name)
        if since is None:
            # A one-time schedule fires when its time has come (`run` makes one due now);
            # a recurring one counts from its creation, and a restarted local cloud does not
            # make up what it missed while it was stopped.
            if expression.startswith("at("):
                since = now - CATCH_UP
            else:
                since = max(
                    created - timedelta(seconds=1), now - timedelta(seconds=TICK_SECONDS * 2)
                )
        try:
            due = [
                when
                for when in schedule_expr.next_runs(expression, zone, since, limit=5, start=created)
                if when <= now
            ]
        except schedule_expr.ExpressionError as error:
            log.warning("schedule %s has an expression Scheduler would refuse: %s", name, error)
            return []
        fired: list[tuple[str, datetime]] = []
        for when in due:
            if not self._fire(name, detail, when):
                return fired  # retried at the next tick
            self._seen[name] = when
            fired.append((name, when))
        if not due:
            self._seen.setdefault(name, since)
        if (
            fired
            and expression.startswith("at(")
            and detail.get("ActionAfterCompletion") == ("DELETE")
        ):
            with contextlib.suppress(self.scheduler.exceptions.ResourceNotFoundException):
                self.scheduler.delete_schedule(Name=name, GroupName=self.group)
            self._seen.pop(name, None)
        return fired

    def _fire(self, name: str, detail: dict[str, Any], when: datetime) -> bool:
        target = detail.get("Target", {})
        stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = str(target.get("Input", "{}")).replace(schedules.SCHEDULED_TIME, stamp)
        try:
            payload = json.loads(text)
        except ValueError:
            log.warning("schedule %s: its input is not JSON; Lambda would refuse it", name)
            return True
        try:
            answer = self.invoke(str(target.get("Arn", "")), payload)
        except InvokeRefusedError as error:
            log.warning("schedule %s: the scheduler's role may not invoke it: %s", name, error)
            return True  # AWS would not retry an access denial into success
        except Exception as error:  # noqa: BLE001 - any failure of the target is retried
            key = (name, when)
            self._failures[key] = self._failures.get(key, 0) + 1
            if self._failures[key] <= schedules.RETRY_ATTEMPTS:
                log.warning("schedule %s (%s) failed, will retry: %s", name, stamp, error)
                return False
            log.error("schedule %s (%s) failed %d times, dropped", name, stamp, self._failures[key])
            return True
        log.info("schedule %s fired for %s: %s", name, stamp, answer)
        return True

    def run(self, stop: Any, *, interval: float = TICK_SECONDS) -> None:
        """Tick until `stop` (a threading.Event) is set."""
        while not stop.wait(interval):
            try:
                self.tick()
            except Exception:
                log.exception("the local scheduler failed this round")


def serve(
    stop: Any,
    *,
    moto_url: str,
    region: str,
    account: str,
    deployment: str,
    handler: Callable[[dict[str, Any], Any], Any],
    refusal: Callable[[str], str | None],
) -> threading.Thread:
    """Create the deployment's schedule group (the stack does on AWS) and fire its schedules
    from a thread until `stop` is set. `handler` is the schedule function's handler, run under
    its role; `refusal(arn)` says why the scheduler's role may not invoke `arn` (None: it may)."""
    import boto3

    from openclaw_deploy.local.apigw import LambdaContext

    session = boto3.Session(
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - the local cloud's own moto keys
    )
    client = session.client("scheduler", endpoint_url=moto_url)
    group = schedules.group_name(deployment)
    with contextlib.suppress(client.exceptions.ConflictException):
        client.create_schedule_group(Name=group)
    names = schedules.Names.of(deployment, account=account, region=region)

    def invoke(arn: str, payload: dict[str, Any]) -> Any:
        if arn != names.target_arn:
            raise InvokeRefusedError(f"{arn} is not this deployment's schedule function")
        why = refusal(arn)
        if why is not None:
            raise InvokeRefusedError(why)
        return handler(payload, LambdaContext(function_name=schedules.function_name(deployment)))

    local = LocalScheduler(scheduler=client, group=group, invoke=invoke)
    thread = threading.Thread(target=local.run, args=(stop,), name="scheduler", daemon=True)
    thread.start()
    log.info("local Scheduler: firing the schedules of group %s", group)
    return thread
