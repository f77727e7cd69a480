"""What the bridge's key-injecting model proxy adds to the first token, measured side by side.

1. HTTP: a streamed chat completion with an OpenClaw-sized request (about 50 KB: a long system
   prompt and a dozen tools), to the offline model directly and through the proxy, interleaved
   request by request on kept-alive connections (as OpenClaw's client keeps them). The time to
   the first content delta.
2. OpenClaw: whole turns through the real pinned OpenClaw (its `/v1/chat/completions`, streamed):
   two gateways side by side, one with its provider at the proxy, one at the model directly
   (same OpenClaw, config and model), turn by turn interleaved. The time to the first piece of
   the reply.

The offline model and the proxy each run in their own process, as in the task (the proxy lives
in the bridge's process, the model is remote), so they do not share this process's GIL.

    OPENCLAW_DEPLOY_CACHE=.cache/openclaw-deploy .venv/bin/python bench/proxy_latency.py \
        [--turns 25] [--no-openclaw]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "src"), str(REPO / "container" / "bridge")]

import httpx  # noqa: E402

from openclaw_bridge.app import free_port  # noqa: E402
from openclaw_bridge.config import default_template  # noqa: E402
from openclaw_bridge.gateway import GatewayClient, OpenClawProcess  # noqa: E402
from openclaw_bridge.render import choose_model, openclaw_env, render_config  # noqa: E402

PROXY_MAIN = """
import sys, time
from openclaw_bridge.proxy import ModelProxy, upstream_for
from openclaw_deploy.runtime.providers import get_provider
route = upstream_for(get_provider("deepseek"), base_url=sys.argv[1], region="us-east-1")
proxy = ModelProxy([route], key_for=lambda _p: "sk-bench-key-0123456789").start()
print(proxy.url("deepseek"), flush=True)
while True:
    time.sleep(3600)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "container" / "bridge"), str(REPO / "src")])
    return env


@contextmanager
def _server(argv: list[str], first_line: str = "") -> Iterator[str]:
    process = subprocess.Popen(
        argv, stdout=subprocess.PIPE, text=True, env=_env(), stdin=subprocess.DEVNULL
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        yield line.removeprefix(first_line).strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def _body() -> dict[str, object]:
    tool = {
        "type": "function",
        "function": {
            "name": "tool",
            "description": "x" * 1500,
            "parameters": {"type": "object", "properties": {"a": {"type": "string"}}},
        },
    }
    return {
        "model": "demo",
        "stream": True,
        "messages": [
            {"role": "system", "content": "You are an agent. " * 1800},
            {"role": "user", "content": "hello"},
        ],
        "tools": [tool] * 12,
    }


def _first_content(client: httpx.Client, url: str, body: bytes) -> float:
    started = time.perf_counter()
    with client.stream(
        "POST", url, content=body, headers={"Content-Type": "application/json"}
    ) as answer:
        answer.raise_for_status()
        lines = answer.iter_lines()
        for line in lines:
            if line.startswith("data: ") and '"content":"' in line and '"content":""' not in line:
                first = time.perf_counter() - started
                for _ in lines:  # read the rest, as a client does
                    pass
                return first
    raise RuntimeError("no content in the stream")


def _row(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return (
        f"{name:<34} n={len(values):>3}  p50 {statistics.median(values) * 1000:8.2f} ms  "
        f"p90 {p90 * 1000:8.2f} ms"
    )


def measure_http(model_url: str, proxy_url: str, turns: int) -> tuple[list[float], list[float]]:
    body = json.dumps(_body()).encode()
    direct: list[float] = []
    proxied: list[float] = []
    with httpx.Client(timeout=30) as to_model, httpx.Client(timeout=30) as to_proxy:
        for warm in range(3):  # connections and code paths warm
            _first_content(to_model, f"{model_url}/chat/completions", body)
            _first_content(to_proxy, f"{proxy_url}/chat/completions", body)
            del warm
        for _ in range(turns):
            direct.append(_first_content(to_model, f"{model_url}/chat/completions", body))
            proxied.append(_first_content(to_proxy, f"{proxy_url}/chat/completions", body))
    return direct, proxied


@contextmanager
def openclaw_at(root_url: str, work: Path, label: str) -> Iterator[GatewayClient]:
    """A fresh OpenClaw whose provider's base URL is `root_url`/deepseek, ready for turns."""
    from openclaw_deploy import toolchain

    home = work / label
    home.mkdir()
    choice = choose_model(
        settings_provider="deepseek",  # OpenAI-compatible, no embeddings calls
        settings_model="demo",
        default_provider=None,
        default_model=None,
        base_url=None,
    )
    port = free_port()
    token = secrets.token_urlsafe(24)
    config = home / "openclaw.json"
    config.write_text(
        render_config(
            default_template().read_text(),
            choice,
            gateway_port=port,
            proxy_url=root_url,
            log_file=str(home / "openclaw.log"),
        )
    )
    env = openclaw_env(
        state_dir=str(home / "state"),
        config_path=str(config),
        gateway_token=token,
        gateway_port=port,
        home=str(home),
    )
    process = OpenClawProcess(toolchain.ensure_openclaw(), port=port, env=env, cwd=home)
    process.start()
    try:
        process.wait_ready(300)
        client = GatewayClient(process.base_url, token)
        try:
            yield client
        finally:
            client.close()
    finally:
        process.stop(timeout=30)


def _first_piece(client: GatewayClient, session: str) -> float:
    started = time.perf_counter()
    first = None
    for _piece in client.stream_reply(session, "hello"):
        if first is None:
            first = time.perf_counter() - started
    if first is None:
        raise RuntimeError("an empty reply")
    return first


def measure_openclaw(
    proxy_root: str, model_root: str, turns: int, work: Path
) -> tuple[list[float], list[float]]:
    """Two OpenClaws side by side (one at the proxy, one straight at the model), turns
    interleaved so that both see the same machine load."""
    direct: list[float] = []
    proxied: list[float] = []
    with (
        openclaw_at(proxy_root, work, "proxy") as through,
        # The offline model answers any path ending in /chat/completions: a provider at
        # <model>/deepseek reaches it directly.
        openclaw_at(model_root, work, "direct") as straight,
    ):
        for turn in range(turns + 2):
            a = _first_piece(straight, f"direct-{turn}")
            b = _first_piece(through, f"proxy-{turn}")
            if turn >= 2:  # two warm-up turns each
                direct.append(a)
                proxied.append(b)
    return direct, proxied


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=25)
    parser.add_argument("--no-openclaw", action="store_true", help="only the HTTP comparison")
    args = parser.parse_args()
    model_argv = [sys.executable, "-m", "openclaw_deploy.offline_model", "--port", "0"]
    with _server(model_argv, "offline model listening on") as model_url:
        proxy_argv = [sys.executable, "-c", PROXY_MAIN, model_url]
        with _server(proxy_argv) as proxy_url:
            direct, proxied = measure_http(model_url, proxy_url, args.turns)
            print("First content delta over HTTP (50 KB request, interleaved):")
            print(_row("direct to the model", direct))
            print(_row("through the key-injecting proxy", proxied))
            added = statistics.median(proxied) - statistics.median(direct)
            print(f"{'added by the proxy (p50)':<34} {added * 1000:+.2f} ms")
            if args.no_openclaw:
                return 0
            root = proxy_url.rsplit("/", 1)[0]
            model_root = model_url.removesuffix("/v1")
            with tempfile.TemporaryDirectory(prefix="proxy-bench-") as work:
                straight, through = measure_openclaw(root, model_root, args.turns, Path(work))
            print("\nFirst token of a turn through OpenClaw (two gateways, interleaved):")
            print(_row("OpenClaw -> model directly", straight))
            print(_row("OpenClaw -> proxy -> model", through))
            added = statistics.median(through) - statistics.median(straight)
            print(f"{'added by the proxy (p50)':<34} {added * 1000:+.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
