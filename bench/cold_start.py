"""Cold start through the local target: message -> first streamed token, from idle, side by side.

Each configuration gets its own fresh local target (`init --target local`), sized through the
config file's `agent` section (then `deploy --target local` restarts it at that size), and one
web message wakes the agent. Configurations:

* the real image (`--image`) at the default task size, 0.5 vCPU / 2 GB, without the compile
  cache made at build time, unless `--no-before`: the task's `TMPDIR` is the agent's home, so
  OpenClaw asks Node for an empty cache folder there, as in an image without the cache;
* the same image as it is, at 0.5 vCPU / 2 GB, 1 vCPU / 2 GB and 2 vCPU / 4 GB (the smallest
  memory Fargate allows with 2 vCPU);
* with `--process`, the process mode at 0.5 vCPU / 2 GB (no image), as it is and before the
  cuts (every bundled plugin loaded, through a template without the `plugins` section, and an
  empty compile cache under a fresh TMPDIR).

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

    OPENCLAW_DEPLOY_CACHE=.cache/openclaw-deploy .venv/bin/python bench/cold_start.py [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from local_target import PASSWORD, cli, wait_until, ws_first_token

DEFAULT_CPU, DEFAULT_MEMORY = 512, 2048
ROOT_READY = re.compile(r"root ready in ([\d.]+)s")
AGENT_READY = re.compile(r"agent ready in ([\d.]+) s \(restore ([\d.]+) s, OpenClaw ([\d.]+) s\)")
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
    task_env: tuple[tuple[str, str], ...] = ()


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

    @property
    def rest(self) -> float | None:
        parts = [self.boot, self.first_text]
        if any(part is None for part in parts):
            return None
        return self.first_token - sum(p for p in parts if p) - (self.root or 0.0)


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


def measure(config: Config) -> Run:
    workdir = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    home = workdir / ".openclaw-deploy" / "local" / "agent"
    flag = "--image" if config.image else "--no-image"
    base = ("--target", "local", "--yes", "--owner-password", PASSWORD, "--json")
    # The CLI passes its environment on to the local cloud, which gives this to the task.
    os.environ.pop(TASK_ENV, None)
    if config.task_env:
        os.environ[TASK_ENV] = json.dumps(dict(config.task_env))
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
        sizing = json.loads((home / "state.json").read_text()).get("agent_sizing", {})
        if not sizing.get("sized") or (sizing["cpu"], sizing["memory"]) != (
            config.cpu,
            config.memory,
        ):
            print(f"  note: {config.label} runs as {sizing}", file=sys.stderr)
        first = asyncio.run(
            ws_first_token(access["api_url"], access["ws_url"], "bench-cold", "cold-1")
        )
        wait_until(lambda: FIRST_TEXT.search((home / "logs" / "agent.log").read_text()), 30)
    finally:
        os.environ.pop(TASK_ENV, None)
        pid = json.loads((home / "state.json").read_text())["pid"]
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not Path(f"/proc/{pid}").exists(), 200)
    agent_log = (home / "logs" / "agent.log").read_text(errors="replace")
    fargate_log = (home / "logs" / "fargate.log").read_text(errors="replace")
    root = _match(ROOT_READY, fargate_log)
    ready = _match(AGENT_READY, agent_log)
    text = _match(FIRST_TEXT, agent_log)
    prep = _match(PREP, agent_log)
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
    )


def _cell(value: float | None) -> str:
    return f"{value:9.2f}" if value is not None else f"{'-':>9}"


def image_size_mb() -> float | None:
    """The agent image's size: its layers as stored here (uncompressed)."""
    from openclaw_deploy.local.image import AGENT_IMAGE, Buildah, storage_home

    try:
        manifest = json.loads(Buildah(storage_home()).inspect_image(AGENT_IMAGE)["Manifest"])
    except Exception:  # noqa: BLE001 - the estimate is optional
        return None
    return sum(int(layer.get("size", 0)) for layer in manifest.get("layers", [])) / 1e6


def report(results: list[Results]) -> None:
    width = 22
    print()
    print(f"{'':36}" + "".join(f"{r.config.label:>{width}}" for r in results))
    rows = [
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
    ]
    for title, attribute in rows:
        print(f"{title:36}" + "".join(f"{_cell(r.median(attribute)):>{width}}" for r in results))
    reference = results[0].median("first_token")
    if reference:
        print(
            f"{'ratio to ' + results[0].config.label:36}"
            + "".join(f"{(r.median('first_token') or 0) / reference:>{width}.2f}" for r in results)
        )
    print(f"\n{len(results[0].runs)} cold start(s) per configuration (medians shown).")
    size = image_size_mb()
    if size:
        scale = size / PUBLISHED_IMAGE_MB
        print(
            f"Estimate, not measured: Fargate's own provisioning and image pull come before all "
            f"this. Published: {PUBLISHED_START_S[0]:.0f}-{PUBLISHED_START_S[1]:.0f} s for a "
            f"{PUBLISHED_IMAGE_MB:.0f} MB image; scaled by size to this {size:.0f} MB image "
            f"(uncompressed): about {PUBLISHED_START_S[0] * scale:.0f}-"
            f"{PUBLISHED_START_S[1] * scale:.0f} s (a rough upper bound: layers are compressed "
            f"and part of the time is fixed)."
        )


def template_without_plugin_choices(folder: Path) -> Path:
    """Our config template without its `plugins` section: every bundled plugin loads, as before."""
    from openclaw_deploy import assets

    text = (assets.asset_dir("templates") / "openclaw.json5").read_text(encoding="utf-8")
    stripped = re.sub(r"\n  plugins: \{.*?\n  \},\n", "\n", text, flags=re.DOTALL)
    if stripped == text:
        raise SystemExit("the config template has no plugins section to take out")
    path = folder / "openclaw-all-plugins.json5"
    path.write_text(stripped, encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=1, help="cold starts per configuration")
    parser.add_argument("--no-before", action="store_true", help="skip the runs without the cuts")
    parser.add_argument("--process", action="store_true", help="add the process mode")
    args = parser.parse_args()
    configs = [
        Config("image 0.5 vCPU/2 GB", image=True, cpu=512, memory=2048),
        Config("image 1 vCPU/2 GB", image=True, cpu=1024, memory=2048),
        Config("image 2 vCPU/4 GB", image=True, cpu=2048, memory=4096),
    ]
    if not args.no_before:
        # Without the compile cache the image ships: OpenClaw asks Node for an empty cache
        # folder under TMPDIR (the agent's home), as in an image built without it.
        configs.insert(
            0,
            Config(
                "image 0.5, no cache",
                image=True,
                cpu=512,
                memory=2048,
                task_env=(("TMPDIR", "/home/openclaw"),),
            ),
        )
    if args.process:
        scratch = Path(tempfile.mkdtemp(prefix="bench-cold-before-"))
        if not args.no_before:
            # The process mode takes a template from this machine: both cuts off at once.
            configs.append(
                Config(
                    "process 0.5, before",
                    image=False,
                    cpu=512,
                    memory=2048,
                    task_env=(
                        ("OPENCLAW_BRIDGE_TEMPLATE", str(template_without_plugin_choices(scratch))),
                        ("TMPDIR", str(scratch)),
                    ),
                )
            )
        configs.append(Config("process 0.5 vCPU/2 GB", image=False, cpu=512, memory=2048))
    results = [Results(config) for config in configs]
    for round_number in range(args.rounds):  # interleaved: load on the machine hits all alike
        for result in results:
            started = time.monotonic()
            if result.config.label == "process 0.5, before":
                # A fresh, empty compile cache for every run.
                for entry in scratch.glob("node-compile-cache"):
                    shutil.rmtree(entry, ignore_errors=True)
            result.runs.append(measure(result.config))
            print(
                f"round {round_number + 1}: {result.config.label}: "
                f"{result.runs[-1].first_token:.1f} s ({time.monotonic() - started:.0f} s)",
                file=sys.stderr,
            )
    report(results)


if __name__ == "__main__":
    main()
