"""Fixtures for the bridge tests: the pinned OpenClaw, a moto server of their own, stand-ins."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from openclaw_deploy.offline_model import OfflineModel
from tests.bridge.harness import ConnectionsEndpoint, connections_endpoint
from tests.fakes.telegram_api import FakeTelegram, fake_telegram

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def openclaw_command() -> list[str]:
    """The pinned OpenClaw, installed by the project's own toolchain (first time: ~30 s)."""
    from openclaw_deploy import toolchain

    # The same cache scripts/test uses, so a checkout installs OpenClaw once.
    os.environ.setdefault(toolchain.ENV_CACHE, str(REPO / ".cache" / "openclaw-deploy"))
    return toolchain.ensure_openclaw()


@pytest.fixture(scope="session")
def bridge_moto() -> Iterator[str]:
    """A moto server for the bridge tests alone: other tests reset theirs between tests, and a
    bridge that outlives one test must not lose its tables."""
    from moto.server import ThreadedMotoServer

    from openclaw_deploy.local import moto_compat

    moto_compat.apply()  # atomic requests and AWS-like long polls, as the local target has them
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def model() -> Iterator[OfflineModel]:
    with OfflineModel.start() as server:
        yield server


@pytest.fixture(scope="module")
def connections() -> Iterator[ConnectionsEndpoint]:
    with connections_endpoint() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegram]:
    with fake_telegram() as api:
        yield api
