"""The local target, measured end to end, side by side in one run.

1. `init --target local` to the web URL answering;
2. first message to the first streamed token, cold (the agent task starts) and warm;
3. the emulated path's added latency: warm first token through the whole path (API Gateway
   emulator → ws handler → SQS on moto → bridge → OpenClaw → `@connections` → the browser's
   socket) beside a direct call to the same OpenClaw, interleaved turn by turn.

The direct call uses the gateway token of the running OpenClaw, read from its /proc environment
(the token is never stored anywhere else).

    OPENCLAW_DEPLOY_CACHE=.cache/openclaw-deploy .venv/bin/python bench/local_target.py [--turns 9]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import httpx

PASSWORD = "Bench-Owner-Pass-1!"  # noqa: S105 - a throwaway local login
EMAIL = "owner@example.com"


def cli(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "openclaw_deploy", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )


def wait_until(check: Any, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.05)
    raise TimeoutError


async def token(http: aiohttp.ClientSession, api: str) -> str:
    config = await (await http.get(f"{api}/config.json")).json()
    answer = await http.post(
        config["cognito"]["endpoint"],
        data=json.dumps(
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": config["cognito"]["clientId"],
                "AuthParameters": {"USERNAME": EMAIL, "PASSWORD": PASSWORD},
            }
        ),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
    )
    return str((await answer.json(content_type=None))["AuthenticationResult"]["IdToken"])


async def ws_first_token(api: str, ws_url: str, session: str, message_id: str) -> float:
    async with aiohttp.ClientSession() as http:
        bearer = {"Authorization": f"Bearer {await token(http, api)}"}
        ticket = await (await http.post(f"{api}/api/ws-ticket", headers=bearer)).json()
        async with http.ws_connect(f"{ws_url}?ticket={ticket['ticket']}") as socket:
            started = time.monotonic()
            await socket.send_str(
                json.dumps(
                    {"type": "chat.send", "id": message_id, "session": session, "text": "hello"}
                )
            )
            first = None
            while True:
                frame = json.loads((await socket.receive(timeout=300)).data)
                if frame["type"] == "chat.delta" and first is None:
                    first = time.monotonic() - started
                if frame["type"] in ("chat.final", "error"):
                    break
    if first is None:
        raise RuntimeError(f"no streamed reply: {frame}")
    return first


def gateway(home: Path) -> tuple[str, str]:
    """(base URL, token) of the OpenClaw that the local target's agent task runs."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "environ").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        env = dict(item.split("=", 1) for item in raw if "=" in item)
        if "OPENCLAW_GATEWAY_TOKEN" in env and env.get("OPENCLAW_STATE_DIR", "").startswith(
            str(home)
        ):
            return f"http://127.0.0.1:{env['OPENCLAW_GATEWAY_PORT']}", env["OPENCLAW_GATEWAY_TOKEN"]
    raise RuntimeError("the agent's OpenClaw was not found")


def direct_first_token(base: str, secret: str, session: str) -> float:
    started = time.monotonic()
    with httpx.stream(
        "POST",
        f"{base}/v1/chat/completions",
        timeout=120,
        headers={"Authorization": f"Bearer {secret}", "x-openclaw-session-key": session},
        json={
            "model": "openclaw/default",
            "stream": True,
            "messages": [{"role": "user", "content": "hello"}],
        },
    ) as answer:
        first = None
        for line in answer.iter_lines():  # read to the end: the turn must finish before the next
            if (
                first is None
                and line.startswith("data: {")
                and '"content":"' in line
                and json.loads(line[6:])["choices"][0]["delta"].get("content")
            ):
                first = time.monotonic() - started
    if first is not None:
        return first
    raise RuntimeError("no streamed reply from OpenClaw")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=9)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-local-"))
    home = workdir / ".openclaw-deploy" / "local" / "agent"
    started = time.monotonic()
    result = cli(
        workdir, "init", "--target", "local", "--yes", "--owner-password", PASSWORD, "--json"
    )
    access = json.loads(result.stdout)["local"]
    api, ws_url = access["api_url"], access["ws_url"]
    wait_until(lambda: httpx.get(access["web_url"], timeout=2).status_code == 200, 60)
    to_web = time.monotonic() - started
    try:
        cold = asyncio.run(ws_first_token(api, ws_url, "bench-cold", "cold-1"))
        base, secret = gateway(home)
        through, direct = [], []
        for turn in range(args.turns):
            through.append(asyncio.run(ws_first_token(api, ws_url, "bench-warm", f"warm-{turn}")))
            direct.append(direct_first_token(base, secret, "bench-direct"))
    finally:
        pid = json.loads((home / "state.json").read_text())["pid"]
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not Path(f"/proc/{pid}").exists(), 200)
    ws_p50, direct_p50 = statistics.median(through), statistics.median(direct)
    print(f"init --target local -> web URL answers   {to_web:7.2f} s")
    print(f"first token, cold (agent task starts)    {cold:7.2f} s")
    print(
        f"first token, warm, emulated path (p50)   {ws_p50 * 1000:7.0f} ms   ({args.turns} turns)"
    )
    print(f"first token, warm, OpenClaw direct (p50) {direct_p50 * 1000:7.0f} ms")
    print(
        f"added by the emulated path (p50)         {(ws_p50 - direct_p50) * 1000:7.0f} ms"
        f"   ratio {ws_p50 / direct_p50:.2f}x"
    )


if __name__ == "__main__":
    main()
