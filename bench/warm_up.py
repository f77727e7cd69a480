"""The first message to an agent that woke without one (the warm window, the web chat's wake on
typing, Start): with the bridge's warm-up turn against without it, side by side in one run.

Each round starts a fresh local target at the default size (0.5 vCPU / 2 GB), starts the agent
with `openclaw-deploy start`, waits until it is ready and, with the warm-up on, until the
bridge logged the warm-up turn (off: the same few seconds), then sends one web message and
times its first streamed token. Off is `OPENCLAW_BRIDGE_WARM_UP=0` in the task's environment.
Rounds are interleaved, so the machine's load hits both alike.

    OPENCLAW_DEPLOY_CACHE=.cache/openclaw-deploy .venv/bin/python bench/warm_up.py \
        [--rounds 2] [--image]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cold_start import TASK_ENV
from local_target import PASSWORD, cli, wait_until, ws_first_token

READY = re.compile(r"agent ready in ([\d.]+) s")
WARMED = re.compile(r"warmed OpenClaw's first turn in ([\d.]+) s")
FIRST_TEXT = re.compile(r"answered \S+ \(web\) in [\d.]+ s, first text after (\d+) ms")
SETTLE_SECONDS = 3.0  # off: as long as the warm-up would wait before it begins, and a little


def measure(warm_up: bool, image: bool) -> tuple[float, float | None, float | None]:
    """(first token seen by the web client, the bridge's first-text figure, warm-up seconds)."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-warm-"))
    home = workdir / ".openclaw-deploy" / "local" / "agent"
    saved = os.environ.get(TASK_ENV)
    os.environ[TASK_ENV] = json.dumps(
        {"OPENCLAW_BRIDGE_READY_TIMEOUT_SECONDS": "300"}
        | ({} if warm_up else {"OPENCLAW_BRIDGE_WARM_UP": "0"})
    )
    try:
        base = ("--target", "local", "--yes", "--owner-password", PASSWORD, "--json")
        result = cli(workdir, "init", *base, "--image" if image else "--no-image")
        access = json.loads(result.stdout)
        access = access.get("local", access)
        agent_log = home / "logs" / "agent.log"
        try:
            cli(workdir, "start")
            wait_until(lambda: READY.search(agent_log.read_text(errors="replace")), 600)
            if warm_up:
                wait_until(lambda: WARMED.search(agent_log.read_text(errors="replace")), 300)
            else:
                time.sleep(SETTLE_SECONDS)
            first = asyncio.run(
                ws_first_token(access["api_url"], access["ws_url"], "bench-warm", "warm-1")
            )
            wait_until(lambda: FIRST_TEXT.search(agent_log.read_text(errors="replace")), 60)
        finally:
            pid = json.loads((home / "state.json").read_text())["pid"]
            os.kill(pid, signal.SIGTERM)
            wait_until(lambda: not Path(f"/proc/{pid}").exists(), 200)
    finally:
        if saved is None:
            os.environ.pop(TASK_ENV, None)
        else:
            os.environ[TASK_ENV] = saved
    log = agent_log.read_text(errors="replace")
    text = FIRST_TEXT.search(log)
    warmed = WARMED.search(log)
    return (
        first,
        int(text.group(1)) / 1000 if text else None,
        float(warmed.group(1)) if warmed else None,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--image", action="store_true", help="the real image (default: process)")
    args = parser.parse_args()
    results: dict[bool, list[tuple[float, float | None, float | None]]] = {False: [], True: []}
    for round_number in range(args.rounds):
        for warm_up in (False, True):
            run = measure(warm_up, args.image)
            results[warm_up].append(run)
            label = "on" if warm_up else "off"
            print(
                f"round {round_number + 1}, warm-up {label}: first token {run[0]:.2f} s",
                file=sys.stderr,
            )

    def median(values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return statistics.median(known) if known else None

    def cell(value: float | None) -> str:
        return f"{value:>10.2f}" if value is not None else f"{'-':>10}"

    mode = "image" if args.image else "process mode"
    print(f"a woken agent's first message, local target, 0.5 vCPU / 2 GB, {mode}, medians")
    print(f"{'':36}{'off':>10}{'on':>10}")
    rows = (
        ("message -> first token (s)", 0),
        ("bridge: first text (s)", 1),
        ("warm-up turn (s)", 2),
    )
    for label, index in rows:
        off = median([run[index] for run in results[False]])
        on = median([run[index] for run in results[True]])
        print(f"{label:36}{cell(off)}{cell(on)}")
    off_first = median([run[0] for run in results[False]])
    on_first = median([run[0] for run in results[True]])
    if off_first and on_first:
        print(f"ratio on/off, first token: {on_first / off_first:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
