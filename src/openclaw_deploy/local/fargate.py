"""A local "Fargate": runs the agent container's entrypoint as a process for each ECS task.

It watches the tasks the handlers start with RunTask on the moto server. A new task gets a process
with the environment ECS would give the container: the task definition's variables, the RunTask
overrides, the `secrets` resolved from SSM, and `OPENCLAW_TASK_ARN`. `stop_task` becomes SIGTERM,
and SIGKILL after the task definition's `stopTimeout`, as on Fargate. A process that exits on its
own stops its task, with the exit code as the reason. Each task gets fresh scratch space, removed
when it ends: like Fargate, nothing on the task's disk outlives it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("openclaw_deploy.local.fargate")


@dataclass
class _Running:
    arn: str
    process: subprocess.Popen[bytes]
    home: Path
    stop_timeout: float
    log_stream: IO[bytes]
    sigterm_at: float | None = None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stamp() -> str:
    """The time as the log lines write it (UTC), so `logs` merges the markers in order."""
    now = time.time()
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + f",{int(now % 1 * 1000):03d}"


def _task_id(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


class LocalFargate:
    def __init__(
        self,
        *,
        ecs: Any,
        ssm: Any,
        cluster: str,
        base_env: dict[str, str],
        command: list[str],
        scratch: Path,
        agent_log: Path,
        extra_env: Callable[[], dict[str, str]] | None = None,
    ) -> None:
        self._ecs = ecs
        self._ssm = ssm
        self._cluster = cluster
        self._base_env = base_env
        self._command = command
        self._scratch = scratch
        self._agent_log = agent_log
        self._extra_env = extra_env
        self._running: dict[str, _Running] = {}
        self._lock = threading.Lock()

    @property
    def running(self) -> list[str]:
        with self._lock:
            return list(self._running)

    def _environment(self, task: dict[str, Any], definition: dict[str, Any]) -> dict[str, str]:
        container = definition["containerDefinitions"][0]
        env = dict(self._base_env)
        env.update({e["name"]: e["value"] for e in container.get("environment", [])})
        for override in task.get("overrides", {}).get("containerOverrides", []):
            if override.get("name") == container["name"]:
                env.update({e["name"]: e["value"] for e in override.get("environment", [])})
        for secret in container.get("secrets", []):
            answer = self._ssm.get_parameter(Name=secret["valueFrom"], WithDecryption=True)
            env[secret["name"]] = answer["Parameter"]["Value"]
        if self._extra_env:
            env.update(self._extra_env())
        env["OPENCLAW_TASK_ARN"] = task["taskArn"]
        return env

    def _start(self, arn: str) -> None:
        task = self._ecs.describe_tasks(cluster=self._cluster, tasks=[arn])["tasks"][0]
        definition = self._ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])[
            "taskDefinition"
        ]
        env = self._environment(task, definition)
        home = self._scratch / _task_id(arn)
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        env["OPENCLAW_BRIDGE_HOME"] = str(home)
        env["OPENCLAW_BRIDGE_GATEWAY_PORT"] = str(free_port())
        self._agent_log.parent.mkdir(parents=True, exist_ok=True)
        stream = self._agent_log.open("ab")
        stream.write(f"{_stamp()} --- task {_task_id(arn)} started\n".encode())
        stream.flush()
        process = subprocess.Popen(
            self._command,
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: signals reach OpenClaw as well
        )
        stop_timeout = float(definition["containerDefinitions"][0].get("stopTimeout", 30))
        with self._lock:
            self._running[arn] = _Running(arn, process, home, stop_timeout, stream)
        log.info("task %s started as pid %d", _task_id(arn), process.pid)

    def _signal(self, running: _Running, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(running.process.pid, sig)

    def _finish(self, running: _Running) -> None:
        code = running.process.returncode
        running.log_stream.write(
            f"{_stamp()} --- task {_task_id(running.arn)} exited with {code}\n".encode()
        )
        running.log_stream.close()
        shutil.rmtree(running.home, ignore_errors=True)
        with self._lock:
            self._running.pop(running.arn, None)
        try:
            self._ecs.stop_task(
                cluster=self._cluster,
                task=running.arn,
                reason=f"Essential container in task exited (exit code {code})",
            )
        except Exception:
            log.debug("stop_task after exit failed", exc_info=True)
        log.info("task %s exited with %s", _task_id(running.arn), code)

    def poll_once(self) -> None:
        wanted = set(
            self._ecs.list_tasks(cluster=self._cluster, desiredStatus="RUNNING")["taskArns"]
        )
        with self._lock:
            current = dict(self._running)
        for arn in wanted - set(current):
            try:
                self._start(arn)
            except Exception:
                log.exception("could not start task %s", arn)
                self._ecs.stop_task(cluster=self._cluster, task=arn, reason="local start failed")
        now = time.monotonic()
        for arn, running in current.items():
            if running.process.poll() is not None:
                self._finish(running)
            elif arn not in wanted:
                if running.sigterm_at is None:
                    log.info("task %s stopping: SIGTERM", _task_id(arn))
                    running.sigterm_at = now
                    self._signal(running, signal.SIGTERM)
                elif now - running.sigterm_at > running.stop_timeout:
                    log.warning(
                        "task %s ignored SIGTERM for %.0fs: SIGKILL",
                        _task_id(arn),
                        running.stop_timeout,
                    )
                    self._signal(running, signal.SIGKILL)

    def run(self, stop: threading.Event, interval: float = 0.5) -> None:
        while not stop.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("polling ECS failed")
            stop.wait(interval)

    def shutdown(self, timeout: float = 130.0) -> None:
        """SIGTERM every task and wait for them (their backups), SIGKILL what is left."""
        with self._lock:
            current = list(self._running.values())
        for running in current:
            self._signal(running, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for running in current:
            try:
                running.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._signal(running, signal.SIGKILL)
                running.process.wait(10)
            self._finish(running)


def bridge_command() -> list[str]:
    """How the container's entrypoint runs outside the image: the same bridge module."""
    return [sys.executable, "-m", "openclaw_bridge"]


def bridge_pythonpath(container_dir: Path) -> str:
    parts = [str(container_dir / "bridge")]
    existing = os.environ.get("PYTHONPATH")
    if existing:
        parts.append(existing)
    return os.pathsep.join(parts)


def encode_command(command: list[str]) -> str:
    return json.dumps(command)
