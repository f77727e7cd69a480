"""Synth time of the embedded CDK app in a fresh process, beside CDK's own floor.

Runs, interleaved and each in a new Python process: (1) a bare `import aws_cdk` plus the
synthesis of an empty stack with the same App options, (2) the same with CDK's default App
options (as a plain CDK user has them), and (3) the full openclaw-deploy synthesis of the
default deployment for a concrete account with real availability zones — what `deploy` does.
Prints the median wall time of each (interpreter start included) and the ratio full / bare.

    python bench/synth_time.py [ROUNDS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_SECONDS = 6.0
GOAL_RATIO = 1.5

PRELUDE = """
import os, sys
from openclaw_deploy.infra.app import use_bundled_node
use_bundled_node()
out = sys.argv[1]
"""
BARE = (
    PRELUDE
    + """
import aws_cdk as cdk
app = cdk.App(outdir=out, analytics_reporting=False, stack_traces=False, tree_metadata=False,
              builtin_cloud_formation_validation=False)
cdk.Stack(app, "empty")
app.synth()
"""
)
BARE_DEFAULTS = (
    PRELUDE
    + """
import aws_cdk as cdk
app = cdk.App(outdir=out)
cdk.Stack(app, "empty")
app.synth()
"""
)
FULL = (
    PRELUDE
    + """
from pathlib import Path
from openclaw_deploy.infra.app import synthesize
from openclaw_deploy.infra.spec import InfraSpec
from openclaw_deploy.runtime import resources
spec = InfraSpec(
    name="bench", region="us-east-1", account="123456789012",
    availability_zones=("us-east-1a", "us-east-1b"), owner_email="me@example.com",
    model="claude-sonnet-4-5",
    secret_parameters={s.key: s.parameter_name("bench") for s in resources.SECRETS},
)
synthesize(spec, Path(out))
"""
)
CASES = {
    "bare: import aws_cdk + empty stack (same App options)": BARE,
    "bare: import aws_cdk + empty stack (CDK default App)": BARE_DEFAULTS,
    "full: openclaw-deploy stack (account + real AZs)": FULL,
}


def _run(code: str, workdir: Path) -> float:
    out = tempfile.mkdtemp(dir=workdir)
    Path(out).rmdir()  # synthesize() wants to create it
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code, out], check=True, capture_output=True, env=dict(os.environ)
    )
    return time.perf_counter() - started


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    times: dict[str, list[float]] = {name: [] for name in CASES}
    with tempfile.TemporaryDirectory(prefix="synth-bench-") as folder:
        workdir = Path(folder)
        for code in CASES.values():  # warm the OS file cache and .pyc files once
            _run(code, workdir)
        for _ in range(rounds):
            for name, code in CASES.items():
                times[name].append(_run(code, workdir))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(
        f"synth time, median of {rounds} fresh processes each (interleaved), "
        f"load {os.getloadavg()[0]:.1f}:"
    )
    for name, value in medians.items():
        spread = f"{min(times[name]):.2f}-{max(times[name]):.2f}"
        print(f"  {value:6.2f} s  ({spread})  {name}")
    names = list(CASES)
    full, bare, default = medians[names[2]], medians[names[0]], medians[names[1]]
    print(f"  ratio full / bare (same options): {full / bare:.2f}x   (goal <= {GOAL_RATIO}x)")
    print(f"  ratio full / bare (CDK defaults): {full / default:.2f}x")
    print(f"  full synth: {full:.2f} s   (goal <= {GOAL_SECONDS} s)")


if __name__ == "__main__":
    main()
