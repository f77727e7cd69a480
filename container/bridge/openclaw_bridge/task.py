"""Facts about the task the bridge runs in: its ARN and when its process started."""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from openclaw_bridge.config import ENV_ECS_METADATA, ENV_TASK_ARN


def task_arn(environ: Mapping[str, str] | None = None, *, timeout: float = 2.0) -> str:
    """`OPENCLAW_TASK_ARN` (the local target), else the ECS task metadata endpoint (Fargate),
    else a name for this process (a bridge run by hand)."""
    env = os.environ if environ is None else environ
    explicit = env.get(ENV_TASK_ARN, "").strip()
    if explicit:
        return explicit
    metadata = env.get(ENV_ECS_METADATA, "").strip()
    if metadata.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(f"{metadata}/task", timeout=timeout) as answer:  # noqa: S310
                arn = json.loads(answer.read()).get("TaskARN")
            if isinstance(arn, str) and arn:
                return arn
        except (OSError, ValueError):
            pass
    return f"local:{socket.gethostname()}:{os.getpid()}"


def process_started_at() -> float:
    """When this process started (epoch seconds), so start-up timings include interpreter
    start and imports; now, where /proc cannot tell."""
    try:
        stat = Path("/proc/self/stat").read_text()
        # Field 22 (starttime, clock ticks after boot) follows the parenthesised command name.
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        age = max(0.0, uptime - ticks / os.sysconf("SC_CLK_TCK"))
        return time.time() - age
    except (OSError, ValueError, IndexError):
        return time.time()


def start_phases(timings: Mapping[str, float]) -> dict[str, float]:
    """The cold start inside the task as the dashboard shows it: `starting` (process start to
    the restore: interpreter, imports, settings), `restoring` (state from S3) and `loading`
    (OpenClaw until ready), from the bridge's `boot`, `restore` and `openclaw` timings."""
    restore = float(timings.get("restore", 0.0))
    loading = float(timings.get("openclaw", 0.0))
    boot = float(timings.get("boot", restore + loading))
    return {
        "starting": round(max(0.0, boot - restore - loading), 3),
        "restoring": round(restore, 3),
        "loading": round(loading, 3),
    }
