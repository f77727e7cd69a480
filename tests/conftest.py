"""Shared fixtures: a real moto server on 127.0.0.1, and an environment that points boto3 at it.

Every AWS call in the tests goes over HTTP to this server through boto3's standard
`AWS_ENDPOINT_URL`, exactly as the CLI and the local target make them; nothing is patched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Final

import httpx
import pytest

# Suites that share something outside their own temporary folders run on one worker, one after
# the other, when the suite runs on several (`pytest -n 2`, as scripts/test does):
# - the agent image: buildah's storage, its build cache, and the iptables rules of image tasks;
# - the web build: `web/dist`, rebuilt by the browser suites and read by the wheel build.
SHARED_IMAGE: Final = "agent-image"
SHARED_WEB_BUILD: Final = "web-build"
_SHARED_BY_FIXTURE: Final = {"agent_image": SHARED_IMAGE, "web_dist": SHARED_WEB_BUILD}
_SHARED_BY_FILE: Final = {
    "tests/local/test_firewall.py": SHARED_IMAGE,
    "tests/e2e/test_agent_isolation.py": SHARED_IMAGE,
    "tests/local/test_image_e2e.py": SHARED_IMAGE,
    "tests/cli/test_app.py": SHARED_WEB_BUILD,
}

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server for the whole run (start-up is ~1 s); `aws_env` resets it per test."""
    from moto.server import ThreadedMotoServer

    from openclaw_deploy.local import moto_compat

    moto_compat.apply()  # SQS FIFO long polls as AWS runs them (see the module)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A clean moto account and process environment that sends every boto3 call to it."""
    httpx.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    for key in list(os.environ):
        if key.startswith(("AWS_", "OPENCLAW_")):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    return moto_endpoint


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep each file on one worker (its module fixtures, e.g. a local target, start once) and
    the files that share state on the same one (`--dist loadgroup` reads these groups)."""
    groups: dict[str, str] = {}
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        fixtures = getattr(item, "fixturenames", ())
        shared = _SHARED_BY_FILE.get(path) or next(
            (group for name, group in _SHARED_BY_FIXTURE.items() if name in fixtures), None
        )
        if shared is not None or path not in groups:
            groups[path] = shared or groups.get(path) or path
    for item in items:
        item.add_marker(pytest.mark.xdist_group(groups[item.nodeid.split("::", 1)[0]]))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A report crosses from a worker to the main process as UTF-8: a lone surrogate in it (a fuzz
    test's input, echoed in captured logs) would stop the whole run, not just fail the test."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    report.sections = [(title, _utf8(text)) for title, text in report.sections]
    if report.longrepr is not None and _utf8(str(report.longrepr)) != str(report.longrepr):
        report.longrepr = _utf8(str(report.longrepr))


def _utf8(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
