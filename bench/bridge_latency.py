"""What the bridge adds on top of OpenClaw, measured side by side in one run.

1. First token: a message through the whole path (SQS on moto → bridge → OpenClaw → offline
   model → `@connections` stand-in) against OpenClaw's own first token over direct HTTP, on the
   same OpenClaw and the same model, interleaved turn by turn. Goal: ≤ 100 ms at p50.
2. Start: the bridge's start-to-ready (process start → lifecycle row Running) against
   OpenClaw's own spawn-to-`/readyz` in the same start. Goal: ≤ 1 s.
3. Restore: a 50 MB state (incompressible workspace files: the worst case) from S3 on moto,
   through OpenClaw's own `backup restore`. Goal: ≤ 2 s.

Moto and the offline model run as their own processes so they do not share this process's GIL
with the measuring code. The direct path uses the gateway token of the bridge's OpenClaw, read
from the process's environment (/proc): the bench's only way in, as the token is never stored.

    OPENCLAW_DEPLOY_CACHE=.cache .venv/bin/python bench/bridge_latency.py [--turns 15]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src"), str(REPO / "container" / "bridge")]

import httpx  # noqa: E402
from tests.bridge.harness import (  # noqa: E402
    BridgeProcess,
    ConnectionsEndpoint,
    Deployment,
    bridge_env,
    connections_endpoint,
    provision,
    wait_for,
)

from openclaw_bridge.state import StateStore  # noqa: E402
from openclaw_deploy import toolchain  # noqa: E402

GOALS = {"first_token_ms": 100.0, "ready_s": 1.0, "restore_s": 2.0}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def process(
    command: list[str], ready_url: str, env: dict[str, str] | None = None
) -> Iterator[None]:
    proc = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    try:
        wait_for(lambda: _answers(ready_url), 30, what=ready_url)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


def gateway_of(bridge: BridgeProcess) -> tuple[str, str]:
    """(base URL, token) of the OpenClaw the bridge started, from its /proc environment."""
    assert bridge.proc is not None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) != bridge.proc.pid:
                continue
            env = dict(
                item.split("=", 1)
                for item in (entry / "environ").read_bytes().decode().split("\0")
                if "=" in item
            )
        except (OSError, ValueError):
            continue
        if "OPENCLAW_GATEWAY_TOKEN" in env:
            return f"http://127.0.0.1:{env['OPENCLAW_GATEWAY_PORT']}", env["OPENCLAW_GATEWAY_TOKEN"]
    raise RuntimeError("the bridge's OpenClaw was not found")


def direct_first_token(base: str, token: str, session: str, text: str) -> float:
    started = time.monotonic()
    first: float | None = None
    with httpx.stream(
        "POST",
        f"{base}/v1/chat/completions",
        timeout=120,
        headers={"Authorization": f"Bearer {token}", "x-openclaw-session-key": session},
        json={
            "model": "openclaw/default",
            "stream": True,
            "messages": [{"role": "user", "content": text}],
        },
    ) as answer:
        for line in answer.iter_lines():
            if first is None and line.startswith("data: {") and '"content":"' in line:
                chunk = json.loads(line[6:])
                if chunk["choices"][0]["delta"].get("content"):
                    first = time.monotonic() - started
    assert first is not None
    return first


def bridge_first_token(
    deployment: Deployment, connections: ConnectionsEndpoint, session: str, text: str
) -> float:
    started = time.monotonic()
    msg = deployment.send(text, session=session)
    wait_for(
        lambda: connections.frames(kind="chat.final", message_id=msg.message_id),
        120,
        interval=0.02,
        what="the reply",
    )
    first = min(
        at for frame, at in connections.timed(msg.message_id) if frame["type"] == "chat.delta"
    )
    return first - started


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def start_bridge(
    deployment: Deployment,
    home: Path,
    openclaw: list[str],
    model_url: str,
    connections: ConnectionsEndpoint,
    log: Path,
) -> BridgeProcess:
    arn = f"arn:aws:ecs:us-east-1:123456789012:task/bench/{uuid.uuid4().hex}"
    deployment.begin_start(arn)
    env = bridge_env(
        deployment,
        home=home,
        openclaw=openclaw,
        task_arn=arn,
        model_url=model_url,
        connections_url=connections.url,
        poll_wait_seconds="20",
    )
    bridge = BridgeProcess(env, log).start()
    bridge.wait_running(180)
    return bridge


def stop(bridge: BridgeProcess) -> None:
    bridge.signal(signal.SIGTERM)
    bridge.wait(timeout=120)
    bridge.stop()


def make_state(base: Path, megabytes: int) -> None:
    files = base / "workspace" / "files"
    files.mkdir(parents=True, exist_ok=True)
    for index in range(megabytes):
        (files / f"blob-{index:03d}.bin").write_bytes(os.urandom(1024 * 1024))


Row = tuple[str, str, str, str, str]


def measure_serving(
    deployment: Deployment,
    connections: ConnectionsEndpoint,
    openclaw: list[str],
    model_url: str,
    work: Path,
    args: argparse.Namespace,
) -> list[Row]:
    """Start the bridge a few times (start-up overhead), then time first tokens on the last."""
    overheads: list[float] = []
    restores: list[float] = []
    own: list[float] = []
    bridge = None
    for index in range(args.starts):
        if bridge is not None:
            stop(bridge)  # backs the state up: every later start restores it
        home = work / "home"
        shutil.rmtree(home, ignore_errors=True)
        bridge = start_bridge(
            deployment, home, openclaw, model_url, connections, work / f"bridge-{index}.log"
        )
        timings = deployment.lifecycle.get().timings
        overheads.append(timings["boot"] - timings["openclaw"])
        restores.append(timings["restore"])
        own.append(timings["openclaw"])
        print(
            f"start {index + 1}: ready {timings['boot']:.2f} s, OpenClaw "
            f"{timings['openclaw']:.2f} s, restore {timings['restore']:.2f} s",
            flush=True,
        )
    assert bridge is not None
    base, token = gateway_of(bridge)
    # The first turn after a start is slow inside OpenClaw; warm both paths up.
    bridge_first_token(deployment, connections, "warm-b", "warm up")
    direct_first_token(base, token, "warm-d", "warm up")
    through: list[float] = []
    direct: list[float] = []
    for turn in range(args.turns):
        text = f"turn {turn}: hello"
        through.append(bridge_first_token(deployment, connections, f"b-{turn}", text))
        direct.append(direct_first_token(base, token, f"d-{turn}", text))
    added = [(b - d) * 1000 for b, d in zip(through, direct, strict=True)]
    stop(bridge)
    rows: list[Row] = [
        (
            "first token: bridge vs OpenClaw direct",
            f"{pct(through, 0.5) * 1000:.0f} ms",
            f"{pct(direct, 0.5) * 1000:.0f} ms",
            f"{statistics.median(added):+.0f} ms (p90 {pct(added, 0.9):+.0f})",
            f"<= {GOALS['first_token_ms']:.0f} ms",
        ),
        (
            "ready: bridge vs OpenClaw, first start",
            f"{own[0] + overheads[0]:.2f} s",
            f"{own[0]:.2f} s",
            f"{overheads[0]:+.2f} s (nothing to restore)",
            f"<= {GOALS['ready_s']:.0f} s",
        ),
    ]
    if len(overheads) > 1:
        later = statistics.median(overheads[1:])
        restore = statistics.median(restores[1:])
        ready = statistics.median([o + a for o, a in zip(own[1:], overheads[1:], strict=True)])
        rows.append(
            (
                "ready: bridge vs OpenClaw, later starts",
                f"{ready:.2f} s",
                f"{statistics.median(own[1:]):.2f} s",
                f"{later:+.2f} s (restore {restore:.2f} s of it)",
                f"<= {GOALS['ready_s']:.0f} s",
            )
        )
    return rows


def measure_restore(
    deployment: Deployment, openclaw: list[str], work: Path, args: argparse.Namespace
) -> Row:
    """Grow the last bridge's state by N MB of incompressible files, back it up, restore it."""
    home = work / "home"  # the same path, as in every task
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(work),
        "OPENCLAW_STATE_DIR": str(home / "state"),
        "OPENCLAW_CONFIG_PATH": str(home / "config" / "openclaw.json"),
        "OPENCLAW_DISABLE_BONJOUR": "1",
        "OPENCLAW_OFFLINE": "1",
        "OPENCLAW_NO_AUTO_UPDATE": "1",
    }
    (work / "scratch").mkdir(exist_ok=True)
    store = StateStore(
        deployment.client("s3"),
        bucket=deployment.bucket,
        key="agent/openclaw-state.tar.gz",
        openclaw_command=openclaw,
        env=env,
        state_dir=home / "state",
        scratch_dir=work / "scratch",
    )
    make_state(home / "state", args.state_mb)
    made = store.backup(timeout=600)
    seconds: list[float] = []
    downloads: list[float] = []
    cpu: list[float] = []
    for _ in range(args.restores):
        shutil.rmtree(home, ignore_errors=True)  # a fresh task's empty disk (no config yet)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = store.restore(timeout=600)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        assert result.restored
        seconds.append(result.seconds)
        downloads.append(result.download_seconds)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    total, download = statistics.median(seconds), statistics.median(downloads)
    return (
        f"restore {made.archive_bytes / 1e6:.0f} MB from S3 (moto)",
        f"{total:.2f} s",
        f"download {download:.2f} s",
        f"openclaw restore {total - download:.2f} s (CPU {statistics.median(cpu):.2f} s)",
        f"<= {GOALS['restore_s']:.0f} s",
    )


def print_table(rows: list[Row]) -> None:
    header: Row = ("figure", "measured p50", "reference p50", "difference", "goal")
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(5)]
    print()
    for row in (header, *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=15)
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--restores", type=int, default=5)
    parser.add_argument("--state-mb", type=int, default=50)
    args = parser.parse_args()

    # The same cache scripts/test uses, so a checkout installs OpenClaw once.
    os.environ.setdefault(toolchain.ENV_CACHE, str(REPO / ".cache" / "openclaw-deploy"))
    openclaw = toolchain.ensure_openclaw()
    moto_port, model_port = free_port(), free_port()
    moto_url = f"http://127.0.0.1:{moto_port}"
    model_url = f"http://127.0.0.1:{model_port}/v1"
    work = Path(tempfile.mkdtemp(prefix="bridge-bench-"))
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    try:
        with (
            process(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)],
                f"{moto_url}/moto-api/",
            ),
            process(
                [sys.executable, "-m", "openclaw_deploy.offline_model", "--port", str(model_port)],
                f"{model_url}/models",
                {"PYTHONPATH": str(REPO / "src")},
            ),
            connections_endpoint() as connections,
        ):
            deployment = provision(moto_url)
            deployment.connections.add("bench", user="owner")
            rows = measure_serving(deployment, connections, openclaw, model_url, work, args)
            rows.append(measure_restore(deployment, openclaw, work, args))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(rows)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
