"""`logs`: merging component logs in time order, following without duplicates or gaps."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from openclaw_deploy.errors import UsageError
from openclaw_deploy.services.logs import (
    FileTail,
    check_components,
    local_sources,
    parse_since,
    previous_task,
    read_logs,
)


def stamp(offset: float, base: float = 1_790_000_000.0) -> str:
    moment = base + offset
    return (
        time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(moment)) + f",{int(moment % 1 * 1000):03d}"
    )


def test_lines_from_several_components_come_out_in_time_order(tmp_path: Path) -> None:
    (tmp_path / "agent.log").write_text(
        f"{stamp(1)} agent one\n{stamp(3)} agent two\n  continued\n"
    )
    (tmp_path / "gateway.log").write_text(f"{stamp(2)} gateway one\n{stamp(4)} gateway two\n")
    lines = list(
        read_logs(
            local_sources(tmp_path, ["agent", "gateway"]), since=None, needle=None, follow=False
        )
    )
    assert [line.message for line in lines] == [  # each line's own time is shown once, before it
        "agent one",
        "gateway one",
        "agent two",
        "  continued",  # a continuation line keeps its indent
        "gateway two",
    ]
    assert [line.component for line in lines] == ["agent", "gateway", "agent", "agent", "gateway"]


def test_since_and_filter(tmp_path: Path) -> None:
    (tmp_path / "agent.log").write_text(
        f"{stamp(0)} old ERROR\n{stamp(100)} new error\n{stamp(101)} fine\n"
    )
    lines = list(
        read_logs(
            local_sources(tmp_path, ["agent"]), since=1_790_000_050.0, needle="error", follow=False
        )
    )
    assert [(line.timestamp, line.message) for line in lines] == [(1_790_000_100.0, "new error")]


def test_follow_under_concurrent_writes_has_no_duplicate_and_no_gap(tmp_path: Path) -> None:
    path = tmp_path / "agent.log"
    path.write_text("")
    total = 400

    def writer() -> None:
        with path.open("a", encoding="utf-8") as stream:
            for i in range(total):
                # Half lines on purpose: the reader must wait for the end of a line.
                stream.write(f"{stamp(i)} line {i:04d}")
                stream.flush()
                stream.write("\n")
                stream.flush()
                if i % 50 == 0:
                    time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    seen: list[str] = []
    deadline = time.monotonic() + 30
    for line in read_logs(
        [FileTail(path, "agent")], since=None, needle=None, follow=True, interval=0.01
    ):
        seen.append(line.message.rsplit(" ", 1)[-1])
        if len(seen) == total or time.monotonic() > deadline:
            break
    thread.join()
    assert seen == [f"{i:04d}" for i in range(total)]


def test_previous_shows_the_last_task_that_ended(tmp_path: Path) -> None:
    (tmp_path / "agent.log").write_text(
        f"{stamp(0)} --- task aaa started\n{stamp(1)} first task\n"
        f"{stamp(2)} --- task aaa exited with 0\n"
        f"{stamp(3)} --- task bbb started\n{stamp(4)} second task\n"
        f"{stamp(5)} --- task bbb exited with 1\n"
        f"{stamp(6)} --- task ccc started\n{stamp(7)} still running\n"
    )
    lines = list(
        read_logs(local_sources(tmp_path, ["agent"]), since=None, needle=None, follow=False)
    )
    chosen = [line.message for line in previous_task(lines)]
    assert chosen == ["--- task bbb started", "second task", "--- task bbb exited with 1"]


def test_bad_component_and_since_are_clear_errors() -> None:
    with pytest.raises(UsageError, match="Unknown component 'db'"):
        check_components(["db"])
    with pytest.raises(UsageError, match="not a duration or a time"):
        parse_since("soon", now=0)
    assert parse_since("10m", now=1000.0) == 400.0
    assert parse_since("2026-11-26T09:00", now=0) == 1795683600.0
    assert check_components(["all"]) == check_components([])


def test_previous_takes_a_task_the_row_no_longer_holds_before_its_exit_line(
    tmp_path: Path,
) -> None:
    """`stop` returns once the row is Idle; the process logs its exit some seconds later."""
    (tmp_path / "agent.log").write_text(
        f"{stamp(0)} --- task aaa started\n{stamp(1)} first task\n"
        f"{stamp(2)} --- task aaa exited with 0\n"
        f"{stamp(3)} --- task bbb started\n{stamp(4)} final backup\n"
    )
    lines = list(
        read_logs(local_sources(tmp_path, ["agent"]), since=None, needle=None, follow=False)
    )
    asleep = [line.message for line in previous_task(lines, alive=lambda t: False)]
    assert asleep == ["--- task bbb started", "final backup"]
    awake = previous_task(lines, alive=lambda task: task == "bbb")
    assert [line.message for line in awake][-1] == "--- task aaa exited with 0"


def test_previous_through_the_cli_keeps_its_task_when_filtered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from openclaw_deploy.cli.app import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "openclaw-deploy.yaml").write_text(
        "version: 1\ndeployments:\n  agent:\n    target: local\n"
    )
    logs = tmp_path / ".openclaw-deploy" / "local" / "agent" / "logs"
    logs.mkdir(parents=True)
    (logs / "agent.log").write_text(
        f"{stamp(0)} --- task aaa started\n{stamp(1)} first task ERROR\n"
        f"{stamp(2)} --- task aaa exited with 0\n"
        f"{stamp(3)} --- task bbb started\n{stamp(4)} second task ERROR\n{stamp(5)} fine\n"
    )
    # The local cloud is not running, so no task is: bbb ended with it (no exit line).
    result = CliRunner().invoke(app, ["logs", "--previous", "--filter", "error"])
    assert result.exit_code == 0, result.output
    # One time per line: the event's, then the component, then the message without its stamp.
    assert result.stdout.splitlines() == [f"{stamp(4)[11:19]} agent    second task ERROR"]
