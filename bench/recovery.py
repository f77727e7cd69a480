"""Recovery drills through the local target, before and after, side by side in one run.

Both columns run the same drills (tests/e2e/drills.py) against a fresh local target with the
real OpenClaw and the offline model:

* kill → answer: a reply streams on the web when the agent's container is SIGKILLed; seconds
  from the kill to the message's final reply (and how many final replies it got);
* freeze → replaced: the bridge is SIGSTOPped and sent a message; seconds from the freeze to a
  new task running, and to the answer.

"before" runs the code as it was before the short queue visibility, the keep-alive heartbeat and
the stopped-task events (the parent of the commit that added HEARTBEAT_STALE_SECONDS, or
`--before-ref`), checked out in a temporary git worktree and run from there; "after" runs this
checkout. A "before" drill takes minutes (that is the point): the whole run takes ~25 minutes.

    OPENCLAW_DEPLOY_CACHE=.cache/openclaw-deploy .venv/bin/python bench/recovery.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e import drills  # noqa: E402 - after the path
from tests.e2e.local import PASSWORD, Local, stop  # noqa: E402


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.strip()


def default_before() -> str:
    first = _git(
        "log",
        "--reverse",
        "--format=%H",
        "-S",
        "HEARTBEAT_STALE_SECONDS",
        "--",
        "src/openclaw_deploy/runtime/lifecycle.py",
    ).splitlines()[0]
    return _git("rev-parse", f"{first}^")


@contextmanager
def checkout(ref: str) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="recovery-before-"))
    _git("worktree", "add", "--detach", "--force", str(folder), ref)
    try:
        yield folder
    finally:
        _git("worktree", "remove", "--force", str(folder))
        shutil.rmtree(folder, ignore_errors=True)


def start_local(workdir: Path, source: Path | None) -> Local:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OPENCLAW_"))}
    env["CI"] = "true"
    env["OPENCLAW_DEPLOY_CACHE"] = os.environ.get(
        "OPENCLAW_DEPLOY_CACHE", str(REPO / ".cache" / "openclaw-deploy")
    )
    if source is not None:
        env["PYTHONPATH"] = str(source / "src")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openclaw_deploy",
            "init",
            "--target",
            "local",
            "--yes",
            "--owner-password",
            PASSWORD,
            "--json",
        ],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-2000:])
    access = json.loads(result.stdout)["local"]
    return Local(workdir=workdir, api_url=access["api_url"], ws_url=access["ws_url"])


async def wake(local: Local) -> float:
    chat = drills.Conversation(local)
    await chat.open()
    started = time.monotonic()
    try:
        await chat.send("warm", "warm-1", "wake up")
        await chat.until("chat.final", "warm-1", timeout=300)
        return time.monotonic() - started
    finally:
        await chat.close()


def column(name: str, source: Path | None) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix=f"recovery-{name}-"))
    print(f"[{name}] starting a local target", flush=True)
    local = start_local(workdir, source)
    figures: dict[str, float] = {}
    try:
        figures["cold start (first answer)"] = asyncio.run(wake(local))
        kill = asyncio.run(drills.kill_drill(local, name, timeout=900))
        figures["kill -> answer"] = kill.kill_to_answer
        figures["kill: final replies"] = kill.finals
        print(f"[{name}] kill -> answer {kill.kill_to_answer:.1f} s", flush=True)
        freeze = asyncio.run(drills.freeze_drill(local, name, timeout=1200))
        figures["freeze -> replaced"] = freeze.freeze_to_replaced
        figures["freeze -> answer"] = freeze.freeze_to_answer
        print(f"[{name}] freeze -> replaced {freeze.freeze_to_replaced:.1f} s", flush=True)
    finally:
        try:
            stop(local)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before-ref", help="the code of the 'before' column (a git ref)")
    options = parser.parse_args()
    before_ref = options.before_ref or default_before()
    after = column("after", None)
    with checkout(before_ref) as source:
        before = column("before", source)
    print(f"\nbefore = {before_ref[:12]}, after = this checkout")
    print(f"{'':28} {'before':>10} {'after':>10} {'ratio':>7}")
    for key in after:
        old, new = before.get(key, float("nan")), after[key]
        ratio = f"{old / new:6.1f}x" if new and "replies" not in key else ""
        unit = "" if "replies" in key else " s"
        print(f"{key:28} {old:>8.1f}{unit:2} {new:>8.1f}{unit:2} {ratio:>7}")


if __name__ == "__main__":
    main()
