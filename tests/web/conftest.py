"""Fixtures for the web SPA's browser tests: a fresh production build, Debian's Chromium,
a small static site that serves the build with a runtime config.json, and a runner for the
node:test + playwright-core specs under web/e2e/."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from openclaw_deploy import toolchain

REPO = Path(__file__).resolve().parents[2]
WEB = REPO / "web"
ARTIFACTS = REPO / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM_HINT = "install Debian's Chromium (apt-get install -y chromium) or set OPENCLAW_CHROMIUM"


def _npm(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    # npm's own entry point: the wheel's bin/npm wrapper cannot run from where it is installed.
    npm_cli = toolchain.node_bin_dir().parent / "lib/node_modules/npm/bin/npm-cli.js"
    return subprocess.run(
        [str(toolchain.node_path()), str(npm_cli), *args],
        cwd=WEB,
        env=toolchain.node_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def _check(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        pytest.fail(f"{what} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """`npm run build` of the current sources (npm ci first when node_modules is missing)."""
    if not (WEB / "node_modules" / ".package-lock.json").exists():
        _check(_npm("ci", "--no-audit", "--no-fund"), "npm ci in web/")
    _check(_npm("run", "build"), "npm run build in web/")
    dist = WEB / "dist"
    assert (dist / "index.html").exists()
    return dist


@pytest.fixture(scope="session")
def chromium() -> str:
    path = os.environ.get("OPENCLAW_CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists() and not shutil.which(path):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {path}: {CHROMIUM_HINT}")
        pytest.skip(f"Chromium not found at {path}: {CHROMIUM_HINT}")
    return path


@dataclass
class StaticSite:
    """The built SPA plus config.json, as CloudFront would serve them from S3."""

    url: str
    config: dict[str, Any] = field(default_factory=dict)
    api_requests: list[dict[str, Any]] = field(default_factory=list)


def _handler(dist: Path, site: StaticSite) -> type[SimpleHTTPRequestHandler]:
    unavailable = json.dumps(
        {"error": {"code": "internal", "message": "no API in this test: only Cognito is real"}}
    ).encode()

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(dist), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _api(self) -> None:
            # The HTTP API is out of scope here: record what the SPA sent, answer 503.
            site.api_requests.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "authorization": self.headers.get("Authorization"),
                }
            )
            self._send(503, unavailable)

        def do_GET(self) -> None:
            if self.path.split("?")[0] == "/config.json":
                self._send(200, json.dumps(site.config).encode())
            elif self.path.startswith("/api/"):
                self._api()
            else:
                super().do_GET()

        def do_POST(self) -> None:
            self._api()

        def do_PUT(self) -> None:
            self._api()

        def do_DELETE(self) -> None:
            self._api()

    return Handler


StartSite = Callable[[Callable[[str], dict[str, Any]]], StaticSite]


@pytest.fixture
def static_site(web_dist: Path) -> Iterator[StartSite]:
    """Start the site; its config.json is made from the site's own URL. Stopped after the test."""
    servers: list[ThreadingHTTPServer] = []

    def start(make_config: Callable[[str], dict[str, Any]]) -> StaticSite:
        site = StaticSite(url="")
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(web_dist, site))
        servers.append(server)
        site.url = f"http://127.0.0.1:{server.server_address[1]}/"
        site.config = make_config(site.url)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return site

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@dataclass
class SpecRun:
    returncode: int
    output: str
    metrics: dict[str, int]

    def count(self, what: str) -> int:
        found = re.search(rf"^ℹ {what} (\d+)$", self.output, re.MULTILINE)
        return int(found.group(1)) if found else -1


def run_spec(spec: str, env: dict[str, str], chromium: str, timeout: float = 600) -> SpecRun:
    """Run one web/e2e spec with node:test and collect its METRIC lines."""
    result = subprocess.run(
        [
            str(toolchain.node_path()),
            "--test",
            "--test-concurrency=1",
            "--test-reporter=spec",
            f"e2e/{spec}",
        ],
        cwd=WEB,
        env=toolchain.node_env(
            {**env, "OPENCLAW_CHROMIUM": chromium, "OPENCLAW_SCREENSHOTS": str(SCREENSHOTS)}
        ),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    output = result.stdout + result.stderr
    metrics = {m.group(1): int(m.group(2)) for m in re.finditer(r"METRIC (\w+)=(\d+)", output)}
    if metrics:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / "web-metrics.json"
        previous = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**previous, **metrics}, indent=2) + "\n")
    return SpecRun(result.returncode, output, metrics)
