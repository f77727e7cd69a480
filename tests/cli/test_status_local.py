"""The operate commands against the local target, on real data: a real OpenClaw woken by
`start`, put to sleep by `stop`, and `status`, `logs` and `cost` reading what that left behind
(the lifecycle row, the usage record the bridge's last write adds, the backup, the log files)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openclaw_deploy.services.status import NOT_ISOLATED
from tests.e2e.local import Local, cli, start, stop

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    workdir = tmp_path_factory.mktemp("operate-local")
    deployment = start(workdir)
    try:
        yield deployment
    finally:
        stop(deployment)


def ok(local: Local, *args: str) -> str:
    result = cli(local.workdir, *args, timeout=400)
    assert result.returncode == 0, result.stderr
    return result.stdout


def as_json(local: Local, *args: str) -> Any:
    return json.loads(ok(local, *args, "--json"))


def records(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_a_wake_and_a_sleep_show_in_status_logs_and_cost(local: Local) -> None:
    before = as_json(local, "status")
    assert before["running"] is True and before["agent"]["state"] == "Idle"
    assert (
        before["local_task"]
        == f"as a process ({NOT_ISOLATED}), at 0.5 vCPU / 2048 MB, as on Fargate"
    )
    assert before["usage"]["tasks"] == 0

    woke = as_json(local, "start")
    assert woke["state"] == "Running" and woke["timings"]["openclaw"] > 0

    awake = as_json(local, "status")
    assert awake["agent"]["state"] == "Running"
    assert set(awake["agent"]["timings"]) >= {"restore", "openclaw"}
    assert awake["usage"]["tasks"] == 1 and awake["usage"]["running_hours"] > 0
    text = " ".join(ok(local, "status").split())
    assert "agent Running (ready) since" in text and "of agent time in 1 task(s)" in text
    assert f"agent task as a process ({NOT_ISOLATED}), at 0.5 vCPU / 2048 MB" in text

    lines = records(ok(local, "logs", "--since", "10m", "--json"))
    assert {"agent", "daemon"} <= {line["component"] for line in lines}  # no web traffic yet
    assert [line["timestamp"] for line in lines] == sorted(line["timestamp"] for line in lines)
    assert any("--- task" in line["message"] and "started" in line["message"] for line in lines)

    slept = as_json(local, "stop")
    assert slept["state"] == "Idle"

    # Right after `stop` (the process may still be finishing its last queue poll).
    previous = records(ok(local, "logs", "--previous", "--json"))
    assert "started" in previous[0]["message"]
    assert any("final backup" in line["message"] for line in previous)
    assert all(line["component"] == "agent" for line in previous)

    after = as_json(local, "status")
    assert after["agent"]["last_stop_reason"] == "stopped by the owner (openclaw-deploy stop)"
    assert after["memory"]["last_backup_at"] > time.time() - 600
    assert after["usage"]["tasks"] == 1 and after["usage"]["running_hours"] == 0

    cost = as_json(local, "cost")
    assert cost["settings"] == {
        "cpu": 512,
        "memory": 2048,
        "spot": True,
        "source": "task definition",
    }
    assert cost["used"]["tasks"] == 1 and cost["used"]["task_hours"] > 0
    assert cost["used"]["task_hours"] == after["usage"]["task_hours"]


def test_bad_input_is_a_clear_error_with_an_exit_code(local: Local) -> None:
    component = cli(local.workdir, "logs", "--component", "db")
    assert component.returncode == 2 and "Unknown component 'db'" in component.stderr
    since = cli(local.workdir, "logs", "--since", "a while")
    assert since.returncode == 2 and "not a duration or a time" in since.stderr
    code = cli(local.workdir, "pair", "approve", "not-a-code")
    assert code.returncode == 2 and "is not a pairing code" in code.stderr
    revoked = cli(local.workdir, "pair", "revoke", "424242", "--yes")
    assert revoked.returncode == 9 and "No paired user has the id 424242" in revoked.stderr


def test_status_of_a_stopped_local_cloud(tmp_path: Path) -> None:
    workdir = tmp_path
    (workdir / "openclaw-deploy.yaml").write_text(
        "version: 1\ndefault: agent\ndeployments:\n  agent:\n    target: local\n"
    )
    report = json.loads(cli(workdir, "status", "--json").stdout)
    assert report["running"] is False and report["agent"] is None
    assert "openclaw-deploy init --target local" in cli(workdir, "status").stdout
