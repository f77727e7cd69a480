"""Fill Node's compile cache for OpenClaw at image build time, so a cold start skips compiling.

OpenClaw turns on Node's compile cache itself, in `<tmpdir>/node-compile-cache/openclaw/...`;
in a fresh container that folder is empty and every start compiles OpenClaw's code again. This
script starts OpenClaw once, the way the bridge does (our config template, the offline model),
waits until it is ready, runs one turn and stops it; Node writes the cache when it exits. The
Dockerfile runs it as the agent's user (Node keys the cache folder by uid) and then hands the
cache to root, read-only: the agent reads it and cannot change it.

    python3 prewarm.py   # with the bridge and the shared runtime on PYTHONPATH
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

from openclaw_bridge.app import free_port
from openclaw_bridge.gateway import GatewayClient, OpenClawProcess
from openclaw_bridge.proxy import ModelProxy, upstream_for
from openclaw_bridge.render import choose_model, openclaw_env, render_config
from openclaw_deploy.offline_model import OfflineModel

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "openclaw.json5"
READY_TIMEOUT_SECONDS = 600.0
CACHE_FOLDER = "node-compile-cache"


def prewarm(command: list[str], template: Path, *, home: Path | None = None) -> float:
    """Start OpenClaw, wait for ready, run one turn, stop it; the seconds it all took. With
    `home`, its state and config stay there (bench/cold_start.py makes a backup of them)."""
    started = time.monotonic()
    keep = home is not None
    home = home or Path(tempfile.mkdtemp(prefix="openclaw-prewarm-"))
    home.mkdir(parents=True, exist_ok=True)
    with OfflineModel.start() as model:
        choice = choose_model(
            settings_provider=None,
            settings_model=None,
            default_provider="offline",
            default_model=None,
            base_url=model.base_url,
        )
        # Through the model proxy, as the bridge runs it.
        route = upstream_for(choice.provider, base_url=model.base_url, region="us-east-1")
        proxy = ModelProxy([route], key_for=lambda _provider: None).start()
        port = free_port()
        token = secrets.token_urlsafe(24)
        env = openclaw_env(
            state_dir=str(home / "state"),
            config_path=str(home / "openclaw.json"),
            gateway_token=token,
            gateway_port=port,
        )
        (home / "openclaw.json").write_text(
            render_config(
                template.read_text(encoding="utf-8"),
                choice,
                gateway_port=port,
                proxy_url=f"http://127.0.0.1:{proxy.port}",
                log_file=str(home / "openclaw.log"),
            ),
            encoding="utf-8",
        )
        process = OpenClawProcess(command, port=port, env=env, cwd=home)
        process.start()
        try:
            process.wait_ready(READY_TIMEOUT_SECONDS)
            client = GatewayClient(process.base_url, token)
            try:
                reply = "".join(client.stream_reply("prewarm", "hello"))
            finally:
                client.close()
            if not reply:
                raise RuntimeError("OpenClaw gave an empty first reply")
        finally:
            code = process.stop(timeout=60)
            proxy.stop()
        if code not in (0, None):
            raise RuntimeError(f"OpenClaw exited with {code} after the warm-up")
    if not keep:
        shutil.rmtree(home, ignore_errors=True)
    return time.monotonic() - started


def _entries(folder: Path) -> set[str]:
    return {entry.name for entry in folder.iterdir()} if folder.is_dir() else set()


def main() -> int:
    command = [os.environ.get("OPENCLAW_BRIDGE_OPENCLAW_CMD", "openclaw")]
    # What OpenClaw leaves in the home and scratch folders (logs, caches) must not ship.
    scratch, home = Path(tempfile.gettempdir()), Path.home()
    before = {scratch: _entries(scratch), home: _entries(home)}
    seconds = prewarm(command, TEMPLATE)
    for folder, kept in before.items():
        for name in _entries(folder) - kept - {CACHE_FOLDER}:
            path = folder / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    sys.stderr.write(f"OpenClaw started, answered and stopped in {seconds:.1f} s\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
