"""The recent wakes the lifecycle row keeps (start request -> Running), against the moto server:
what the web app's wake-up banner and `status` estimate the next wake from."""

from __future__ import annotations

from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.lifecycle import RECENT_WAKES, Lifecycle
from tests.handlers.conftest import DEPLOYMENT, Stack

ARN = "arn:aws:ecs:us-east-1:123456789012:task/openclaw-test/aaaa"


def test_each_wake_is_kept_from_the_start_request_to_running_the_last_few_only(
    stack: Stack,
) -> None:
    now = [1000.0]
    agent = Lifecycle(
        aws.dynamodb(), resources.TASK_STATE.physical_name(DEPLOYMENT), clock=lambda: now[0]
    )
    assert agent.get().recent_wakes == ()
    assert agent.get().usual_wake is None
    wakes = [40.0, 22.5, 31.0, 25.0, 28.0, 90.0, 27.0]
    for seconds in wakes:
        assert agent.try_begin_start()
        now[0] += seconds
        assert agent.mark_running(ARN, {"restore": 0.5, "openclaw": 11.0})
        now[0] += 600
        assert agent.begin_stop(ARN, "idle") and agent.mark_idle(ARN, "idle")
        now[0] += 3600
    status = agent.get()
    assert status.recent_wakes == tuple(wakes[-RECENT_WAKES:])
    assert status.usual_wake == 28.0  # the median: one slow wake does not set the estimate
    assert status.timings == {"restore": 0.5, "openclaw": 11.0}  # the bridge's own, as sent
    assert status.public()["recentWakes"] == wakes[-RECENT_WAKES:]
