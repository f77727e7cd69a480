"""What `status` says of the local agent task: how it runs and at what size, or why unsized."""

from __future__ import annotations

from openclaw_deploy.local.service import LocalState
from openclaw_deploy.services.status import (
    GUARDED,
    ISOLATED,
    NOT_GUARDED,
    NOT_ISOLATED,
    local_task,
)


def _state(**changes: object) -> LocalState:
    fields: dict[str, object] = {
        "pid": 1,
        "moto_url": "http://127.0.0.1:1",
        "api_url": "http://127.0.0.1:2",
        "ws_url": "ws://127.0.0.1:2/ws",
        "web_url": None,
        "telegram_webhook_url": "http://127.0.0.1:2/telegram",
        "offline_model_url": None,
        "resources": {},
        "environment": {},
        "started_at": 0.0,
    }
    fields.update(changes)
    return LocalState(**fields)  # type: ignore[arg-type]


def test_a_sized_image_task_and_an_unsized_process_are_told_apart() -> None:
    sized = {"sized": True, "cpu": 1024, "memory": 2048, "reason": None}
    assert (
        local_task(_state(agent_runtime="image", agent_sizing=sized))
        == f"from the image built here ({ISOLATED}), at 1 vCPU / 2048 MB, as on Fargate"
    )
    unsized = {"sized": False, "cpu": 512, "memory": 2048, "reason": "cgroup v1 not writable"}
    assert (
        local_task(_state(agent_runtime="process", agent_sizing=unsized))
        == f"as a process ({NOT_ISOLATED}), unsized (cgroup v1 not writable)"
    )
    # A state written before sizing existed says so rather than claiming a size.
    assert (
        local_task(_state())
        == f"as a process ({NOT_ISOLATED}), unsized (this machine cannot limit it)"
    )


def test_an_image_task_says_whether_its_agent_is_kept_off_the_local_cloud() -> None:
    sized = {"sized": True, "cpu": 1024, "memory": 2048, "reason": None}
    guarded = {"guarded": True, "reason": "iptables refuses the agent's uid ports 1, 2"}
    assert local_task(
        _state(agent_runtime="image", agent_sizing=sized, agent_network=guarded)
    ).startswith(f"from the image built here ({ISOLATED}; {GUARDED}), at 1 vCPU")
    open_door = {"guarded": False, "reason": "iptables is not installed"}
    assert f"({ISOLATED}; {NOT_GUARDED}: iptables is not installed)" in local_task(
        _state(agent_runtime="image", agent_sizing=sized, agent_network=open_door)
    )
