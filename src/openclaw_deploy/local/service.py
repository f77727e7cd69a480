"""The CLI's side of the local target: start the local cloud in the background, find it, stop it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any, Final

from openclaw_deploy.errors import DeployError, ToolchainError
from openclaw_deploy.local.daemon import Spec
from openclaw_deploy.local.paths import LocalPaths
from openclaw_deploy.output import Reporter

START_TIMEOUT_SECONDS: Final = 300.0
"""First start installs the pinned OpenClaw (~650 MB) when it is not cached yet."""
STOP_TIMEOUT_SECONDS: Final = 150.0
"""The agent task gets ECS's 120 s stop timeout to back up, then the data is saved."""


@dataclass(frozen=True, kw_only=True)
class LocalState:
    pid: int
    moto_url: str
    api_url: str
    ws_url: str
    web_url: str | None
    telegram_webhook_url: str
    offline_model_url: str | None
    resources: dict[str, Any]
    environment: dict[str, str]
    started_at: float
    agent_runtime: str | None = None
    """"process" or "image": how the local Fargate runs the agent task."""
    agent_sizing: dict[str, Any] | None = None
    """{"sized", "cpu", "memory", "reason"}: whether tasks run at their task definition's size."""
    agent_network: dict[str, Any] | None = None
    """{"guarded", "reason"} (image mode): whether the agent is kept off the local cloud's ports."""

    @property
    def user_pool_id(self) -> str:
        return str(self.resources["user_pool_id"])

    @property
    def user_pool_client_id(self) -> str:
        return str(self.resources["user_pool_client_id"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (we started it and it exited) still answers signal 0.
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return waited == 0


def read_state(paths: LocalPaths) -> LocalState | None:
    """The running local cloud's state, or None when it is not running."""
    try:
        data = json.loads(paths.state.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    state = LocalState(**{k: data.get(k) for k in LocalState.__dataclass_fields__})
    return state if _alive(state.pid) else None


def _log_tail(paths: LocalPaths, lines: int = 15) -> str:
    chunks = []
    for name in ("daemon.out", "daemon.log"):
        path = paths.logs / name
        if path.is_file():
            chunks.extend(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    return "\n".join(chunks[-lines:])


def start(paths: LocalPaths, spec: Spec, reporter: Reporter) -> LocalState:
    """Start the local cloud (or find it running) and wait until it answers."""
    running = read_state(paths)
    if running is not None:
        reporter.done(f"The local cloud is already running (pid {running.pid})")
        return running
    paths.logs.mkdir(parents=True, exist_ok=True)
    paths.state.unlink(missing_ok=True)
    paths.spec.write_text(json.dumps(asdict(spec), indent=2), encoding="utf-8")
    with reporter.task("Starting the local cloud (moto, API Gateway emulator, local Fargate)"):
        with (paths.logs / "daemon.out").open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "openclaw_deploy.local.daemon", "--home", str(paths.home)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # it outlives this command, like a service
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            state = read_state(paths)
            if state is not None:
                return state
            if process.poll() is not None:
                raise ToolchainError(
                    f"The local cloud exited while starting (code {process.returncode}):\n"
                    f"{_log_tail(paths)}",
                    hint=f"see {paths.logs} for the full logs; openclaw-deploy doctor",
                )
            time.sleep(0.2)
        process.terminate()
        raise ToolchainError(
            f"The local cloud did not start within {START_TIMEOUT_SECONDS:.0f}s:\n"
            f"{_log_tail(paths)}",
            hint=f"see {paths.logs}",
        )


def stop(paths: LocalPaths, reporter: Reporter) -> bool:
    """Stop the local cloud (it backs the agent up and saves user data); False if not running."""
    state = read_state(paths)
    if state is None:
        return False
    with reporter.task("Stopping the local cloud (agent backup, saving user data)"):
        os.kill(state.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while _alive(state.pid):
            if time.monotonic() > deadline:
                os.kill(state.pid, signal.SIGKILL)
                raise DeployError(
                    "The local cloud did not stop in time and was killed; the last agent "
                    "backup may be older than its last message.",
                    hint=f"see {paths.logs}",
                )
            time.sleep(0.2)
    return True


def remove_files(paths: LocalPaths, *, purge: bool) -> list[str]:
    """Remove the local deployment's files; user data stays unless `purge`. Returns what went."""
    removed: list[str] = []
    if not paths.home.exists():
        return removed
    for child in sorted(paths.home.iterdir()):
        if child == paths.data and not purge:
            continue
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
        removed.append(child.name)
    if purge:
        shutil.rmtree(paths.home, ignore_errors=True)
    return removed
