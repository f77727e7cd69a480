"""Whether this start gives OpenClaw its browser tool, and on which Chromium.

The owner turns the browser on in the settings (`openclaw-deploy config set browser on` or the
web settings page); it applies from the agent's next start. The bridge gives it to OpenClaw only
when a Chromium is installed and the task has the memory for it: a task smaller than
`BROWSER_MEMORY_MIB` keeps the browser off and says why, rather than letting a page load kill the
agent. `openclaw-deploy config set browser on` and `deploy` give the task both: Debian's Chromium
in its image (only then: it adds about 680 MB) and the memory.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from openclaw_bridge.render import CHROMIUM_NAMES, BrowserChoice
from openclaw_deploy.runtime.settings import BROWSER_MEMORY_MIB

log = logging.getLogger("openclaw_bridge.browser")

ENV_CHROMIUM: Final = "OPENCLAW_BRIDGE_CHROMIUM"
"""The Chromium to use instead of the one on PATH."""
ENV_ALLOWED_HOSTS: Final = "OPENCLAW_BRIDGE_BROWSER_ALLOWED_HOSTS"
"""Comma-separated private hosts the browser may open (tests serve pages on 127.0.0.1)."""
CGROUP_ROOT: Final = Path("/sys/fs/cgroup")
PROC_CGROUP: Final = Path("/proc/self/cgroup")
NO_LIMIT_MIB: Final = 1 << 20
"""A v1 "limit" of a terabyte or more is no limit."""
MEMORY_SLACK: Final = 0.9
"""A task within 10% of the browser's size still gets it (a limit is rarely a round number)."""


@dataclass(frozen=True, kw_only=True)
class BrowserDecision:
    choice: BrowserChoice
    reason: str


def _limit_files(root: Path, proc_cgroup: Path) -> list[Path]:
    """Where this process's memory limit can be read: its own group first (a local task's
    cgroup v1 group sits inside the machine's hierarchy), then the root of what it sees (a
    container's own view, as on Fargate)."""
    files: list[Path] = []
    try:
        lines = proc_cgroup.read_text(encoding="ascii").splitlines()
    except OSError:
        lines = []
    for line in lines:
        _, controllers, group = line.split(":", 2)
        if "memory" in controllers.split(","):
            files.append(root / "memory" / group.lstrip("/") / "memory.limit_in_bytes")
        elif controllers == "":
            files.append(root / group.lstrip("/") / "memory.max")
    files += [root / "memory" / "memory.limit_in_bytes", root / "memory.max"]
    return files


def memory_limit_mib(root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_CGROUP) -> int | None:
    """The task's memory limit from its cgroup (v1 or v2), or None when it has none."""
    for path in _limit_files(root, proc_cgroup):
        try:
            text = path.read_text(encoding="ascii").strip()
        except OSError:
            continue
        if text.isdigit() and int(text) // (1024 * 1024) < NO_LIMIT_MIB:
            return int(text) // (1024 * 1024)
    return None


def find_chromium(environ: Mapping[str, str]) -> str | None:
    explicit = environ.get(ENV_CHROMIUM, "").strip()
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name, path=environ.get("PATH"))
        if found:
            return found
    return None


def choose_browser(
    wanted: bool,
    *,
    environ: Mapping[str, str] | None = None,
    memory_mib: int | None = None,
) -> BrowserDecision:
    """The browser for this start (`wanted`: the owner's setting; `memory_mib`: the task's
    limit, read from its cgroup when not given)."""
    env = os.environ if environ is None else environ
    if not wanted:
        return BrowserDecision(choice=BrowserChoice(), reason="off in the settings")
    executable = find_chromium(env)
    if executable is None:
        return BrowserDecision(
            choice=BrowserChoice(),
            reason=(
                "on in the settings, but no Chromium is installed (the image carries it after "
                "`openclaw-deploy config set browser on` and `openclaw-deploy deploy`)"
            ),
        )
    limit = memory_limit_mib() if memory_mib is None else memory_mib
    if limit is not None and limit < BROWSER_MEMORY_MIB * MEMORY_SLACK:
        return BrowserDecision(
            choice=BrowserChoice(),
            reason=(
                f"on in the settings, but the task has {limit} MiB and the browser needs "
                f"{BROWSER_MEMORY_MIB}: run `openclaw-deploy config set browser on` to resize it"
            ),
        )
    hosts = tuple(h.strip() for h in env.get(ENV_ALLOWED_HOSTS, "").split(",") if h.strip())
    return BrowserDecision(
        choice=BrowserChoice(executable=executable, allowed_hosts=hosts),
        reason=f"on ({executable})",
    )
