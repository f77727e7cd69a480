"""Cold import time of each Lambda handler module beside `import boto3`, in one run.

Each sample is a fresh interpreter timing one import statement with perf_counter (interpreter
start-up excluded: it is the same for all), as Lambda's init imports the handler module. Modules
are sampled interleaved, round by round, so a busy machine slows all of them alike; medians and
minimums are both shown. Goal: every handler ≤ 1.15 × `import boto3`.

A second table imports boto3 first and then the handler in the same interpreter: the time the
handler adds on top of boto3 (our own modules).

Why each handler module says `import boto3` itself: on CPython 3.11 the very same boto3 import
ran ~10 % slower when it first happened three imports deep (handler → _common → runtime.aws →
boto3) than at the top of the handler module — the work is identical, only the depth differs.

    .venv/bin/python bench/handler_imports.py [--rounds 21]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HANDLERS = [
    "openclaw_deploy.handlers.api",
    "openclaw_deploy.handlers.ws",
    "openclaw_deploy.handlers.telegram_webhook",
    "openclaw_deploy.handlers.watchdog",
]
GOAL = 1.15
ALONE = "import time; t0 = time.perf_counter(); import {name}; print(time.perf_counter() - t0)"
AFTER_BOTO = (
    "import time; t0 = time.perf_counter(); import boto3; t1 = time.perf_counter(); "
    "import {name}; print(t1 - t0, time.perf_counter() - t1)"
)


def run(code: str) -> list[float]:
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": ""},
    )
    return [float(value) for value in result.stdout.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    modules = ["boto3", *HANDLERS]
    for name in modules:  # warm the file cache and write .pyc files first
        run(ALONE.format(name=name))

    alone: dict[str, list[float]] = {name: [] for name in modules}
    added: dict[str, list[float]] = {name: [] for name in HANDLERS}
    for _ in range(args.rounds):
        for name, values in alone.items():
            values.append(run(ALONE.format(name=name))[0])
        for name, values in added.items():
            values.append(run(AFTER_BOTO.format(name=name))[1])

    base_median = statistics.median(alone["boto3"])
    base_min = min(alone["boto3"])
    print(f"cold import, {args.rounds} interleaved rounds, a fresh interpreter per sample")
    print()
    print(f"{'module':42} {'median ms':>10} {'ratio':>6} {'min ms':>8} {'ratio':>6}")
    worst = 0.0
    for name, values in alone.items():
        median, least = statistics.median(values), min(values)
        if name != "boto3":
            worst = max(worst, median / base_median)
        print(
            f"{name:42} {median * 1000:10.1f} {median / base_median:5.2f}x "
            f"{least * 1000:8.1f} {least / base_min:5.2f}x"
        )
    print()
    print("added on top of an already imported boto3 (our own modules), median ms")
    for name, values in added.items():
        print(f"{name:42} {statistics.median(values) * 1000:10.1f}")
    print()
    verdict = "met" if worst <= GOAL else "NOT met"
    print(f"worst median ratio {worst:.2f}x (goal ≤ {GOAL:.2f}x: {verdict})")


if __name__ == "__main__":
    main()
