"""`openclaw-deploy --help` wall time beside `aws --version`, measured side by side in one run.

awscli goes into its own virtualenv under .cache/bench (it pins botocore exactly, which must not
touch the project's environment). Median of N runs each, interleaved so both see the same machine.

    .venv/bin/python bench/cli_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AWSCLI_VENV = REPO / ".cache" / "bench" / "awscli"


def awscli() -> list[str]:
    aws = AWSCLI_VENV / "bin" / "aws"
    if not aws.exists():
        subprocess.run([sys.executable, "-m", "venv", str(AWSCLI_VENV)], check=True)
        subprocess.run([str(AWSCLI_VENV / "bin" / "pip"), "install", "-q", "awscli"], check=True)
    return [str(aws), "--version"]


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    ours = [str(Path(sys.executable).parent / "openclaw-deploy"), "--help"]
    theirs = awscli()
    wall(ours), wall(theirs)  # warm the file cache for both
    a, b = [], []
    for _ in range(args.runs):
        a.append(wall(ours))
        b.append(wall(theirs))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"openclaw-deploy --help  median {ma * 1000:6.0f} ms  (runs: {args.runs})")
    print(f"aws --version           median {mb * 1000:6.0f} ms")
    print(f"ratio                   {ma / mb:.2f}x  (goal <= 0.50x)")


if __name__ == "__main__":
    main()
