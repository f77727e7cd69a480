"""Starts that fail, against the moto server: the streak of identical failures that stops
messages from waking the agent (and what each channel says then), Spot falling back to
on-demand on any Spot failure, and ListTasks called only with filters ECS accepts."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openclaw_deploy.handlers import api, telegram_webhook, ws
from openclaw_deploy.handlers.watchdog import Limits, Watchdog
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.lifecycle import (
    BLOCK_AFTER_FAILURES,
    FAILURE_HOLD_SECONDS,
    IDLE,
    ON_DEMAND,
    SPOT,
    STARTING,
    AgentStartBlockedError,
    AgentStartError,
    Lifecycle,
    TaskConfig,
    ensure_agent_running,
    run_agent_task,
)
from openclaw_deploy.runtime.pairing import Pairing
from tests.handlers.conftest import DEPLOYMENT, WEBHOOK_SECRET, Stack
from tests.handlers.ecs_rules import list_tasks_problem
from tests.handlers.events import body, http_event, telegram_event, ws_event

REPO = Path(__file__).resolve().parents[2]
USER = 4242
QUEUE_DENIED = (
    "the agent could not read its queue: AccessDenied on sqs:GetQueueUrl: User: "
    "arn:aws:sts::123456789012:assumed-role/task/{n} is not authorized"
)


class Clock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def lifecycle(clock: Any = None) -> Lifecycle:
    table = resources.TASK_STATE.physical_name(DEPLOYMENT)
    if clock is None:
        return Lifecycle(aws.dynamodb(), table)
    return Lifecycle(aws.dynamodb(), table, clock=clock)


def fail(agent: Lifecycle, reason: str) -> None:
    assert agent.try_begin_start()
    assert agent.fail_start(reason)


def fail_alike(times: int, agent: Lifecycle | None = None) -> None:
    """`times` failed starts with the same reason (ids in it differ, as in real refusals)."""
    agent = agent or lifecycle()
    for n in range(times):
        fail(agent, QUEUE_DENIED.format(n=1000 + n))


# -- the streak ------------------------------------------------------------------------------


def test_identical_failures_block_and_a_different_one_starts_a_new_streak(stack: Stack) -> None:
    clock = Clock()
    agent = lifecycle(clock)
    fail_alike(BLOCK_AFTER_FAILURES - 1, agent)
    status = agent.get()
    assert status.failure_streak == BLOCK_AFTER_FAILURES - 1
    assert not status.start_blocked(clock.now)

    fail(agent, "the agent could not restore its memory: NoSuchBucket on s3:GetObject")
    status = agent.get()
    assert (status.failure_streak, status.failed_starts) == (1, BLOCK_AFTER_FAILURES)
    assert not status.start_blocked(clock.now)

    fail_alike(BLOCK_AFTER_FAILURES, agent)
    status = agent.get()
    assert status.failure_streak == BLOCK_AFTER_FAILURES
    assert status.start_blocked(clock.now)
    assert status.failure_reason is not None
    assert status.failure_reason.startswith("the agent could not read its queue")


def test_a_start_that_reaches_running_ends_the_streak(stack: Stack) -> None:
    agent = lifecycle()
    fail_alike(BLOCK_AFTER_FAILURES - 1, agent)
    arn = "arn:aws:ecs:us-east-1:123456789012:task/openclaw-test/ok"
    assert agent.try_begin_start() and agent.set_task(arn) and agent.mark_running(arn, {})
    assert agent.mark_idle(arn, "idle timeout")
    fail_alike(1, agent)
    assert agent.get().failure_streak == 1


def test_a_blocked_agent_is_not_started_until_the_hold_ends_then_tries_once(stack: Stack) -> None:
    clock = Clock()
    agent = lifecycle(clock)
    fail_alike(BLOCK_AFTER_FAILURES, agent)
    with pytest.raises(AgentStartBlockedError) as blocked:
        ensure_agent_running(agent, aws.ecs())
    assert stack.run_task_calls == []
    assert "AccessDenied on sqs:GetQueueUrl" in str(blocked.value)
    assert "openclaw-deploy logs --component agent" in str(blocked.value)

    clock.now += FAILURE_HOLD_SECONDS + 1
    assert ensure_agent_running(agent, aws.ecs()).state == STARTING
    assert len(stack.run_task_calls) == 1
    # It fails the same way again: blocked again at once, not after three more tasks.
    assert agent.fail_start(QUEUE_DENIED.format(n=77))
    assert agent.get().failure_streak == BLOCK_AFTER_FAILURES + 1
    with pytest.raises(AgentStartBlockedError):
        ensure_agent_running(agent, aws.ecs())
    assert len(stack.run_task_calls) == 1


# -- what each way in does while blocked -----------------------------------------------------


def test_telegram_is_told_at_once_and_the_message_kept(stack: Stack) -> None:
    pairing = Pairing(aws.dynamodb(), resources.PAIRING.physical_name(DEPLOYMENT))
    assert pairing.redeem(pairing.create_code().code, USER, "Ada", USER)
    fail_alike(BLOCK_AFTER_FAILURES)

    answer = telegram_webhook.handler(
        telegram_event(stack.telegram.text_update("hello?"), WEBHOOK_SECRET)
    )
    assert answer["statusCode"] == 200
    assert stack.telegram.apply_webhook_reply(body(answer))["ok"]
    [text] = stack.telegram.sent_texts(USER)
    assert text.startswith("⚠️ Your agent cannot start: the agent could not read its queue")
    assert "openclaw-deploy logs --component agent" in text
    assert "openclaw-deploy start" in text
    assert stack.run_task_calls == []
    assert [m.text for m in stack.drain()] == ["hello?"]

    status_answer = telegram_webhook.handler(
        telegram_event(stack.telegram.text_update("/status"), WEBHOOK_SECRET)
    )
    assert stack.telegram.apply_webhook_reply(body(status_answer))["ok"]
    assert "it cannot start" in stack.telegram.sent_texts(USER)[-1]


def test_the_web_is_told_at_once_and_the_message_kept(stack: Stack) -> None:
    fail_alike(BLOCK_AFTER_FAILURES)
    frame = {"type": "chat.send", "id": "m1", "session": "web-1", "text": "hello?"}
    assert ws.handler(ws_event("$default", "c1", body=frame))["statusCode"] == 200
    kinds = [(f["type"], f.get("code")) for f in stack.frames["c1"]]
    assert kinds == [("ack", None), ("agent.status", None), ("error", "agent_failed")]
    error = stack.frames["c1"][-1]
    assert error["id"] == "m1"
    assert "Your agent cannot start" in error["message"]
    assert "openclaw-deploy status" in error["message"]
    assert stack.run_task_calls == []
    assert [m.message_id for m in stack.drain()] == ["m1"]


def test_the_watchdog_does_not_wake_a_blocked_agent_for_waiting_mail(stack: Stack) -> None:
    fail_alike(BLOCK_AFTER_FAILURES)
    frame = {"type": "chat.send", "id": "m1", "session": "web-1", "text": "hello?"}
    ws.handler(ws_event("$default", "c1", body=frame))
    # The older, reason-blind limit (failed_starts) would also hold here; the streak must hold
    # on its own when that limit is higher.
    dog = Watchdog(
        lifecycle(),
        aws.ecs(),
        TaskConfig.from_env(),
        sqs_client=aws.sqs(),
        queue_url=stack.queue_url,
        limits=Limits(max_failed_starts=100),
    )
    assert dog.run().actions == [
        f"not waking the agent: {BLOCK_AFTER_FAILURES} identical failed starts"
    ]
    assert stack.run_task_calls == []
    assert stack.queue_depth() == 1


def test_the_owners_start_clears_the_block_and_starts(stack: Stack) -> None:
    fail_alike(BLOCK_AFTER_FAILURES)
    answer = api.handler(http_event("POST", "/api/agent/start"))
    assert answer["statusCode"] == 202, answer
    assert len(stack.run_task_calls) == 1
    status = lifecycle().get()
    assert (status.state, status.failure_streak) == (STARTING, 0)


def test_a_wake_on_typing_respects_the_block(stack: Stack) -> None:
    """The web chat wakes the agent when the owner begins typing: that must not clear a block
    as the owner's Start does, or every open tab would start a failing task again."""
    fail_alike(BLOCK_AFTER_FAILURES)
    answer = api.handler(http_event("POST", "/api/agent/start", query={"reason": "typing"}))
    assert answer["statusCode"] == 409, answer
    assert json.loads(answer["body"])["error"]["code"] == "start_blocked"
    assert stack.run_task_calls == []
    assert lifecycle().get().failure_streak == BLOCK_AFTER_FAILURES
    # Not blocked: typing wakes it like any start.
    lifecycle().clear_failures()
    answer = api.handler(http_event("POST", "/api/agent/start", query={"reason": "typing"}))
    assert answer["statusCode"] == 202, answer
    assert len(stack.run_task_calls) == 1


# -- Spot, then on-demand --------------------------------------------------------------------


class SpotFails:
    """The moto ECS client, except that every Fargate Spot RunTask fails the given way."""

    def __init__(self, real: Any, how: str) -> None:
        self._real = real
        self._how = how
        self.attempts: list[str] = []

    def run_task(self, **params: Any) -> Any:
        spot = "capacityProviderStrategy" in params
        self.attempts.append(SPOT if spot else ON_DEMAND)
        if not spot:
            return self._real.run_task(**params)
        if self._how == "exception":
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "not allowed on Spot"}},
                "RunTask",
            )
        return {"tasks": [], "failures": [{"arn": "x", "reason": self._how}]}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class BothFail(SpotFails):
    def run_task(self, **params: Any) -> Any:
        if "capacityProviderStrategy" in params:
            return super().run_task(**params)
        self.attempts.append(ON_DEMAND)
        return {"tasks": [], "failures": [{"arn": "x", "reason": "RESOURCE:ENI"}]}


@pytest.mark.parametrize("how", ["exception", "RESOURCE:MEMORY", "AGENT", "Quota exceeded"])
def test_any_spot_failure_falls_back_to_on_demand(stack: Stack, how: str) -> None:
    ecs = SpotFails(aws.ecs(), how)
    arn, capacity = run_agent_task(ecs, TaskConfig.from_env())  # type: ignore[arg-type]
    assert (ecs.attempts, capacity) == ([SPOT, ON_DEMAND], ON_DEMAND)
    [task] = stack.tasks()
    assert (task["taskArn"], task["launchType"]) == (arn, "FARGATE")


def test_on_demand_failing_after_spot_is_a_failed_start_with_both_reasons(stack: Stack) -> None:
    ecs = BothFail(aws.ecs(), "RESOURCE:MEMORY")
    with pytest.raises(AgentStartError) as failed:
        ensure_agent_running(lifecycle(), ecs)  # type: ignore[arg-type]
    assert "RESOURCE:ENI" in str(failed.value)
    assert "Fargate Spot: RESOURCE:MEMORY" in str(failed.value)
    status = lifecycle().get()
    assert (status.state, status.failed_starts) == (IDLE, 1)
    assert "RESOURCE:ENI" in (status.failure_reason or "")


# -- ListTasks filters -----------------------------------------------------------------------


def test_the_list_tasks_rules_refuse_what_ecs_refuses() -> None:
    assert list_tasks_problem({"cluster": "c", "startedBy": "x"}) is None
    assert list_tasks_problem({"cluster": "c", "desiredStatus": "RUNNING"}) is None
    assert list_tasks_problem({"cluster": "c", "family": "f", "desiredStatus": "STOPPED"}) is None
    assert list_tasks_problem({"cluster": "c", "startedBy": "x", "desiredStatus": "RUNNING"})
    assert list_tasks_problem({"cluster": "c", "startedBy": "x", "family": "f"})
    assert list_tasks_problem({"cluster": "c", "family": "f", "serviceName": "s"})
    assert list_tasks_problem({"family": "f", "containerInstance": "i"})


def _list_tasks_calls() -> list[tuple[str, int, list[str]]]:
    """Every ListTasks call in our code: `x.list_tasks(...)` and `get_paginator("list_tasks")`
    followed by `.paginate(...)`, with the keyword names each passes."""
    found: list[tuple[str, int, list[str]]] = []
    files = [*(REPO / "src").rglob("*.py"), *(REPO / "container").rglob("*.py")]
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        paginators: set[str] = set()
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)
                and node.value.func.attr == "get_paginator"
                and node.value.args
                and isinstance(node.value.args[0], ast.Constant)
                and node.value.args[0].value == "list_tasks"
            ):
                paginators.update(t.id for t in node.targets if isinstance(t, ast.Name))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            is_list = node.func.attr == "list_tasks"
            is_page = (
                node.func.attr == "paginate"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in paginators
            )
            if is_list or is_page:
                names = [k.arg for k in node.keywords if k.arg is not None]
                assert all(k.arg is not None for k in node.keywords), (
                    f"{path}:{node.lineno}: **kwargs hides the ListTasks filters from this check"
                )
                found.append((str(path.relative_to(REPO)), node.lineno, names))
    return found


def test_every_list_tasks_call_in_our_code_uses_filters_ecs_accepts() -> None:
    calls = _list_tasks_calls()
    assert any(path.endswith("handlers/watchdog.py") for path, _, _ in calls), calls
    problems = [
        f"{path}:{line}: {problem}"
        for path, line, names in calls
        if (problem := list_tasks_problem(names)) is not None
    ]
    assert problems == []
