"""`logs` on an AWS-target deployment: CloudWatch Logs in moto, merged with the same `LogLine`s as
the local files; `--follow` under concurrent writes; `--previous`; bad input; shell completion."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from openclaw_deploy.aws.logs import CloudWatchLogs
from openclaw_deploy.cli.app import app
from openclaw_deploy.infra import spec
from openclaw_deploy.services.logs import CloudWatchSource, read_logs
from tests.cli.operate import MotoDeployment, client, deploy_on_moto

# moto creates the stand-in stack (see tests/cli/operate.py) but warns about its one resource.
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS")
NAME = "logbot"
AGENT = spec.agent_log_group(NAME)
TELEGRAM = spec.function_log_group(NAME, "telegram")
API = spec.function_log_group(NAME, "api")
WATCHDOG = spec.function_log_group(NAME, "watchdog")


@pytest.fixture
def moto(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MotoDeployment:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    return deploy_on_moto(tmp_path, NAME)


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["logs", *args], catch_exceptions=False)


def records(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_components_merge_in_time_order_with_since_and_filter(moto: MotoDeployment) -> None:
    now = time.time()
    moto.log(AGENT, "agent/agent/t1", [(now - 50, "bridge: restoring"), (now - 20, "ERROR model")])
    moto.log(TELEGRAM, "2026/11/26/[$LATEST]a", [(now - 40, "update 901 accepted")])
    moto.log(API, "2026/11/26/[$LATEST]b", [(now - 30, "GET /api/agent 200")])
    moto.log(WATCHDOG, "2026/11/26/[$LATEST]c", [(now - 10, "agent idle, nothing to do")])
    moto.log(WATCHDOG, "2026/11/26/[$LATEST]c", [(now - 3600, "an hour ago")])

    result = run("--since", "10m", "--json")
    assert result.exit_code == 0, result.output
    lines = records(result.stdout)
    assert [(r["component"], r["message"]) for r in lines] == [
        ("agent", "bridge: restoring"),
        ("telegram", "update 901 accepted"),
        ("gateway", "GET /api/agent 200"),
        ("agent", "ERROR model"),
        ("watchdog", "agent idle, nothing to do"),
    ]
    assert [r["timestamp"] for r in lines] == sorted(r["timestamp"] for r in lines)

    # Without --since AWS shows the last 10 minutes, not the hour-old line.
    assert "an hour ago" not in run().stdout
    assert "an hour ago" in run("--since", "2h").stdout

    only = records(run("--since", "10m", "--component", "telegram", "--json").stdout)
    assert [r["message"] for r in only] == ["update 901 accepted"]
    both = records(
        run("--since", "10m", "--component", "agent", "--component", "watchdog", "--json").stdout
    )
    assert {r["component"] for r in both} == {"agent", "watchdog"}
    errors = run("--since", "10m", "--filter", "error")  # any case
    assert errors.exit_code == 0
    assert [line.split(" ", 2)[1:] for line in errors.stdout.splitlines()] == [
        ["agent", "   ERROR model"]
    ]


def test_previous_is_the_last_stopped_task_not_the_running_one(moto: MotoDeployment) -> None:
    now = time.time()
    moto.log(AGENT, "agent/agent/aaaa", [(now - 300, "first task"), (now - 290, "first ends")])
    moto.log(AGENT, "agent/agent/bbbb", [(now - 200, "second task"), (now - 190, "second ends")])
    moto.log(AGENT, "agent/agent/cccc", [(now - 100, "third task, running")])

    # The agent sleeps: the newest task stream is the last stopped one.
    idle = records(run("--previous", "--json").stdout)
    assert [r["message"] for r in idle] == ["third task, running"]

    # Task cccc is running: --previous skips it.
    lifecycle = moto.lifecycle()
    arn = f"arn:aws:ecs:us-east-1:123456789012:task/{moto.cluster}/cccc"
    assert lifecycle.try_begin_start() and lifecycle.set_task(arn)
    assert lifecycle.mark_running(arn, {"pull": 1.0})
    result = run("--previous")
    assert result.exit_code == 0, result.output
    assert [line[18:] for line in result.stdout.splitlines()] == [
        "second task",
        "second ends",
    ]


def test_previous_with_no_stopped_task_and_bad_input_are_clear_errors(
    moto: MotoDeployment,
) -> None:
    none = run("--previous")
    assert none.exit_code == 9
    assert "No agent task has stopped yet" in none.output
    daemon = run("--component", "daemon")
    assert daemon.exit_code == 2
    assert "exists on the local target only" in daemon.output
    unknown = run("--component", "db")
    assert unknown.exit_code == 2
    assert "Unknown component 'db'" in unknown.output
    assert "agent, gateway, telegram, watchdog, notifier, daemon, all" in unknown.output
    since = run("--since", "ten minutes")
    assert since.exit_code == 2
    assert "is not a duration or a time" in since.output
    both = run("--previous", "--follow")
    assert both.exit_code == 2
    assert "cannot --follow" in both.output


def test_follow_under_concurrent_writes_has_no_duplicate_and_no_gap(
    moto: MotoDeployment,
) -> None:
    """Two streams written at once, in batches, one batch arriving late with older time stamps
    (as the awslogs driver's buffered sends do): every event comes out exactly once."""
    total = 240
    start = time.time() - 5
    logs = client("logs")
    for stream in ("agent/agent/s1", "agent/agent/s2"):
        logs.create_log_stream(logGroupName=AGENT, logStreamName=stream)

    def put(stream: str, first: int) -> None:
        events = [
            {"timestamp": int((start + i * 0.01) * 1000), "message": f"line {i:04d}"}
            for i in range(first, first + 20)
        ]
        logs.put_log_events(logGroupName=AGENT, logStreamName=stream, logEvents=events)

    def writer() -> None:
        for first in range(0, total, 20):
            if first == 120:
                continue  # held back: it lands after the next two batches
            put("agent/agent/s1" if first % 40 == 0 else "agent/agent/s2", first)
            if first == 160:
                put("agent/agent/s1", 120)
            time.sleep(0.05)

    source = CloudWatchSource(CloudWatchLogs(client("logs")), AGENT, "agent", start=start - 1)
    thread = threading.Thread(target=writer)
    thread.start()
    seen: list[str] = []
    deadline = time.monotonic() + 60
    for line in read_logs([source], since=None, needle=None, follow=True, interval=0.01):
        seen.append(line.message)
        if len(seen) >= total or time.monotonic() > deadline:
            break
    thread.join()
    # Nothing more comes on further polls: no duplicate shows up late either.
    assert source.read() == []
    assert len(seen) == total, f"{total - len(seen)} missing"
    assert sorted(seen) == [f"line {i:04d}" for i in range(total)]


def test_an_event_landing_late_is_read_once_and_nothing_twice(moto: MotoDeployment) -> None:
    now = time.time()
    source = CloudWatchSource(CloudWatchLogs(client("logs")), AGENT, "agent", start=now - 60)
    moto.log(AGENT, "agent/agent/x1", [(now - 30, "first")])
    assert [line.message for line in source.read()] == ["first"]
    moto.log(AGENT, "agent/agent/x1", [(now - 10, "third")])
    assert [line.message for line in source.read()] == ["third"]
    # Sent late (a buffered batch), stamped before the newest line already shown.
    moto.log(AGENT, "agent/agent/x2", [(now - 20, "second")])
    assert [line.message for line in source.read()] == ["second"]
    assert source.read() == []


def test_follow_in_the_real_cli_streams_until_ctrl_c(moto: MotoDeployment, aws_env: str) -> None:
    now = time.time()
    moto.log(AGENT, "agent/agent/f1", [(now - 5, "before follow")])
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCLAW_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "openclaw_deploy", "logs", "--follow", "--json"],
        cwd=moto.config.path.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[dict[str, Any]] = []
    reader = threading.Thread(
        target=lambda: lines.extend(json.loads(raw) for raw in process.stdout or [])
    )
    reader.start()
    try:
        deadline = time.monotonic() + 30
        while not lines and time.monotonic() < deadline:
            time.sleep(0.1)
        for i in range(5):
            moto.log(AGENT, "agent/agent/f1", [(time.time(), f"during follow {i}")])
            time.sleep(0.3)
        while len(lines) < 6 and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(timeout=5)
    assert code == 0, process.stderr.read() if process.stderr else ""
    assert [line["message"] for line in lines] == [
        "before follow",
        *(f"during follow {i}" for i in range(5)),
    ]


def test_a_reader_that_goes_away_ends_logs_quietly(moto: MotoDeployment, aws_env: str) -> None:
    now = time.time()
    client("logs").create_log_stream(logGroupName=AGENT, logStreamName="agent/agent/many")
    client("logs").put_log_events(
        logGroupName=AGENT,
        logStreamName="agent/agent/many",
        logEvents=[
            {"timestamp": int((now - 60 + i / 1000) * 1000), "message": f"line {i} " + "x" * 60}
            for i in range(5000)
        ],
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENCLAW_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "openclaw_deploy", "logs", "--since", "10m"],
        cwd=moto.config.path.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert b"line 0 " in process.stdout.readline()  # `| head -1`
    process.stdout.close()
    assert process.wait(timeout=60) == 0
    assert process.stderr.read() == b""


def complete(words: str) -> list[str]:
    env = {
        **os.environ,
        "_OPENCLAW_DEPLOY_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split(" ")) - 1),
    }
    out = subprocess.run(
        [sys.executable, "-c", "from openclaw_deploy.cli.app import main; main()"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.split()


def test_shell_completion_knows_commands_and_components(tmp_path: Path) -> None:
    assert {"cost", "upgrade"} <= set(complete("openclaw-deploy "))
    assert complete("openclaw-deploy lo") == ["logs"]
    assert complete("openclaw-deploy logs --component w") == ["watchdog"]
    assert "all" in complete("openclaw-deploy logs --component ")
    script = subprocess.run(
        [sys.executable, "-m", "openclaw_deploy", "--show-completion", "bash"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert "complete -o default -F _openclaw_deploy_completion openclaw-deploy" in script.stdout
    installed = subprocess.run(
        [sys.executable, "-m", "openclaw_deploy", "--install-completion", "bash"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "HOME": str(tmp_path)},
    )
    assert installed.returncode == 0, installed.stderr
    assert (tmp_path / ".bash_completions" / "openclaw-deploy.sh").is_file()
    assert "openclaw-deploy.sh" in (tmp_path / ".bashrc").read_text()


def test_nothing_to_show_says_so_and_suggests_a_wider_window(moto: MotoDeployment) -> None:
    moto.log(API, "2026/11/26/[$LATEST]b", [(time.time() - 7200, "GET /api/agent 200")])
    result = run("--since", "30m")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    flat = " ".join(result.stderr.split())
    assert "No log lines in the last 30m." in flat and "--since 1d" in flat
    assert "GET /api/agent 200" in run("--since", "3h").stdout


def test_a_lambda_line_shows_one_time_not_two(moto: MotoDeployment) -> None:
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now - 30))
    moto.log(API, "2026/11/26/[$LATEST]b", [(now - 30, f"[INFO]\t{stamp}\treq-1\tGET /api 200")])
    (line,) = run("--since", "10m").stdout.splitlines()
    assert line.split()[1:] == ["gateway", "INFO", "GET", "/api", "200"], line
    assert stamp[:10] not in line


def test_the_notifier_has_its_own_component_on_aws_and_is_refused_locally(
    moto: MotoDeployment, tmp_path: Path
) -> None:
    now = time.time()
    notifier = spec.function_log_group(NAME, "notifier")
    moto.log(notifier, "2026/11/26/[$LATEST]n", [(now - 20, "alarm dead-letters told on Telegram")])
    moto.log(WATCHDOG, "2026/11/26/[$LATEST]c", [(now - 10, "agent idle, nothing to do")])

    only = records(run("--since", "10m", "--component", "notifier", "--json").stdout)
    assert [(r["component"], r["message"]) for r in only] == [
        ("notifier", "alarm dead-letters told on Telegram")
    ]
    everything = records(run("--since", "10m", "--json").stdout)
    assert {r["component"] for r in everything} == {"notifier", "watchdog"}
    assert complete("openclaw-deploy logs --component n") == ["notifier"]

    local = tmp_path / "local.yaml"
    local.write_text("version: 1\ndefault: agent\ndeployments:\n  agent:\n    target: local\n")
    refused = CliRunner().invoke(app, ["--config", str(local), "logs", "--component", "notifier"])
    assert refused.exit_code == 2
    assert "The notifier log exists on AWS only" in " ".join(refused.output.split())
