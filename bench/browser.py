"""The browser's cost on the local target: the task's memory and the cold start, browser off and on.

Each configuration gets its own fresh local target (`init --target local`, process mode unless
`--image`). "off" runs at the default task size; "on" runs `config set browser on --yes` (which
raises the task's memory to fit the browser) and `deploy` (restarts at that size). Then:

* cold start: one web message to the sleeping agent -> its first streamed token (the browser is
  not used by that turn: Chromium starts on the first browser call, so this is what the plugin
  adds to every start);
* memory, from the task's own cgroup (resident: `total_rss` + `total_shmem`, what the limit
  cannot reclaim): after that first turn (idle); then at its peak while the agent opens a page
  served on 127.0.0.1 (the offline model calls the browser tool) and after it (Chromium stays
  open with the tab); in "off" the same message gets a refusal instead.

    OPENCLAW_DEPLOY_CACHE=.cache/openclaw-deploy .venv/bin/python bench/browser.py [--image]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from local_target import PASSWORD, cli, token, wait_until

CGROUP_MEMORY = Path("/sys/fs/cgroup/memory")
TASK_STARTED = re.compile(r"task \S+ started as pid (\d+)")
TASK_ENV = "OPENCLAW_DEPLOY_LOCAL_TASK_ENV"
PAGE = b"<!doctype html><title>Bench page</title><h1>A headline</h1>" + b"<p>text</p>" * 2000
MIB = 1024 * 1024


@dataclass
class Result:
    label: str
    size: str
    first_token: float
    idle_mib: float | None
    peak_mib: float | None
    after_mib: float | None
    browse_s: float | None
    reply: str


@contextlib.contextmanager
def page() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def task_group(home: Path) -> Path | None:
    """The task's memory group, from its first process's own cgroup."""
    found = TASK_STARTED.findall((home / "logs" / "fargate.log").read_text(errors="replace"))
    if not found:
        return None
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{found[-1]}/cgroup").read_text().splitlines():
            _, controllers, group = line.split(":", 2)
            if "memory" in controllers.split(","):
                return CGROUP_MEMORY / group.lstrip("/")
    return None


def usage_mib(group: Path | None) -> float | None:
    """The task's resident memory: its group's `total_rss` (anonymous memory, what cannot be
    given back). `memory.usage_in_bytes` also counts the page cache, which in image mode holds
    the task's whole root as it was laid out, and which the kernel reclaims under the limit."""
    if group is None:
        return None
    with contextlib.suppress(OSError, ValueError):
        stat = dict(line.split() for line in (group / "memory.stat").read_text().splitlines())
        return (int(stat["total_rss"]) + int(stat.get("total_shmem", 0))) / MIB
    return None


async def chat(api: str, ws_url: str, session: str, text: str) -> tuple[float, str]:
    """Send one web message; (seconds to its first streamed token, its final text)."""
    async with aiohttp.ClientSession() as http:
        bearer = {"Authorization": f"Bearer {await token(http, api)}"}
        ticket = await (await http.post(f"{api}/api/ws-ticket", headers=bearer)).json()
        async with http.ws_connect(f"{ws_url}?ticket={ticket['ticket']}") as socket:
            started = time.monotonic()
            message_id = f"m-{int(started * 1000)}"
            await socket.send_str(
                json.dumps(
                    {"type": "chat.send", "id": message_id, "session": session, "text": text}
                )
            )
            first = None
            while True:
                frame = json.loads((await socket.receive(timeout=400)).data)
                if frame["type"] == "chat.delta" and first is None:
                    first = time.monotonic() - started
                if frame["type"] in ("chat.final", "error"):
                    return (first or time.monotonic() - started), str(
                        frame.get("text") or frame.get("message") or frame
                    )


def open_page(api: str, ws: str, url: str, *, retry: bool) -> tuple[float, str]:
    """The agent opens `url` as a model calls the tool (no time budget of its own: the tool's
    default applies), and once more if that failed, as the tool's error tells the model to."""
    call = {"id": "browser", "args": {"action": "open", "url": url}}
    script = {"tool": {"name": "tool_call", "arguments": call}, "echo_tool_result": True}
    started = time.monotonic()
    _, reply = asyncio.run(
        chat(api, ws, "bench-browser", f"open it <<offline:{json.dumps(script)}>>")
    )
    if retry and '"tabId"' not in reply:
        print(f"  first call failed after {time.monotonic() - started:.1f} s: {reply[-300:]!r}")
        started = time.monotonic()
        _, reply = asyncio.run(
            chat(api, ws, "bench-browser", f"again <<offline:{json.dumps(script)}>>")
        )
    seconds = time.monotonic() - started
    return seconds, "opened" if '"tabId"' in reply else reply[-300:]


def measure(label: str, browser: bool, image: bool, url: str) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix="bench-browser-"))
    home = workdir / ".openclaw-deploy" / "local" / "agent"
    base = ("--target", "local", "--yes", "--owner-password", PASSWORD, "--json")
    result = cli(workdir, "init", *base, "--image" if image else "--no-image")
    assert result.returncode == 0, result.stderr[-2000:]
    try:
        if browser:
            done = cli(workdir, "config", "set", "browser", "on", "--yes", "--json")
            assert done.returncode == 0, done.stderr[-2000:]
            result = cli(workdir, "deploy", *base)
            assert result.returncode == 0, result.stderr[-2000:]
        access = json.loads(result.stdout)
        access = access.get("local", access)
        sizing = json.loads((home / "state.json").read_text()).get("agent_sizing", {})
        size = f"{sizing.get('cpu')}/{sizing.get('memory')}" if sizing.get("sized") else "unsized"
        api, ws = access["api_url"], access["ws_url"]
        first, _ = asyncio.run(chat(api, ws, "bench-browser", "hello"))
        group = task_group(home)
        time.sleep(5)  # let the first turn's garbage settle
        idle = usage_mib(group)
        peak = idle or 0.0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, usage_mib(group) or 0.0)
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        browse, reply = open_page(api, ws, url, retry=browser)
        time.sleep(3)
        stop.set()
        sampler.join()
        after = usage_mib(group)
    finally:
        pid = json.loads((home / "state.json").read_text())["pid"]
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not Path(f"/proc/{pid}").exists(), 200)
    agent_log = (home / "logs" / "agent.log").read_text(errors="replace")
    said = re.findall(r"browser: (.*)", agent_log)
    print(f"  {label}: task {size}; bridge said browser: {said[-1] if said else '?'}")
    return Result(label, size, first, idle, peak, after, browse, reply[:80])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", action="store_true", help="run the agent image's task")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", choices=("off", "on"), help="one configuration")
    args = parser.parse_args()
    results: list[Result] = []
    with page() as url:
        os.environ[TASK_ENV] = json.dumps({"OPENCLAW_BRIDGE_BROWSER_ALLOWED_HOSTS": "127.0.0.1"})
        for _ in range(args.rounds):
            for label, on in (("browser off", False), ("browser on", True)):
                if args.only and label != f"browser {args.only}":
                    continue
                results.append(measure(label, on, args.image, url))
                row = results[-1]
                print(
                    f"  {row.label}: first token {row.first_token:.1f} s, idle "
                    f"{row.idle_mib or 0:.0f} MiB, peak {row.peak_mib or 0:.0f} MiB, after "
                    f"{row.after_mib or 0:.0f} MiB, page turn {row.browse_s or 0:.1f} s",
                    flush=True,
                )
    print("\n| | task | cold start to first token | idle | peak during page load | after |")
    print("|---|---|---|---|---|---|")
    for row in results:
        print(
            f"| {row.label} | {row.size} | {row.first_token:.1f} s | {row.idle_mib or 0:.0f} MiB "
            f"| {row.peak_mib or 0:.0f} MiB | {row.after_mib or 0:.0f} MiB |"
        )
    for row in results:
        print(f"{row.label} reply: {row.reply!r}")


if __name__ == "__main__":
    main()
