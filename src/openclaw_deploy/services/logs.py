"""`logs`: one merged, time-ordered view of a deployment's logs, with `--follow`.

A source yields `LogLine`s for a component. The local target's source reads the log files the
local cloud writes (one per component); `follow` polls them for appended lines, so it never shows
a line twice and never skips one, and stops when the caller stops iterating (Ctrl-C).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from openclaw_deploy.errors import UsageError

COMPONENTS: Final = ("agent", "gateway", "telegram", "watchdog", "daemon")
"""agent: the bridge and OpenClaw; gateway: the HTTP/WebSocket handlers; telegram: the webhook;
watchdog: the scheduled checks; daemon: the local cloud itself (local target only)."""
_STAMP: Final = re.compile(r"^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})(?:[,.](\d{1,6}))?")
_SINCE: Final = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_EXITED: Final = re.compile(r"--- task (\S+) exited")
"""The local Fargate's line after each task's output."""


@dataclass(frozen=True)
class LogLine:
    timestamp: float
    component: str
    message: str


def parse_since(value: str | None, *, now: float) -> float | None:
    """`10m`, `2h`, `1d`, `30s` or an ISO time → epoch seconds; None means from the start."""
    if value is None:
        return None
    match = _SINCE.match(value.strip())
    if match:
        return now - int(match.group(1)) * _UNITS[match.group(2)]
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--since {value!r} is not a duration or a time.",
            hint="use a duration such as 10m, 2h, 1d, or a time such as 2026-11-26T09:00",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def check_components(requested: list[str]) -> list[str]:
    if not requested or "all" in requested:
        return list(COMPONENTS)
    unknown = [c for c in requested if c not in COMPONENTS]
    if unknown:
        raise UsageError(
            f"Unknown component {unknown[0]!r}.",
            hint=f"use --component with one of: {', '.join(COMPONENTS)}, all",
        )
    return requested


def _stamp(line: str) -> float | None:
    match = _STAMP.match(line)
    if not match:
        return None
    moment = datetime.fromisoformat(match.group(1).replace(" ", "T")).replace(tzinfo=UTC)
    fraction = match.group(2)
    return moment.timestamp() + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


class FileTail:
    """Reads whole lines appended to one log file; lines without a time take the one before."""

    def __init__(self, path: Path, component: str, *, only: str | None = None) -> None:
        self.path = path
        self.component = component
        self.only = only
        self._offset = 0
        self._partial = b""
        self._last = 0.0

    def read(self) -> list[LogLine]:
        try:
            with self.path.open("rb") as stream:
                stream.seek(self._offset)
                data = stream.read()
        except FileNotFoundError:
            return []
        if not data:
            return []
        self._offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()  # an unfinished last line waits for its end
        out = []
        for raw in lines:
            text = raw.decode("utf-8", errors="replace").rstrip("\r")
            if not text:
                continue
            stamp = _stamp(text)
            if stamp is not None:
                self._last = stamp
            if self.only and self.only not in text:
                continue
            out.append(LogLine(self._last, self.component, text))
        return out


def local_sources(logs_dir: Path, components: list[str]) -> list[FileTail]:
    files = {
        "agent": "agent.log",
        "gateway": "gateway.log",
        "watchdog": "watchdog.log",
        "daemon": "daemon.log",
    }
    tails = [FileTail(logs_dir / files[c], c) for c in components if c in files]
    if "telegram" in components and "gateway" not in components:
        # Locally the webhook handler logs with the other handlers: pick its lines out.
        tails.append(FileTail(logs_dir / files["gateway"], "telegram", only="telegram"))
    return tails


def previous_task(lines: list[LogLine]) -> list[LogLine]:
    """The lines of the last agent task that has ended (`--previous`)."""
    ends = [i for i, line in enumerate(lines) if _EXITED.search(line.message)]
    if not ends:
        return []
    end = ends[-1]
    match = _EXITED.search(lines[end].message)
    started = f"--- task {match.group(1) if match else ''} started"
    start = next((i for i in range(end, -1, -1) if started in lines[i].message), 0)
    return lines[start : end + 1]


def _keep(line: LogLine, since: float | None, needle: str | None) -> bool:
    if since is not None and line.timestamp < since:
        return False
    return needle is None or needle.lower() in line.message.lower()


def read_logs(
    sources: list[FileTail],
    *,
    since: float | None,
    needle: str | None,
    follow: bool,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = 0.5,
) -> Iterator[LogLine]:
    """Everything so far, merged in time order; then, with `follow`, new lines as they come."""
    backlog = [line for source in sources for line in source.read() if _keep(line, since, needle)]
    yield from sorted(backlog, key=lambda line: line.timestamp)
    while follow:
        sleep(interval)
        fresh = [line for source in sources for line in source.read() if _keep(line, None, needle)]
        yield from sorted(fresh, key=lambda line: line.timestamp)
