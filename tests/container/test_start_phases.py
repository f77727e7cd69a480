"""OpenClaw's start by its own phases, read from its log file (the bridge logs them at ready)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openclaw_bridge.gateway import openclaw_start_phases

SPAWN = datetime(2026, 11, 30, 10, 0, 0, tzinfo=UTC).timestamp()


def _record(seconds: float, message: str) -> str:
    at = datetime.fromtimestamp(SPAWN + seconds, tz=UTC).isoformat(timespec="milliseconds")
    return json.dumps(
        {"0": '{"subsystem":"gateway"}', "1": message, "time": at, "message": message}
    )


def _log(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "openclaw.log"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_each_phase_runs_from_the_previous_milestone(tmp_path: Path) -> None:
    log = _log(
        tmp_path,
        [
            _record(-30, "gateway ready"),  # an earlier start in the same file does not count
            _record(14.5, "loading configuration…"),
            _record(15.0, "resolving authentication…"),
            "not a record",
            _record(21.5, "starting HTTP server..."),
            _record(23.0, "http server listening (4 plugins: anthropic, github; 8.6s)"),
            _record(29.0, "gateway ready"),
            _record(40.0, "gateway ready"),  # only the first one counts
        ],
    )
    phases = openclaw_start_phases(log.read_text(), SPAWN, 30.0)
    assert phases == pytest.approx(
        {"modules": 14.5, "config": 7.0, "http": 1.5, "sidecars": 6.0, "readyz": 1.0}, abs=0.01
    )


def test_missing_milestones_are_left_out_and_a_missing_file_gives_nothing(
    tmp_path: Path,
) -> None:
    log = _log(tmp_path, [_record(10.0, "loading configuration…"), _record(20.0, "gateway ready")])
    assert openclaw_start_phases(log.read_text(), SPAWN, 21.0) == pytest.approx(
        {"modules": 10.0, "sidecars": 10.0, "readyz": 1.0}, abs=0.01
    )
    assert openclaw_start_phases("", SPAWN, 5.0) == {}  # a log that could not be read
