"""Shared fixtures: a real moto server on 127.0.0.1, and an environment that points boto3 at it.

Every AWS call in the tests goes over HTTP to this server through boto3's standard
`AWS_ENDPOINT_URL`, exactly as the CLI and the local target make them; nothing is patched.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

# Suites that share something outside their own temporary folders run on one worker, one after
# the other, when the suite runs on several (`pytest -n 2`, as scripts/test does):
# - the agent image: buildah's storage, its build cache, and the iptables rules of image tasks;
# - the web build: `web/dist`, rebuilt by the browser suites and read by the wheel build.
SHARED_IMAGE: Final = "agent-image"
SHARED_WEB_BUILD: Final = "web-build"
_SHARED_BY_FILE: Final = {
    "tests/local/test_firewall.py": SHARED_IMAGE,
    "tests/e2e/test_agent_isolation.py": SHARED_IMAGE,
    "tests/local/test_image_e2e.py": SHARED_IMAGE,
    "tests/cli/test_app.py": SHARED_WEB_BUILD,
}
# A file naming one of these fixtures shares what it builds.
_SHARED_BY_FIXTURE: Final = {
    "agent_image": SHARED_IMAGE,
    "browser_image": SHARED_IMAGE,
    "web_dist": SHARED_WEB_BUILD,
}
_TESTS: Final = Path(__file__).resolve().parent

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


@functools.cache
def shared_group(path: str) -> str | None:
    """The group of a test file (`tests/...py`) that shares state with others, if it does."""
    if path in _SHARED_BY_FILE:
        return _SHARED_BY_FILE[path]
    if path.startswith("tests/web/"):
        return SHARED_WEB_BUILD  # every browser suite builds or serves web/dist
    try:
        text = (_TESTS.parent / path).read_text(encoding="utf-8")
    except OSError:
        return None
    return next((group for name, group in _SHARED_BY_FIXTURE.items() if name in text), None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Each test file runs on one worker, so its module fixtures (a local target, a real OpenClaw)
    start once; the files of a shared group run on the same worker, one after the other."""
    from xdist.scheduler import LoadFileScheduling  # type: ignore[import-untyped]

    class SharedStateScheduling(LoadFileScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return shared_group(path) or path

    return SharedStateScheduling(config, log)


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
