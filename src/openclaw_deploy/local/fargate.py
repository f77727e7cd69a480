"""A local "Fargate": runs the agent container for each ECS task, as a process or from its image.

It watches the tasks the handlers start with RunTask on the moto server. A new task gets a process
with the environment ECS would give the container: the task definition's variables, the RunTask
overrides, the `secrets` resolved from SSM, and `OPENCLAW_TASK_ARN`. `stop_task` becomes SIGTERM,
and SIGKILL after the task definition's `stopTimeout`, as on Fargate. A process that exits on its
own stops its task, with the exit code as the reason, and `on_stopped` hears of it (as the
watchdog hears of a stopped task from ECS's event on AWS). Each task gets fresh scratch space,
removed when it ends: like Fargate, nothing on the task's disk outlives it.

Two ways to run it:
* the process mode (default, fast): the bridge's entrypoint with this machine's Python and the
  cached OpenClaw, in a scratch folder;
* the image mode (`ImageRuntime`): the image built from `container/Dockerfile`
  (`local.image`), each task in a fresh writable root of it, as the image's user with its
  environment, working folder and entrypoint (`local.container` sets the root up).

In both, where the machine allows it (`local.cgroup`), the task runs at its task definition's
size: its CPU quota and memory limit. Over the memory, the whole task is killed with exit code
137 and the reason Fargate gives (`OutOfMemoryError: Container killed due to memory usage`).
In the image mode, while the task runs, its agent user (the image's `OPENCLAW_BRIDGE_AGENT_USER`)
may not open a TCP connection to the local cloud's own ports (`local.firewall`): as on AWS, where
the agent has no credential to call the deployment's services with.
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
from typing import IO, Any, Final

from openclaw_deploy.local.cgroup import OOM_EXIT_CODE, OOM_REASON, CgroupHost, Sizing, TaskCgroup
from openclaw_deploy.local.container import Launch, LaunchError, resolve_user
from openclaw_deploy.local.firewall import FirewallError, LoopbackGuard
from openclaw_deploy.local.image import Buildah, ImageConfig

log = logging.getLogger("openclaw_deploy.local.fargate")
HOST_ONLY_ENV: Final = (
    "PATH",
    "HOME",
    "PYTHONPATH",
    "OPENCLAW_BRIDGE_OPENCLAW_CMD",
    "OPENCLAW_BRIDGE_TEMPLATE",
)
"""How the process mode finds this machine's Python, OpenClaw and files; the image's own ENV
says these inside the image."""
LAUNCHER: Final = [sys.executable, "-m", "openclaw_deploy.local.container"]
TASK_ENV: Final = "OPENCLAW_DEPLOY_LOCAL_TASK_ENV"
"""A JSON object of extra variables for every local task (benchmarks turn an optimisation off
with it, e.g. `{"TMPDIR": "/home/openclaw"}`); read from the local cloud's environment."""
AGENT_USER_ENV: Final = "OPENCLAW_BRIDGE_AGENT_USER"
DEFAULT_AGENT_USER: Final = "openclaw"


@dataclass(frozen=True, kw_only=True)
class ImageRuntime:
    """The image mode: the built image (by id) and what it says about running it."""

    buildah: Buildah
    image_id: str
    config: ImageConfig
    guard: LoopbackGuard | None = None
    """Keeps the agent's uid off the local cloud's ports (None: it could not be set up)."""

    @property
    def agent_user(self) -> str:
        return self.config.env.get(AGENT_USER_ENV) or DEFAULT_AGENT_USER


@dataclass
class _Running:
    arn: str
    process: subprocess.Popen[bytes]
    home: Path | None
    stop_timeout: float
    log_stream: IO[bytes]
    sigterm_at: float | None = None
    cgroup: TaskCgroup | None = None
    container: str | None = None
    """The image mode's working container (its writable root), removed when the task ends."""
    oom: bool = False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stamp() -> str:
    """The time as the log lines write it (UTC), so `logs` merges the markers in order."""
    now = time.time()
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)) + f",{int(now % 1 * 1000):03d}"


def _launcher_env() -> dict[str, str]:
    """Enough for this Python to import the launcher; the task's own environment is piped."""
    return {key: os.environ[key] for key in ("PATH", "PYTHONPATH") if key in os.environ}


def _task_env_override() -> dict[str, str]:
    raw = os.environ.get(TASK_ENV)
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        log.warning("%s is not a JSON object; ignored", TASK_ENV)
        return {}
    if not isinstance(data, dict):
        log.warning("%s is not a JSON object; ignored", TASK_ENV)
        return {}
    return {str(key): str(value) for key, value in data.items()}


STABLE_HOME: Final = "current"


def _point(link: Path, target: Path) -> Path:
    """Make `link` a symbolic link to `target` (replacing an earlier one at once); return it."""
    temporary = link.with_name(f".{link.name}.{os.getpid()}")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target, target_is_directory=True)
    temporary.replace(link)
    return link


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
        image: ImageRuntime | None = None,
        cgroups: CgroupHost | None = None,
        on_stopped: Callable[[str, str, int | None], None] | None = None,
    ) -> None:
        self._on_stopped = on_stopped
        """Told (task ARN, stopped reason, exit code) once a task's process has exited."""
        self._ecs = ecs
        self._ssm = ssm
        self._cluster = cluster
        self._base_env = base_env
        self._command = command
        self._scratch = scratch
        self._agent_log = agent_log
        self._extra_env = extra_env
        self._image = image
        self._cgroups = cgroups
        self._running: dict[str, _Running] = {}
        self._guarded: set[str] = set()
        self._lock = threading.Lock()
        self.sizing = cgroups.probe() if cgroups else Sizing(sized=False, reason="not asked")
        if cgroups and self.sizing.sized:
            for name in cgroups.sweep(f"{cluster}-"):
                log.info("removed the leftover cgroup %s", name)
        if not self.sizing.sized:
            log.warning(
                "agent tasks run unsized (no CPU quota, no memory limit): %s", self.sizing.reason
            )

    @property
    def runtime(self) -> str:
        return "image" if self._image else "process"

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
        env.update(_task_env_override())
        env["OPENCLAW_TASK_ARN"] = task["taskArn"]
        return env

    def _cgroup(self, arn: str, definition: dict[str, Any]) -> TaskCgroup | None:
        if self._cgroups is None or not self.sizing.sized:
            return None
        cpu, memory = int(definition["cpu"]), int(definition["memory"])
        try:
            group = self._cgroups.create(
                f"{self._cluster}-{_task_id(arn)}", cpu_units=cpu, memory_mib=memory
            )
        except OSError as error:
            log.warning("task %s runs unsized: %s", _task_id(arn), error)
            return None
        log.info(
            "task %s sized as its task definition: %.2f vCPU (quota %d us), %d MiB",
            _task_id(arn),
            cpu / 1024,
            group.cpu_quota_us,
            memory,
        )
        return group

    def _launch_image(
        self, arn: str, env: dict[str, str], group: TaskCgroup | None, stream: IO[bytes]
    ) -> tuple[subprocess.Popen[bytes], str]:
        assert self._image is not None
        image = self._image
        name = f"{self._cluster}-{_task_id(arn)}"
        image.buildah.remove(name)  # a leftover of a crashed run with the same task id
        started = time.monotonic()
        rootfs = image.buildah.new_root(image.image_id, name)
        log.info("task %s root ready in %.2fs", _task_id(arn), time.monotonic() - started)
        container_env = dict(image.config.env)
        container_env.update(
            {
                key: value
                for key, value in env.items()
                if key not in HOST_ONLY_ENV and not key.startswith(("LANG", "LC_"))
            }
        )
        # The host's network is shared: OpenClaw's loopback port must not collide.
        container_env["OPENCLAW_BRIDGE_GATEWAY_PORT"] = str(free_port())
        self._guard(arn, rootfs)
        launch = Launch(
            command=image.config.command,
            env=container_env,
            cgroup_procs=group.procs_files if group else [],
            rootfs=str(rootfs),
            user=image.config.user,
            workdir=image.config.workdir,
            hostname=_task_id(arn)[:12],
        )
        try:
            return self._popen(LAUNCHER, _launcher_env(), stream, launch), name
        except BaseException:
            self._unguard(arn)
            image.buildah.remove(name)
            raise

    def _guard(self, arn: str, rootfs: Path) -> None:
        """Keep the task's agent user off the local cloud's ports; loudly when it cannot be."""
        assert self._image is not None
        guard, user = self._image.guard, self._image.agent_user
        if guard is None:
            log.error(
                "task %s: its agent (%s) can reach the local cloud's ports (moto, the emulator): "
                "no firewall here (see the daemon log)",
                _task_id(arn),
                user,
            )
            return
        try:
            uid = resolve_user(user, rootfs / "etc")[0]
            guard.protect(_task_id(arn), uid)
        except (LaunchError, FirewallError) as error:
            log.error(
                "task %s: its agent (%s) can reach the local cloud's ports: %s",
                _task_id(arn),
                user,
                error,
            )
            return
        self._guarded.add(arn)
        log.info(
            "task %s: the agent (%s, uid %d) is refused the local cloud's ports %s",
            _task_id(arn),
            user,
            uid,
            ", ".join(str(port) for port in guard.ports),
        )

    def _unguard(self, arn: str) -> None:
        if arn not in self._guarded or self._image is None or self._image.guard is None:
            return
        self._guarded.discard(arn)
        try:
            self._image.guard.release(_task_id(arn))
        except FirewallError as error:
            log.error("task %s: its firewall rules stay behind: %s", _task_id(arn), error)

    @staticmethod
    def _popen(
        command: list[str], env: dict[str, str], stream: IO[bytes], launch: Launch | None
    ) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            command,
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE if launch else subprocess.DEVNULL,
            start_new_session=True,  # its own process group: SIGKILL reaches OpenClaw as well
        )
        if launch is not None:
            assert process.stdin is not None
            # The environment (secrets) goes through a pipe: never on disk or a command line.
            process.stdin.write(launch.to_json().encode())
            process.stdin.close()
        return process

    def _start(self, arn: str) -> None:
        task = self._ecs.describe_tasks(cluster=self._cluster, tasks=[arn])["tasks"][0]
        definition = self._ecs.describe_task_definition(taskDefinition=task["taskDefinitionArn"])[
            "taskDefinition"
        ]
        env = self._environment(task, definition)
        self._agent_log.parent.mkdir(parents=True, exist_ok=True)
        stream = self._agent_log.open("ab")
        stream.write(f"{_stamp()} --- task {_task_id(arn)} started\n".encode())
        stream.flush()
        group = self._cgroup(arn, definition)
        home: Path | None = None
        container: str | None = None
        try:
            if self._image is not None:
                process, container = self._launch_image(arn, env, group, stream)
            else:
                home = self._scratch / _task_id(arn)
                shutil.rmtree(home, ignore_errors=True)
                home.mkdir(parents=True)
                # The task sees its folder at one path, as a container sees /home: OpenClaw
                # keys its cron jobs by their absolute state path, so a reminder restored from
                # the backup is found by the next task only at the same path.
                env["OPENCLAW_BRIDGE_HOME"] = str(_point(self._scratch / STABLE_HOME, home))
                env["OPENCLAW_BRIDGE_GATEWAY_PORT"] = str(free_port())
                if group is None:
                    process = self._popen(self._command, env, stream, None)
                else:  # the launcher joins the task's cgroups, then becomes the command
                    launch = Launch(command=self._command, env=env, cgroup_procs=group.procs_files)
                    process = self._popen(LAUNCHER, _launcher_env(), stream, launch)
        except BaseException:
            stream.close()
            if group is not None:
                group.remove()
            if home is not None:
                shutil.rmtree(home, ignore_errors=True)
            raise
        stop_timeout = float(definition["containerDefinitions"][0].get("stopTimeout", 30))
        with self._lock:
            self._running[arn] = _Running(
                arn, process, home, stop_timeout, stream, cgroup=group, container=container
            )
        log.info("task %s started as pid %d (%s)", _task_id(arn), process.pid, self.runtime)

    def _signal(self, running: _Running, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if running.container is None and sig == signal.SIGKILL:
                os.killpg(running.process.pid, sig)  # the whole task, as ECS kills a container
            else:
                # As ECS stops a task: SIGTERM reaches the task's main process only (the image's
                # tini hands it to the bridge and nobody else), and the bridge stops OpenClaw
                # after its last look at it and before its final backup.
                os.kill(running.process.pid, sig)
        if sig == signal.SIGKILL and running.cgroup is not None:
            running.cgroup.kill_all()

    def _out_of_memory(self, running: _Running) -> None:
        log.warning(
            "task %s went over its memory limit: killed (%s)", _task_id(running.arn), OOM_REASON
        )
        running.oom = True
        self._signal(running, signal.SIGKILL)

    def _finish(self, running: _Running) -> None:
        if running.cgroup is not None and not running.oom and running.cgroup.under_oom():
            running.oom = True  # it died of the limit between two polls
        code = OOM_EXIT_CODE if running.oom else running.process.returncode
        reason = (
            OOM_REASON if running.oom else f"Essential container in task exited (exit code {code})"
        )
        running.log_stream.write(
            f"{_stamp()} --- task {_task_id(running.arn)} exited with {code}"
            f"{f' ({OOM_REASON})' if running.oom else ''}\n".encode()
        )
        running.log_stream.close()
        if running.cgroup is not None:
            running.cgroup.remove()
        if running.home is not None:
            shutil.rmtree(running.home, ignore_errors=True)
        self._unguard(running.arn)
        if running.container is not None and self._image is not None:
            self._image.buildah.remove(running.container)
        with self._lock:
            self._running.pop(running.arn, None)
        try:
            self._ecs.stop_task(cluster=self._cluster, task=running.arn, reason=reason)
        except Exception:
            log.debug("stop_task after exit failed", exc_info=True)
        log.info("task %s exited with %s", _task_id(running.arn), code)
        if self._on_stopped is not None:
            try:
                self._on_stopped(running.arn, reason, code)
            except Exception:
                log.exception("the stopped-task event for %s failed", _task_id(running.arn))

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
            elif running.cgroup is not None and not running.oom and running.cgroup.under_oom():
                self._out_of_memory(running)
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
