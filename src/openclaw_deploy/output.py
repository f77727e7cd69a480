"""Everything the CLI prints goes through here: progress on stderr, results on stdout.

Services never print. They return a small dataclass and report progress through a `Reporter`
the CLI hands in: a live spinner with a timer at a terminal, plain time-stamped lines otherwise
(CI logs, pipes). `emit` turns a result into rich text or `--json`.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from rich.console import Console

T = TypeVar("T")


class Reporter(Protocol):
    """How long work tells the user where it is."""

    def step(self, message: str) -> None: ...

    def done(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...

    def task(self, message: str) -> Any:  # a context manager; Any keeps Protocol simple
        ...


class ConsoleReporter:
    """Spinner with elapsed time at a terminal; plain lines with timings elsewhere."""

    def __init__(self, console: Console, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._console = console
        self._clock = clock
        self._live = console.is_terminal and not console.is_dumb_terminal

    def step(self, message: str) -> None:
        self._console.print(f"[cyan]›[/] {message}", highlight=False)

    def done(self, message: str) -> None:
        self._console.print(f"[green]✓[/] {message}", highlight=False)

    def warn(self, message: str) -> None:
        self._console.print(f"[yellow]![/] {message}", highlight=False)

    @contextmanager
    def task(self, message: str) -> Iterator[None]:
        start = self._clock()
        if self._live:
            from rich.live import Live
            from rich.spinner import Spinner

            # The elapsed time ticks beside the spinner: a long wait is visibly not a hang.
            spinner = Spinner("dots", text=message)

            def frame() -> Spinner:
                spinner.update(text=f"{message} ({self._clock() - start:.0f}s)")
                return spinner

            with Live(get_renderable=frame, console=self._console, transient=True):
                yield
        else:
            self._console.print(f"… {message}", highlight=False)
            yield
        self.done(f"{message} ({self._clock() - start:.1f}s)")


class RecordingReporter:
    """A reporter that keeps what it was told; for tests of services."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, message: str) -> None:
        self.lines.append(f"step: {message}")

    def done(self, message: str) -> None:
        self.lines.append(f"done: {message}")

    def warn(self, message: str) -> None:
        self.lines.append(f"warn: {message}")

    @contextmanager
    def task(self, message: str) -> Iterator[None]:
        self.lines.append(f"task: {message}")
        yield


def make_consoles() -> tuple[Console, Console]:
    """(stdout, stderr) consoles. Colour follows the terminal and NO_COLOR."""
    return Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)


def to_jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def emit(
    console: Console, result: T, *, as_json: bool, render: Callable[[Console, T], None]
) -> None:
    """Print a command's result: JSON on stdout for scripts, or the command's own rendering."""
    if as_json:
        sys.stdout.write(json.dumps(to_jsonable(result), indent=2, sort_keys=False) + "\n")
        sys.stdout.flush()
    else:
        render(console, result)


def recommend(console: Console, *commands: tuple[str, str]) -> None:
    """The 'what next' block every command ends with: (command, why) pairs."""
    if not commands:
        return
    console.print("\n[bold]Next:[/]", highlight=False)
    for command, why in commands:
        console.print(f"  [bold cyan]{command}[/]  {why}", highlight=False)
