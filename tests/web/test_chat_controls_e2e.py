"""The web chat's controls in Chromium through the local target (web/e2e/controls.spec.ts): Stop
ends the reply being written and the next message is answered; an attached file reaches the
agent; rename and delete stay after a reload. Checks on the local cloud that the deleted
conversation left no history row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.e2e.local import Local, cli, start, stop

from .conftest import run_spec

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


# OpenClaw's start is CPU-bound: on a machine shared with other test runs it may need more than
# the bridge's 90 s to be ready.
SLOW_MACHINE = {"OPENCLAW_BRIDGE_READY_TIMEOUT_SECONDS": "300"}


@pytest.fixture(scope="module")
def local(web_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    deployment = start(
        tmp_path_factory.mktemp("local-controls-web"),
        extra_env={"OPENCLAW_DEPLOY_LOCAL_TASK_ENV": json.dumps(SLOW_MACHINE)},
    )
    try:
        yield deployment
    finally:
        stop(deployment)


def test_stop_rename_and_delete_in_chromium(local: Local, chromium: str) -> None:
    access = json.loads((local.home / "access.json").read_text())
    started = cli(local.workdir, "start", "--json", timeout=600)
    assert started.returncode == 0, started.stderr
    run = run_spec(
        "controls.spec.ts",
        {
            "OPENCLAW_WEB_URL": local.state()["web_url"],
            "OPENCLAW_E2E_USERNAME": access["owner_email"],
            "OPENCLAW_E2E_PASSWORD": access["owner_password"],
        },
        chromium,
    )
    assert run.returncode == 0, run.output
    assert run.count("fail") == 0 and run.count("skipped") == 0, run.output
    assert run.count("pass") >= 5, run.output

    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=local.state()["moto_url"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    [table] = [t for t in dynamodb.list_tables()["TableNames"] if t.endswith("conversations")]
    rows = dynamodb.scan(TableName=table)["Items"]
    texts = " ".join(json.dumps(row) for row in rows)
    assert "Count for me" not in texts, "the deleted conversation left history rows"
    assert "Answered after the stop" not in texts
