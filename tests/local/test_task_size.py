"""The local Fargate runs a task at its task definition's size, and kills it over its memory.

Real parts: a moto server (ECS, EC2, SSM), the local Fargate, the kernel's cgroups. The task is a
small Python program standing in for the agent: it reports the limits it finds itself under, or
eats memory until something stops it.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from openclaw_deploy.local import provision
from openclaw_deploy.local.cgroup import OOM_REASON, CgroupHost
from openclaw_deploy.local.container import Launch
from openclaw_deploy.local.fargate import LocalFargate

DEPLOYMENT = "sizes"
REPORT_LIMITS = """
import time
groups = dict(line.split(":", 2)[1:] for line in open("/proc/self/cgroup").read().splitlines())
root = "/sys/fs/cgroup"
quota = open(f"{root}/cpu{groups['cpu']}/cpu.cfs_quota_us").read().strip()
period = open(f"{root}/cpu{groups['cpu']}/cpu.cfs_period_us").read().strip()
limit = open(f"{root}/memory{groups['memory']}/memory.limit_in_bytes").read().strip()
print(f"limits quota={quota} period={period} memory={limit}", flush=True)
time.sleep(60)
"""
EAT_MEMORY = """
import time
eaten = []
for step in range(4096):
    eaten.append(bytearray(b"x") * (8 << 20))  # written, so every page is really used
    print(f"ate {(step + 1) * 8} MiB", flush=True)
time.sleep(60)
"""


@pytest.fixture
def cgroups() -> CgroupHost:
    host = CgroupHost()
    sizing = host.probe()
    if not sizing.sized:
        pytest.skip(f"tasks cannot be sized on this machine: {sizing.reason}")
    return host


@pytest.fixture
def ecs_setup(aws_env: str) -> dict[str, Any]:
    # moto advances a task's status on every describe unless told not to.
    httpx.post(
        f"{aws_env}/moto-api/state-manager/set-transition",
        json={"model_name": "ecs::task", "transition": {"progression": "manual", "times": 10**6}},
        timeout=10,
    ).raise_for_status()
    ecs = boto3.client("ecs")
    subnets, groups = provision.provision_network(boto3.client("ec2"), DEPLOYMENT)
    return {"ecs": ecs, "subnets": subnets, "groups": groups}


def _run(setup: dict[str, Any], *, cpu: int, memory: int) -> tuple[str, str]:
    ecs = setup["ecs"]
    cluster, definition = provision.provision_agent(
        ecs, DEPLOYMENT, environment={}, secrets={}, cpu=cpu, memory=memory
    )
    arn = ecs.run_task(
        cluster=cluster,
        taskDefinition=definition,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": setup["subnets"], "securityGroups": setup["groups"]}
        },
    )["tasks"][0]["taskArn"]
    return cluster, arn


def _fargate(
    setup: dict[str, Any], cluster: str, program: str, tmp_path: Path, cgroups: CgroupHost
) -> LocalFargate:
    return LocalFargate(
        ecs=setup["ecs"],
        ssm=boto3.client("ssm"),
        cluster=cluster,
        base_env={"PATH": "/usr/bin:/bin"},
        command=[sys.executable, "-c", program],
        scratch=tmp_path / "scratch",
        agent_log=tmp_path / "agent.log",
        cgroups=cgroups,
    )


def _poll_until(fargate: LocalFargate, done: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fargate.poll_once()
        if done():
            return
        time.sleep(0.2)
    raise AssertionError("the local Fargate did not get there in time")


def _task(setup: dict[str, Any], cluster: str, arn: str) -> dict[str, Any]:
    task: dict[str, Any] = setup["ecs"].describe_tasks(cluster=cluster, tasks=[arn])["tasks"][0]
    return task


def test_the_task_runs_under_its_definitions_cpu_quota_and_memory_limit(
    ecs_setup: dict[str, Any], tmp_path: Path, cgroups: CgroupHost
) -> None:
    cluster, arn = _run(ecs_setup, cpu=512, memory=2048)
    fargate = _fargate(ecs_setup, cluster, REPORT_LIMITS, tmp_path, cgroups)
    log = tmp_path / "agent.log"
    _poll_until(fargate, lambda: log.is_file() and "limits" in log.read_text())

    line = next(line for line in log.read_text().splitlines() if line.startswith("limits"))
    fields = dict(part.split("=") for part in line.split()[1:])
    assert int(fields["quota"]) == int(fields["period"]) // 2  # 512 units: half a vCPU
    assert int(fields["memory"]) == 2048 * 1024 * 1024

    # Stopped, the task leaves no cgroup behind.
    ecs_setup["ecs"].stop_task(cluster=cluster, task=arn, reason="test")
    _poll_until(fargate, lambda: not fargate.running)
    assert cgroups.task_groups(f"{cluster}-") == []
    assert "exited with" in log.read_text()


def test_a_task_over_its_memory_limit_is_killed_with_137_and_the_oom_reason(
    ecs_setup: dict[str, Any], tmp_path: Path, cgroups: CgroupHost
) -> None:
    cluster, arn = _run(ecs_setup, cpu=256, memory=512)
    fargate = _fargate(ecs_setup, cluster, EAT_MEMORY, tmp_path, cgroups)
    _poll_until(fargate, lambda: _task(ecs_setup, cluster, arn)["lastStatus"] == "STOPPED")

    assert _task(ecs_setup, cluster, arn)["stoppedReason"] == OOM_REASON
    log = (tmp_path / "agent.log").read_text()
    assert f"exited with 137 ({OOM_REASON})" in log
    eaten = [int(line.split()[1]) for line in log.splitlines() if line.startswith("ate ")]
    assert 400 <= max(eaten) < 512  # it got close to the limit, never past it
    assert not fargate.running
    assert cgroups.task_groups(f"{cluster}-") == []


def test_leftover_groups_are_swept_but_a_group_in_use_is_left_alone(cgroups: CgroupHost) -> None:
    busy = cgroups.create("sweep-test-busy", cpu_units=256, memory_mib=512)
    cgroups.create("sweep-test-empty", cpu_units=256, memory_mib=512)
    launch = Launch(
        command=["sleep", "30"], env={"PATH": "/usr/bin:/bin"}, cgroup_procs=busy.procs_files
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "openclaw_deploy.local.container"], stdin=subprocess.PIPE
    )
    try:
        assert process.stdin is not None
        process.stdin.write(launch.to_json().encode())
        process.stdin.close()
        deadline = time.monotonic() + 10
        while not busy.pids() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert busy.pids() == [process.pid]  # the launcher became the command, in the group

        assert cgroups.sweep("sweep-test-") == ["sweep-test-empty"]
        assert [g.memory.name for g in cgroups.task_groups("sweep-test-")] == ["sweep-test-busy"]
    finally:
        busy.remove()  # kills what runs in it
        process.wait(10)
    assert process.returncode == -signal.SIGKILL
    assert cgroups.task_groups("sweep-test-") == []
