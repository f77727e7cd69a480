"""Extra environment for every local task (how benchmarks turn an optimisation off for a run).

Real parts: a moto server (ECS, EC2, SSM) and the local Fargate running a small Python program
that prints what it was given.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from openclaw_deploy.local.fargate import TASK_ENV, LocalFargate
from tests.local.test_task_size import _poll_until, _run, ecs_setup

__all__ = ["ecs_setup"]

PRINT_ENV = """
import os, time
print("env", os.environ.get("TMPDIR"), os.environ.get("PLAIN"), flush=True)
time.sleep(60)
"""


def _start(setup: dict[str, Any], tmp_path: Path) -> tuple[LocalFargate, str, Path]:
    cluster, arn = _run(setup, cpu=256, memory=512)
    log = tmp_path / "agent.log"
    fargate = LocalFargate(
        ecs=setup["ecs"],
        ssm=boto3.client("ssm"),
        cluster=cluster,
        base_env={"PATH": "/usr/bin:/bin", "PLAIN": "base", "TMPDIR": "/tmp"},
        command=[sys.executable, "-c", PRINT_ENV],
        scratch=tmp_path / "scratch",
        agent_log=log,
    )
    _poll_until(fargate, lambda: log.is_file() and "env " in log.read_text())
    return fargate, arn, log


def _stop(setup: dict[str, Any], fargate: LocalFargate, arn: str) -> None:
    cluster = arn.split("/")[-2]
    setup["ecs"].stop_task(cluster=cluster, task=arn, reason="test")
    _poll_until(fargate, lambda: not fargate.running)


def _printed(log: Path) -> list[str]:
    return next(line for line in log.read_text().splitlines() if line.startswith("env ")).split()


def test_the_override_reaches_the_task_over_the_base_environment(
    ecs_setup: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TASK_ENV, json.dumps({"TMPDIR": "/home/openclaw"}))
    fargate, arn, log = _start(ecs_setup, tmp_path)
    try:
        assert _printed(log) == ["env", "/home/openclaw", "base"]
    finally:
        _stop(ecs_setup, fargate, arn)


def test_without_a_valid_override_the_task_gets_its_usual_environment(
    ecs_setup: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TASK_ENV, "not json")
    fargate, arn, log = _start(ecs_setup, tmp_path)
    try:
        assert _printed(log) == ["env", "/tmp", "base"]
    finally:
        _stop(ecs_setup, fargate, arn)
