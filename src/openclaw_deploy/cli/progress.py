"""Rendering a stack operation's progress: live per-resource timers at a terminal, plain lines
with durations otherwise (CI logs, pipes)."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Final

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from openclaw_deploy.aws.cloudformation import IN_PROGRESS_SUFFIX, ResourceProgress

MAX_LIVE_ROWS: Final = 12


def _style(status: str) -> str:
    if status.endswith("FAILED"):
        return "red"
    if "ROLLBACK" in status:
        return "yellow"
    if status.endswith("COMPLETE"):
        return "green"
    return "cyan"


def _short(resource_type: str) -> str:
    return resource_type.removeprefix("AWS::").replace("::", " ")


class ConsoleStackProgress:
    """A `StackProgress` for a console. Use as a context manager around the operation."""

    def __init__(self, console: Console, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._console = console
        self._clock = clock
        self._live_mode = console.is_terminal and not console.is_dumb_terminal
        self._running: dict[str, tuple[str, str, float]] = {}
        self._started = clock()
        self._done = 0
        self._stack_status = ""
        self._live: Live | None = None

    def __enter__(self) -> ConsoleStackProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.finish()

    def start(self, stack: str) -> None:
        """A stack operation begins: at a terminal, a live table until `finish`."""
        self.finish()
        self._running.clear()
        self._done = 0
        self._stack_status = ""
        self._started = self._clock()
        if self._live_mode:
            self._live = Live(
                get_renderable=self._render,
                console=self._console,
                refresh_per_second=4,
                transient=True,
            )
            self._live.start()

    def finish(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _print(self, renderable: RenderableType) -> None:
        self._console.print(renderable, highlight=False)

    def resource(self, progress: ResourceProgress) -> None:
        if progress.status.endswith(IN_PROGRESS_SUFFIX):
            _, _, since = self._running.get(progress.name, ("", "", self._clock()))
            self._running[progress.name] = (progress.status, progress.resource_type, since)
            if self._live is None:
                self._line(progress, None)
            return
        self._running.pop(progress.name, None)
        self._done += 1
        self._line(progress, progress.seconds)

    def _line(self, progress: ResourceProgress, seconds: float | None) -> None:
        elapsed = f"{self._clock() - self._started:5.0f}s"
        took = f" ({seconds:.0f}s)" if seconds is not None else ""
        line = Text.assemble(
            (f"{elapsed}  ", "dim"),
            (f"{progress.status:<22}", _style(progress.status)),
            f" {progress.name}",
            (f"  {_short(progress.resource_type)}{took}", "dim"),
        )
        self._print(line)
        if progress.reason and progress.status.endswith("FAILED"):
            self._print(Text(f"        {progress.reason}", style="red"))

    def stack(self, status: str, reason: str | None) -> None:
        self._stack_status = status
        if self._live is None or not status.endswith(IN_PROGRESS_SUFFIX):
            suffix = f": {reason}" if reason and "FAILED" in status else ""
            self._print(Text(f"stack {status}{suffix}", style=_style(status)))

    def _render(self) -> RenderableType:
        now = self._clock()
        table = Table.grid(padding=(0, 2))
        rows = sorted(self._running.items(), key=lambda item: item[1][2])
        for name, (status, resource_type, since) in rows[:MAX_LIVE_ROWS]:
            table.add_row(
                Text(f"{now - since:4.0f}s", style="dim"),
                Text(status, style=_style(status)),
                name,
                Text(_short(resource_type), style="dim"),
            )
        more = len(rows) - MAX_LIVE_ROWS
        header = Text(
            f"{self._stack_status or 'waiting for CloudFormation'} · {self._done} done · "
            f"{len(rows)} in progress · {now - self._started:.0f}s"
            + (f" (+{more} more)" if more > 0 else ""),
            style="bold",
        )
        return Group(header, table)
