"""The lifecycle state machine and RunTask, against the moto server."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from openclaw_deploy.handlers import telegram_webhook, ws
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.lifecycle import (
    IDLE,
    RUNNING,
    STARTING,
    STOPPING,
    AgentStartError,
    Lifecycle,
    TaskConfig,
    ensure_agent_running,
    stop_agent,
)
from openclaw_deploy.runtime.pairing import Pairing
from tests.handlers.conftest import DEPLOYMENT, WEBHOOK_SECRET, Stack
from tests.handlers.events import telegram_event, ws_event

ARN = "arn:aws:ecs:us-east-1:123456789012:task/openclaw-test/aaaa"
OTHER_ARN = "arn:aws:ecs:us-east-1:123456789012:task/openclaw-test/bbbb"
SPOT_SHORTAGE = (
    "Capacity is unavailable at this time. Please try again later or in a different "
    "availability zone"
)


def lifecycle(clock: Any = None) -> Lifecycle:
    table = resources.TASK_STATE.physical_name(DEPLOYMENT)
    return (
        Lifecycle(aws.dynamodb(), table)
        if clock is None
        else Lifecycle(aws.dynamodb(), table, clock=clock)
    )


def test_a_full_wake_and_sleep_follows_the_state_machine(stack: Stack) -> None:
    times = iter(float(t) for t in range(1000, 2000, 10))
    agent = lifecycle(lambda: next(times))
    assert agent.get().state == IDLE

    assert agent.try_begin_start()
    assert not agent.try_begin_start(), "a second start must lose while Starting"
    assert agent.set_task(ARN)
    assert agent.set_phase(ARN, "restoring")
    status = agent.get()
    assert (status.state, status.phase, status.task_arn) == (STARTING, "restoring", ARN)

    assert agent.mark_running(ARN, {"pull": 21.5, "restore": 3.25, "openclaw": 11.0})
    assert agent.heartbeat(ARN)
    status = agent.get()
    assert status.state == RUNNING
    assert status.phase == "ready"
    assert status.timings == {"pull": 21.5, "restore": 3.25, "openclaw": 11.0}
    assert status.heartbeat_at is not None and status.heartbeat_at > status.started_at  # type: ignore[operator]

    assert not agent.begin_stop(OTHER_ARN, "idle"), "another task cannot stop this one"
    assert agent.begin_stop(ARN, "idle for 15 minutes")
    assert agent.get().state == STOPPING
    assert agent.mark_idle(ARN, "idle for 15 minutes")
    status = agent.get()
    assert (status.state, status.task_arn, status.last_stop_reason) == (
        IDLE,
        None,
        "idle for 15 minutes",
    )
    assert not agent.heartbeat(ARN), "a task the row no longer owns learns it from its heartbeat"
    assert not agent.mark_idle(ARN, "again")


def test_a_phase_reported_before_the_arn_is_recorded_claims_the_row(stack: Stack) -> None:
    # The local Fargate can start the bridge before the handler's set_task lands.
    agent = lifecycle()
    assert agent.try_begin_start()
    assert agent.set_phase(ARN, "loading")
    assert agent.set_task(ARN), "the same task recorded afterwards is fine"
    assert not agent.set_task(OTHER_ARN)
    assert not agent.set_phase(OTHER_ARN, "loading")
    assert not agent.mark_running(OTHER_ARN, {})
    with pytest.raises(ValueError, match="phase must be one of"):
        agent.set_phase(ARN, "dreaming")


def test_fail_start_pinned_to_an_old_episode_leaves_a_new_start_alone(stack: Stack) -> None:
    now = [100.0]
    agent = lifecycle(lambda: now[0])
    assert agent.try_begin_start()
    old = agent.get()
    assert agent.fail_start("RunTask failed")
    now[0] = 200.0
    assert agent.try_begin_start()
    assert not agent.fail_start("stale repair", since=old.since)
    assert agent.get().state == STARTING
    assert agent.fail_start("RunTask failed again", since=200.0)
    status = agent.get()
    assert (status.state, status.failed_starts) == (IDLE, 2)
    assert agent.try_begin_start() and agent.mark_running(ARN, {})
    assert agent.get().failed_starts == 0, "a start that reached Running resets the count"


def test_ensure_agent_running_starts_one_spot_task_and_records_it(stack: Stack) -> None:
    status = ensure_agent_running(lifecycle(), aws.ecs())
    assert status.state == STARTING
    assert status.phase == "starting"
    tasks = stack.tasks()
    assert len(tasks) == 1
    assert status.task_arn == tasks[0]["taskArn"]
    assert tasks[0]["capacityProviderName"] == "FARGATE_SPOT"
    assert tasks[0]["startedBy"] == "openclaw-deploy"
    network = stack.run_task_calls[0]["networkConfiguration"]["awsvpcConfiguration"]
    assert network["assignPublicIp"] == "ENABLED"

    again = ensure_agent_running(lifecycle(), aws.ecs())
    assert again.task_arn == status.task_arn
    assert len(stack.run_task_calls) == 1, "an agent already starting is left alone"


def _spot_fails(reply: str) -> Any:
    """A botocore before-call hook: the Spot attempt gets ECS's capacity answer, the rest go on
    to moto (which never runs out of capacity)."""

    def hook(params: dict[str, Any], model: Any, **_: Any) -> Any:
        body = params.get("body") or b""
        if b"FARGATE_SPOT" not in (body if isinstance(body, bytes) else body.encode()):
            return None
        if reply == "failure":
            return AWSResponse("https://ecs", 200, {}, None), {
                "tasks": [],
                "failures": [
                    {
                        "arn": "arn:aws:ecs:us-east-1:123456789012:cluster/openclaw-test",
                        "reason": SPOT_SHORTAGE,
                    }
                ],
            }
        return AWSResponse("https://ecs", 400, {}, None), {
            "Error": {
                "Code": "InvalidParameterException",
                "Message": "The specified capacity provider strategy cannot contain a "
                "capacity provider that is not associated with the cluster.",
            },
        }

    return hook


@pytest.mark.parametrize("reply", ["failure", "error"])
def test_a_spot_capacity_problem_falls_back_to_on_demand(stack: Stack, reply: str) -> None:
    aws.ecs().meta.events.register("before-call.ecs.RunTask", _spot_fails(reply))
    status = ensure_agent_running(lifecycle(), aws.ecs())
    assert [
        call.get("capacityProviderStrategy", [{}])[0].get("capacityProvider")
        for call in stack.run_task_calls
    ] == ["FARGATE_SPOT", None]
    assert stack.run_task_calls[1]["launchType"] == "FARGATE"
    tasks = stack.tasks()
    assert len(tasks) == 1
    assert tasks[0]["launchType"] == "FARGATE"
    assert status.state == STARTING
    assert status.task_arn == tasks[0]["taskArn"]


def test_a_start_that_cannot_work_goes_back_to_idle_with_the_reason(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(resources.ENV_TASK_DEFINITION, "no-such-family")
    with pytest.raises(AgentStartError, match="could not start"):
        ensure_agent_running(lifecycle(), aws.ecs())
    status = lifecycle().get()
    assert status.state == IDLE
    assert status.failed_starts == 1
    assert status.last_stop_reason is not None
    assert "could not start" in status.last_stop_reason
    assert stack.tasks() == []


def test_missing_configuration_is_a_start_error_not_a_stuck_row(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(resources.ENV_CLUSTER)
    with pytest.raises(AgentStartError, match=resources.ENV_CLUSTER):
        ensure_agent_running(lifecycle(), aws.ecs())
    assert lifecycle().get().state == IDLE


def test_stop_agent_moves_to_stopping_and_stops_the_task(stack: Stack) -> None:
    status = ensure_agent_running(lifecycle(), aws.ecs())
    assert stop_agent(lifecycle(), aws.ecs(), stack.cluster, "stopped by the owner")
    after = lifecycle().get()
    assert (after.state, after.last_stop_reason) == (STOPPING, "stopped by the owner")
    task = stack.tasks()[0]
    assert task["taskArn"] == status.task_arn
    assert task["desiredStatus"] == "STOPPED"
    assert not stop_agent(lifecycle(), aws.ecs(), stack.cluster, "twice")


def test_task_config_reads_comma_lists() -> None:
    config = TaskConfig.from_env(
        {
            resources.ENV_CLUSTER: "c",
            resources.ENV_TASK_DEFINITION: "f",
            resources.ENV_SUBNETS: "subnet-a, subnet-b,",
            resources.ENV_SECURITY_GROUPS: "",
        }
    )
    assert config.subnets == ("subnet-a", "subnet-b")
    assert config.security_groups == ()


def _concurrently(count: int, work: Any) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        results[index] = work(index)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_web_messages_at_once_while_idle_start_exactly_one_task(
    stack: Stack, eager_switching: None
) -> None:
    def send(index: int) -> Any:
        frame = {"type": "chat.send", "id": f"m-{index}", "session": "s1", "text": f"hi {index}"}
        return ws.handler(ws_event("$default", f"conn-{index}", body=frame))

    results = _concurrently(20, send)
    assert [r["statusCode"] for r in results] == [200] * 20
    assert len(stack.run_task_calls) == 1
    assert len(stack.tasks()) == 1
    assert sorted(m.message_id for m in stack.drain()) == sorted(f"m-{i}" for i in range(20))
    for index in range(20):
        kinds = [frame["type"] for frame in stack.frames[f"conn-{index}"]]
        assert kinds[:2] == ["ack", "agent.status"], kinds
    status = lifecycle().get()
    assert status.state == STARTING
    assert status.task_arn == stack.tasks()[0]["taskArn"]


def test_twenty_telegram_messages_at_once_while_idle_start_exactly_one_task(
    stack: Stack, eager_switching: None
) -> None:
    Pairing(aws.dynamodb(), resources.PAIRING.physical_name(DEPLOYMENT)).redeem(
        Pairing(aws.dynamodb(), resources.PAIRING.physical_name(DEPLOYMENT)).create_code().code,
        4242,
        "Ada",
        4242,
    )
    updates = [stack.telegram.text_update(f"message {i}") for i in range(20)]
    results = _concurrently(
        20, lambda i: telegram_webhook.handler(telegram_event(updates[i], WEBHOOK_SECRET))
    )
    assert [r["statusCode"] for r in results] == [200] * 20
    assert len(stack.run_task_calls) == 1
    assert len(stack.drain()) == 20
