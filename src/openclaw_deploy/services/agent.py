"""`start` / `stop`: wake the agent now, or put it to sleep now — through the same lifecycle
state machine (conditional writes) the handlers use, so a CLI start and a message at the same
moment still start one task."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from openclaw_deploy.aws.errors import translate_boto_errors
from openclaw_deploy.config import Deployment
from openclaw_deploy.context import AppContext
from openclaw_deploy.errors import DeployError, NotFoundError
from openclaw_deploy.output import Reporter
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.lifecycle import (
    AgentStartError,
    AgentStatus,
    Lifecycle,
    TaskConfig,
    ensure_agent_running,
    stop_agent,
)
from openclaw_deploy.services.target import connect

WAKE_TIMEOUT_SECONDS = 300.0
SLEEP_TIMEOUT_SECONDS = 180.0
"""The bridge has ECS's 120 s stop timeout to back up; then the row is Idle."""


@dataclass(frozen=True, kw_only=True)
class AgentChange:
    state: str
    changed: bool
    """False when the agent already was where it was asked to go."""
    seconds: float
    timings: dict[str, float]
    last_stop_reason: str | None


def task_config(app: AppContext, deployment: Deployment) -> TaskConfig:
    """Where RunTask starts the agent: exactly what the handlers use. Locally the local cloud's
    environment; on AWS the environment of the deployed `api` function (the stack names the
    cluster and family, but only the functions carry the subnets and the security group)."""
    if deployment.target == "local":
        from openclaw_deploy.local import service
        from openclaw_deploy.services.local import paths_for

        state = service.read_state(paths_for(app, deployment.name))
        if state is None:
            raise NotFoundError(
                f"The local deployment {deployment.name!r} is not running.",
                hint="openclaw-deploy init --target local",
            )
        return TaskConfig.from_env(state.environment)
    from botocore.exceptions import ClientError

    from openclaw_deploy.infra import spec

    function = spec.function_name(deployment.name, "api")
    with translate_boto_errors(f"read the settings of {function}"):
        try:
            answer = app.client("lambda", deployment.region).get_function_configuration(
                FunctionName=function
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            raise NotFoundError(
                f"{deployment.name!r} is not deployed (no function {function}).",
                hint=f"openclaw-deploy deploy --name {deployment.name}",
            ) from None
    environment = (answer.get("Environment") or {}).get("Variables") or {}
    try:
        return TaskConfig.from_env(environment)
    except RuntimeError as error:
        raise DeployError(
            f"The deployed functions lack the agent's task settings ({error}).",
            hint=f"openclaw-deploy deploy --name {deployment.name}",
        ) from None


def _lifecycle(app: AppContext, deployment: Deployment) -> Lifecycle:
    connect(app, deployment)
    table = resources.TASK_STATE.physical_name(deployment.name)
    return Lifecycle(app.client("dynamodb", deployment.region), table)


def _wait(
    lifecycle: Lifecycle,
    done: Callable[[AgentStatus], bool],
    reporter: Reporter,
    timeout: float,
    sleep: Callable[[float], None],
) -> AgentStatus:
    deadline = time.monotonic() + timeout
    seen: tuple[str, str | None] | None = None
    while True:
        status = lifecycle.get()
        if (status.state, status.phase) != seen:
            seen = (status.state, status.phase)
            reporter.step(f"{status.state}" + (f" ({status.phase})" if status.phase else ""))
        if done(status):
            return status
        if time.monotonic() > deadline:
            raise DeployError(
                f"The agent is still {status.state} after {timeout:.0f}s.",
                hint="openclaw-deploy logs --component agent --since 10m",
            )
        sleep(1.0)


def wake(app: AppContext, deployment: Deployment, reporter: Reporter) -> AgentChange:
    lifecycle = _lifecycle(app, deployment)
    config = task_config(app, deployment)
    started = time.monotonic()
    with translate_boto_errors("start the agent"):
        before = lifecycle.get()
        if before.state == "Running":
            return AgentChange(
                state="Running",
                changed=False,
                seconds=0.0,
                timings=dict(before.timings),
                last_stop_reason=before.last_stop_reason,
            )
        try:
            # The owner's own start: tried even after repeated failed starts (it clears them).
            ensure_agent_running(
                lifecycle, app.client("ecs", deployment.region), config, force=True
            )
        except AgentStartError as problem:
            raise DeployError(
                f"The agent task could not start: {problem}",
                hint="openclaw-deploy logs --component agent --since 10m",
            ) from None
        with reporter.task("Waking the agent"):
            status = _wait(
                lifecycle,
                lambda s: s.state in ("Running", "Idle") and s.since >= before.since,
                reporter,
                WAKE_TIMEOUT_SECONDS,
                app.sleep,
            )
    if status.state != "Running":
        raise DeployError(
            f"The agent stopped while starting: {status.last_stop_reason or 'no reason given'}.",
            hint="openclaw-deploy logs --previous",
        )
    return AgentChange(
        state="Running",
        changed=True,
        seconds=time.monotonic() - started,
        timings=dict(status.timings),
        last_stop_reason=None,
    )


def clear_start_failures(app: AppContext, deployment: Deployment) -> None:
    """Let messages wake the agent again after repeated failed starts (a deploy calls this once
    it succeeded: whatever failed may be fixed now)."""
    lifecycle = _lifecycle(app, deployment)
    with translate_boto_errors("reset the agent's failed starts"):
        lifecycle.clear_failures()


def sleep_now(app: AppContext, deployment: Deployment, reporter: Reporter) -> AgentChange:
    lifecycle = _lifecycle(app, deployment)
    config = task_config(app, deployment)
    started = time.monotonic()
    with translate_boto_errors("stop the agent"):
        if not stop_agent(
            lifecycle,
            app.client("ecs", deployment.region),
            config.cluster,
            "stopped by the owner (openclaw-deploy stop)",
        ):
            status = lifecycle.get()
            return AgentChange(
                state=status.state,
                changed=False,
                seconds=0.0,
                timings=dict(status.timings),
                last_stop_reason=status.last_stop_reason,
            )
        with reporter.task("Putting the agent to sleep (it backs up its memory first)"):
            status = _wait(
                lifecycle, lambda s: s.state == "Idle", reporter, SLEEP_TIMEOUT_SECONDS, app.sleep
            )
    return AgentChange(
        state=status.state,
        changed=True,
        seconds=time.monotonic() - started,
        timings=dict(status.timings),
        last_stop_reason=status.last_stop_reason,
    )
