"""End to end with the agent running from its image, at its real size (0.5 vCPU, 2 GB).

`init --target local --image` builds the image (cached by the session fixture), and the local
Fargate runs each task from a fresh root of it, in its cgroups. A web message wakes the agent and
the reply streams back from the real OpenClaw inside the image; while the task runs, its
processes are the image's two users (the bridge's and the agent's), in the image's root, under
the task definition's limits.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from openclaw_deploy.local.cgroup import MIB, CgroupHost
from openclaw_deploy.local.image import AgentImage, storage_home
from tests.e2e.local import start, stop
from tests.e2e.test_local_target import _chat
from tests.local.image import agent_image

__all__ = ["agent_image"]
pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(1800)]


def _uid(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


def test_a_web_message_is_answered_by_the_agent_running_from_its_image(
    agent_image: AgentImage, tmp_path: Path
) -> None:
    local = start(tmp_path, "--image")
    state = local.state()
    cluster = state["resources"]["cluster"]
    try:
        assert state["agent_runtime"] == "image"
        assert state["agent_image"] == agent_image.image_id
        assert state["agent_sizing"] == {"sized": True, "cpu": 512, "memory": 2048, "reason": ""}

        frames = asyncio.run(_chat(local, "web-image", "m-1", "hello from the image"))
        final = frames[-1]
        assert final["type"] == "chat.final", frames[-3:]
        assert "You said: hello from the image" in final["text"]
        assert len([f for f in frames if f["type"] == "chat.delta"]) > 1  # streamed

        # The task is still up (it sleeps after the idle timeout): look at it from outside.
        groups = CgroupHost().task_groups(f"{cluster}-")
        assert len(groups) == 1, groups
        group = groups[0]
        period = int((group.cpu / "cpu.cfs_period_us").read_text())
        assert group.cpu_quota_us == period // 2  # 0.5 vCPU
        assert group.memory_limit_bytes == 2048 * MIB
        pids = group.pids()
        commands = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in pids}
        assert any(b"/usr/bin/tini" in argv for argv in commands.values()), commands
        assert any(b"openclaw_bridge" in argv for argv in commands.values()), commands
        # tini and the bridge as `bridge`, OpenClaw (and whatever it runs) as `openclaw`.
        uids = {pid: _uid(pid) for pid in pids}
        for pid, argv in commands.items():
            if b"/usr/bin/tini" in argv or any(b"openclaw_bridge" in arg for arg in argv):
                assert uids[pid] == 10002, argv
        assert set(uids.values()) == {10001, 10002}
        image_storage = str(storage_home() / "storage")
        roots = {str(Path(f"/proc/{pid}/root").readlink()) for pid in pids}
        assert len(roots) == 1
        assert roots.pop().startswith(image_storage)  # a fresh root of the image
    finally:
        stop(local)
    assert CgroupHost().task_groups(f"{cluster}-") == []  # nothing outlives the task
