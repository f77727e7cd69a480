"""Cold start through the local target: message -> first streamed token, from a sleeping agent.

Each configuration gets its own fresh local target (`init --target local`), sized through the
config file's `agent` section (then `deploy --target local` restarts it at that size). Before
the wake, the state bucket is given a backup of a real agent's state (`--state-mb`, default 50:
an OpenClaw started and asked once, plus workspace files to that size), so the start restores
what a sleeping agent would; then one web message wakes the agent. Configurations:

* the real image (`--image`) at 0.5 vCPU / 2 GB (the default task size), 1 vCPU / 2 GB and
  2 vCPU / 4 GB (the smallest memory Fargate allows with 2 vCPU);
* with `--before DIR` (a checkout of the code before a change, e.g. `git worktree add DIR
  HEAD~3`), the same sizes from that checkout: its CLI, local cloud, bridge and image (built
  from its Dockerfile, cached beside the current one), side by side with the current code in
  one run, rounds interleaved so the machine's load hits both alike;
* with `--process`, the process mode at 0.5 vCPU / 2 GB (no image).

`--after DIR` measures a frozen copy instead of this checkout (e.g. `git worktree add DIR HEAD`),
so changes made to the working tree during a long run do not reach half of it.

Extra environment for a configuration's task goes through `OPENCLAW_DEPLOY_LOCAL_TASK_ENV`
(`openclaw_deploy.local.fargate`).

The task's CPU quota and memory limit are cgroup limits (see `openclaw_deploy.local.cgroup`); on
a machine with fewer cores than the quota, the larger size cannot show its full effect. The
breakdown comes from the local Fargate's and the bridge's logs: the task's root (image mode),
the bridge's boot (restore + OpenClaw), OpenClaw's start by its own log's milestones (code
loading to "loading configuration", then config/plugins/runtime to "starting HTTP server", the
HTTP server, channels and sidecars to "gateway ready", then `/readyz`), the first turn's first
text with OpenClaw's own preparation of the run (its `prep stages` trace), and the rest (the
Lambda handler, RunTask, the local Fargate's poll, starting the bridge's Python).

On AWS a Fargate task also waits for capacity and an ENI and pulls the whole image before any of
this; that part is printed as a separate estimate, not measured here.

    OPENCLAW_DEPLOY_CACHE=.cache/openclaw-deploy .venv/bin/python bench/cold_start.py \
        [--rounds 1] [--before DIR] [--state-mb 50] [--process]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from local_target import PASSWORD, cli, wait_until, ws_first_token

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CPU, DEFAULT_MEMORY = 512, 2048
BACKUP_KEY = "agent/openclaw-state.tar.gz"  # openclaw_bridge.config.DEFAULT_BACKUP_KEY
ROOT_READY = re.compile(r"root ready in ([\d.]+)s")
TASK_STARTED = re.compile(r"task (\S+) started as pid")
CGROUP_CPU = Path("/sys/fs/cgroup/cpu")
AGENT_READY = re.compile(r"agent ready in ([\d.]+) s \(restore ([\d.]+) s, OpenClaw ([\d.]+) s\)")
RESTORED = re.compile(r"restored (\d+) bytes of state")
FIRST_TEXT = re.compile(r"answered \S+ \(web\) in [\d.]+ s, first text after (\d+) ms")
OPENCLAW_PHASES = re.compile(r"OpenClaw start phases: (.*)")
PHASE = re.compile(r"(\w+) ([\d.]+) s")
PREP = re.compile(r"prep stages: .*?totalMs=(\d+)")
OPENCLAW_PHASE_NAMES = ("modules", "config", "http", "sidecars", "readyz")
TASK_ENV = "OPENCLAW_DEPLOY_LOCAL_TASK_ENV"
# A published measurement of what precedes the container on Fargate (not measured here): a
# 413 MB image without SOCI took 53-62 s from task creation to container start (elasticscale.com,
# "Reduce AWS Fargate pull times with SOCI", 2024). AWS's own guide names the parts (capacity,
# ENI: "several seconds", the pull) without figures.
PUBLISHED_IMAGE_MB = 413.0
PUBLISHED_START_S = (53.0, 62.0)


@dataclass(frozen=True)
class Config:
    label: str
    image: bool
    cpu: int
    memory: int
    # A loaded machine must not turn a slow start into a failed one (the bridge's default
    # is 90 s).
    task_env: tuple[tuple[str, str], ...] = (("OPENCLAW_BRIDGE_READY_TIMEOUT_SECONDS", "300"),)
    code: Path | None = None
    """A checkout whose CLI (and so local cloud, bridge and image) runs this configuration."""
    before: bool = False


@dataclass
class Run:
    first_token: float
    root: float | None
    boot: float | None
    restore: float | None
    openclaw: float | None
    first_text: float | None
    prep: float | None = None
    phases: dict[str, float] = field(default_factory=dict)
    restored_bytes: int = 0
    image_id: str | None = None
    cpu_seconds: float | None = None
    throttled: float | None = None

    @property
    def rest(self) -> float | None:
        parts = [self.boot, self.first_text]
        if any(part is None for part in parts):
            return None
        return self.first_token - sum(p for p in parts if p) - (self.root or 0.0)

    @property
    def to_first_text(self) -> float | None:
        """Restore + OpenClaw ready + first token: the issue's goal, inside the task."""
        if self.restore is None or self.openclaw is None or self.first_text is None:
            return None
        return self.restore + self.openclaw + self.first_text


@dataclass
class Results:
    config: Config
    runs: list[Run] = field(default_factory=list)

    def median(self, attribute: str) -> float | None:
        values = [
            run.phases.get(attribute)
            if attribute in OPENCLAW_PHASE_NAMES
            else getattr(run, attribute)
            for run in self.runs
        ]
        present = [v for v in values if v is not None]
        return statistics.median(present) if present else None


def _match(pattern: re.Pattern[str], text: str) -> tuple[float, ...] | None:
    found = pattern.findall(text)
    if not found:
        return None
    last = found[-1]
    return tuple(float(v) for v in (last if isinstance(last, tuple) else (last,)))


@contextlib.contextmanager
def _environment(config: Config) -> Iterator[None]:
    """The CLI passes its environment on to the local cloud, which gives TASK_ENV to the task;
    PYTHONPATH picks the checkout the configuration runs."""
    saved = {name: os.environ.get(name) for name in (TASK_ENV, "PYTHONPATH")}
    os.environ.pop(TASK_ENV, None)
    if config.task_env:
        os.environ[TASK_ENV] = json.dumps(dict(config.task_env))
    if config.code is not None:
        os.environ["PYTHONPATH"] = str(config.code / "src")
    else:
        os.environ.pop("PYTHONPATH", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def task_cpu(fargate_log: Path) -> tuple[float | None, float | None]:
    """The CPU seconds the task's processes used so far (their own and their reaped children's)
    and the seconds its CPU quota held it back: a figure the machine's load hardly changes,
    unlike the wall clock."""
    found = TASK_STARTED.findall(fargate_log.read_text(errors="replace"))
    if not found:
        return None, None
    groups = list(CGROUP_CPU.glob(f"**/openclaw-deploy/*-{found[-1]}"))
    if not groups:
        return None, None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in (groups[0] / "cgroup.procs").read_text().split():
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(v) for v in fields[11:15]) / ticks  # utime stime cutime cstime
    throttled = None
    with contextlib.suppress(OSError, ValueError):
        stat = dict(line.split() for line in (groups[0] / "cpu.stat").read_text().splitlines())
        throttled = int(stat["throttled_time"]) / 1e9
    return total, throttled


def seed_state(state_file: Path, archive: Path | None) -> None:
    """Put the seed backup where the agent restores from (the local cloud's state bucket)."""
    if archive is None:
        return
    state = json.loads(state_file.read_text())
    bucket = next(
        value for name, value in state["environment"].items() if name == "OPENCLAW_BUCKET_STATE"
    )
    s3 = boto3.client(
        "s3",
        endpoint_url=state["moto_url"],
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 - the local cloud's owner
    )
    with archive.open("rb") as body:
        s3.put_object(Bucket=bucket, Key=BACKUP_KEY, Body=body)


def measure(config: Config, seed: Path | None) -> Run:
    workdir = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    home = workdir / ".openclaw-deploy" / "local" / "agent"
    flag = "--image" if config.image else "--no-image"
    base = ("--target", "local", "--yes", "--owner-password", PASSWORD, "--json")
    with _environment(config):
        result = cli(workdir, "init", *base, flag)
        try:
            if (config.cpu, config.memory) != (DEFAULT_CPU, DEFAULT_MEMORY):
                path = workdir / "openclaw-deploy.yaml"
                data = yaml.safe_load(path.read_text())
                agent = data["deployments"]["agent"].setdefault("agent", {})
                agent.update({"cpu": config.cpu, "memory": config.memory})
                path.write_text(yaml.safe_dump(data, sort_keys=False))
                result = cli(workdir, "deploy", "--name", "agent", *base)
            access = json.loads(result.stdout)
            access = access.get("local", access)
            state = json.loads((home / "state.json").read_text())
            sizing = state.get("agent_sizing", {})
            if not sizing.get("sized") or (sizing["cpu"], sizing["memory"]) != (
                config.cpu,
                config.memory,
            ):
                print(f"  note: {config.label} runs as {sizing}", file=sys.stderr)
            seed_state(home / "state.json", seed)
            first = asyncio.run(
                ws_first_token(access["api_url"], access["ws_url"], "bench-cold", "cold-1")
            )
            cpu_seconds, throttled = task_cpu(home / "logs" / "fargate.log")
            wait_until(lambda: FIRST_TEXT.search((home / "logs" / "agent.log").read_text()), 30)
        finally:
            pid = json.loads((home / "state.json").read_text())["pid"]
            os.kill(pid, signal.SIGTERM)
            wait_until(lambda: not Path(f"/proc/{pid}").exists(), 200)
    agent_log = (home / "logs" / "agent.log").read_text(errors="replace")
    fargate_log = (home / "logs" / "fargate.log").read_text(errors="replace")
    root = _match(ROOT_READY, fargate_log)
    ready = _match(AGENT_READY, agent_log)
    text = _match(FIRST_TEXT, agent_log)
    prep = _match(PREP, agent_log)
    restored = _match(RESTORED, agent_log)
    if seed is not None and not restored:
        print(f"  note: {config.label} restored no state", file=sys.stderr)
    found = OPENCLAW_PHASES.findall(agent_log)
    phases = {name: float(value) for name, value in PHASE.findall(found[-1])} if found else {}
    return Run(
        first_token=first,
        root=root[0] if root else None,
        boot=ready[0] if ready else None,
        restore=ready[1] if ready else None,
        openclaw=ready[2] if ready else None,
        first_text=text[0] / 1000 if text else None,
        prep=prep[0] / 1000 if prep else None,
        phases=phases,
        restored_bytes=int(restored[0]) if restored else 0,
        image_id=state.get("agent_image"),
        cpu_seconds=cpu_seconds,
        throttled=throttled,
    )


def make_seed(folder: Path, size_mb: int) -> Path:
    """A backup of a real agent's state: an OpenClaw started and asked once with the offline
    model (as the image's build does), its workspace filled to `size_mb` with notes and files,
    archived by OpenClaw's own `backup create`."""
    sys.path[:0] = [str(REPO / "container"), str(REPO / "container" / "bridge"), str(REPO / "src")]
    from prewarm import TEMPLATE, prewarm

    from openclaw_deploy import toolchain

    command = toolchain.ensure_openclaw()
    home = folder / "seed"
    seconds = prewarm(command, TEMPLATE, home=home)
    state = home / "state"
    files = state / "workspace" / "files"
    files.mkdir(parents=True, exist_ok=True)
    # Half text (memory notes, transcripts: compresses well), half binary (images, PDFs: not).
    half = size_mb * 1024 * 1024 // 2
    line = b"- 2026-11-30: the owner asked about the cat, who is called Tom and likes the sun.\n"
    (files / "notes.md").write_bytes(line * (half // len(line)))
    (files / "photos.bin").write_bytes(os.urandom(half))
    out = folder / "archive"
    out.mkdir()
    env = {
        **os.environ,
        "OPENCLAW_STATE_DIR": str(state),
        "OPENCLAW_CONFIG_PATH": str(home / "openclaw.json"),
    }
    subprocess.run(
        [*command, "backup", "create", "--output", str(out), "--json"],
        env=env,
        cwd=home,
        check=True,
        capture_output=True,
        timeout=600,
    )
    (archive,) = out.glob("*.tar.gz")
    print(
        f"seed state: {archive.stat().st_size / 1e6:.1f} MB archive "
        f"(OpenClaw started and asked once in {seconds:.0f} s)",
        file=sys.stderr,
    )
    return archive


def _cell(value: float | None) -> str:
    return f"{value:9.2f}" if value is not None else f"{'-':>9}"


def image_size_mb(image_id: str | None) -> float | None:
    """An agent image's size: its layers as stored here (uncompressed)."""
    if not image_id:
        return None
    from openclaw_deploy.local.image import Buildah, storage_home

    try:
        manifest = json.loads(Buildah(storage_home()).inspect_image(image_id)["Manifest"])
    except Exception:  # noqa: BLE001 - the size is optional
        return None
    return sum(int(layer.get("size", 0)) for layer in manifest.get("layers", [])) / 1e6


ROWS = [
    ("message -> first token (s)", "first_token"),
    ("  task root ready (s)", "root"),
    ("  bridge boot to ready (s)", "boot"),
    ("    of which restore (s)", "restore"),
    ("    of which OpenClaw (s)", "openclaw"),
    ("      code loading (s)", "modules"),
    ("      config, plugins, runtime (s)", "config"),
    ("      HTTP server (s)", "http"),
    ("      channels, sidecars (s)", "sidecars"),
    ("      to /readyz (s)", "readyz"),
    ("  first turn, first text (s)", "first_text"),
    ("    of which run preparation (s)", "prep"),
    ("  the rest: wake, RunTask, poll (s)", "rest"),
    ("restore + OpenClaw + first text (s)", "to_first_text"),
    ("task CPU used to first token (s)", "cpu_seconds"),
    ("  held back by the CPU quota (s)", "throttled"),
]


def report(results: list[Results]) -> None:
    width = 20
    print()
    print(f"{'':38}" + "".join(f"{r.config.label:>{width}}" for r in results))
    for title, attribute in ROWS:
        print(f"{title:38}" + "".join(f"{_cell(r.median(attribute)):>{width}}" for r in results))
    sizes = {}
    for result in results:
        ids = {run.image_id for run in result.runs if run.image_id}
        sizes[result.config.label] = image_size_mb(ids.pop()) if len(ids) == 1 else None
    print(
        f"{'image size, uncompressed (MB)':38}"
        + "".join(f"{_cell(sizes[r.config.label]):>{width}}" for r in results)
    )
    # Ratios: each configuration to the one of the other code at the same size.
    before = {(r.config.image, r.config.cpu): r for r in results if r.config.before}
    if before:
        for title, attribute in (
            ("ratio to before: first token", "first_token"),
            ("ratio to before: restore+OC+text", "to_first_text"),
            ("ratio to before: OpenClaw start", "openclaw"),
            ("ratio to before: task CPU", "cpu_seconds"),
        ):
            cells = []
            for r in results:
                other = before.get((r.config.image, r.config.cpu))
                mine, theirs = r.median(attribute), other.median(attribute) if other else None
                cells.append(
                    f"{mine / theirs:>{width}.2f}"
                    if mine and theirs and not r.config.before
                    else f"{'':>{width}}"
                )
            print(f"{title:38}" + "".join(cells))
    print(f"\n{len(results[0].runs)} cold start(s) per configuration (medians shown).")
    for label, size in sizes.items():
        if not size:
            continue
        scale = size / PUBLISHED_IMAGE_MB
        print(
            f"AWS estimate for {label}, not measured: Fargate's provisioning and image pull come "
            f"before all this. Published: {PUBLISHED_START_S[0]:.0f}-{PUBLISHED_START_S[1]:.0f} s "
            f"for a {PUBLISHED_IMAGE_MB:.0f} MB image; scaled by size to this {size:.0f} MB image "
            f"(uncompressed): about {PUBLISHED_START_S[0] * scale:.0f}-"
            f"{PUBLISHED_START_S[1] * scale:.0f} s (a rough upper bound: layers are compressed "
            f"and part of the time is fixed)."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1, help="cold starts per configuration")
    parser.add_argument("--before", type=Path, help="a checkout of the code to compare with")
    parser.add_argument(
        "--after", type=Path, help="a checkout to measure instead of this one (a frozen copy)"
    )
    parser.add_argument("--state-mb", type=int, default=50, help="the seeded state (0: none)")
    parser.add_argument("--process", action="store_true", help="add the process mode")
    parser.add_argument(
        "--sizes", default="512/2048,1024/2048,2048/4096", help="task sizes: cpu/memory,..."
    )
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in size.split("/")) for size in args.sizes.split(",")]
    configs = []
    for cpu, memory in sizes:
        label = f"{cpu / 1024:g} vCPU/{memory // 1024} GB"
        after = args.after.resolve() if args.after else None
        if args.before:
            code = args.before.resolve()
            configs.append(
                Config(
                    f"before {label}", image=True, cpu=cpu, memory=memory, code=code, before=True
                )
            )
        configs.append(Config(f"image {label}", image=True, cpu=cpu, memory=memory, code=after))
    if args.process:
        configs.append(
            Config("process 0.5 vCPU/2 GB", image=False, cpu=512, memory=2048, code=after)
        )
    seed = None
    if args.state_mb > 0:
        seed = make_seed(Path(tempfile.mkdtemp(prefix="bench-cold-seed-")), args.state_mb)
    results = [Results(config) for config in configs]
    for round_number in range(args.rounds):  # interleaved: load on the machine hits all alike
        for result in results:
            started = time.monotonic()
            try:
                result.runs.append(measure(result.config, seed))
            except Exception as error:  # noqa: BLE001 - one failed start must not lose the run
                print(f"round {round_number + 1}: {result.config.label} failed: {error}")
                continue
            print(
                f"round {round_number + 1}: {result.config.label}: "
                f"{result.runs[-1].first_token:.1f} s ({time.monotonic() - started:.0f} s)",
                file=sys.stderr,
            )
        report(results)  # after every round: a long run that is cut short still reports
        sys.stdout.flush()


if __name__ == "__main__":
    main()
