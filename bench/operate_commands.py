"""`status` and `logs --since 10m` wall time against the local target, beside `aws --version`,
measured side by side in one run (median of N, interleaved so all see the same machine).

It starts a local target in a temporary folder, wakes the agent once (a real OpenClaw, so the
logs hold a task's worth of lines and status reads a running agent), measures, then puts the
agent to sleep and stops the local cloud. awscli is installed aside as in cli_startup.py.

    OPENCLAW_DEPLOY_CACHE=.cache/openclaw-deploy .venv/bin/python bench/operate_commands.py
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cli_startup import awscli, wall

GOAL_SECONDS = 1.0
PASSWORD = "Bench-Owner-Pass-1!"  # noqa: S105 - a throwaway login of a throwaway local target


def ours(workdir: Path, *args: str) -> list[str]:
    return [
        str(Path(sys.executable).parent / "openclaw-deploy"),
        "--config",
        str(workdir / "openclaw-deploy.yaml"),
        *args,
    ]


def run(command: list[str], cwd: Path) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return result.stdout


def stop_local(workdir: Path) -> None:
    state = workdir / ".openclaw-deploy" / "local" / "agent" / "state.json"
    try:
        pid = int(json.loads(state.read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    os.environ["CI"] = "true"
    aws = awscli()
    with tempfile.TemporaryDirectory(prefix="openclaw-bench-") as folder:
        workdir = Path(folder)
        try:
            print("starting a local target and waking its agent ...", flush=True)
            run(
                ours(
                    workdir,
                    "init",
                    "--target",
                    "local",
                    "--yes",
                    "--owner-password",
                    PASSWORD,
                    "--json",
                ),
                workdir,
            )
            woke = json.loads(run(ours(workdir, "start", "--json"), workdir))
            log_bytes = sum(
                p.stat().st_size
                for p in (workdir / ".openclaw-deploy" / "local" / "agent" / "logs").glob("*")
            )
            commands = {
                "openclaw-deploy status": ours(workdir, "status"),
                "openclaw-deploy status --json": ours(workdir, "status", "--json"),
                "openclaw-deploy logs --since 10m": ours(workdir, "logs", "--since", "10m"),
                "aws --version": aws,
            }
            for command in commands.values():  # warm the file cache for each
                wall(command)
            times: dict[str, list[float]] = {name: [] for name in commands}
            for _ in range(args.runs):
                for name, command in commands.items():
                    times[name].append(wall(command))
            run(ours(workdir, "stop", "--json"), workdir)
        finally:
            stop_local(workdir)
    medians = {name: statistics.median(values) for name, values in times.items()}
    reference = medians["aws --version"]
    print(
        f"local target, agent running (woke in {woke['seconds']:.1f}s); "
        f"{log_bytes / 1024:.0f} KiB of logs; median of {args.runs} runs"
    )
    for name, median in medians.items():
        verdict = (
            ""
            if name == "aws --version"
            else (
                f"  {median / reference:4.2f}x aws  goal < {GOAL_SECONDS:.0f} s: "
                + ("met" if median < GOAL_SECONDS else "MISSED")
            )
        )
        print(f"  {name:<36} {median * 1000:6.0f} ms{verdict}")


if __name__ == "__main__":
    main()
