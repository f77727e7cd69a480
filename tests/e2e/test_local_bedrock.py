"""A Bedrock deployment on the local target, with IAM enforced: the agent's model calls go from
the real OpenClaw through the bridge's proxy (Anthropic Messages turned into Bedrock's
InvokeModelWithResponseStream, SigV4 with the task role's credentials) to the local cloud's
Bedrock Runtime, which lets them through only when the synthesized task role allows them (the
region's inference profile and its model) and answers with its demo model. Another Bedrock
model is refused up front by `model`, with the command that grants it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from openclaw_deploy.runtime.providers import resolve_model
from tests.e2e.local import Local, cli, start, stop
from tests.e2e.test_local_target import _chat

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

PROFILE = resolve_model("bedrock", "", "us-east-1")


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    workdir = tmp_path_factory.mktemp("local-bedrock")
    deployment = start(workdir, "--provider", "bedrock", "--region", "us-east-1", "--skip-checks")
    try:
        yield deployment
    finally:
        stop(deployment)


def test_a_bedrock_deployment_answers_through_its_task_roles_grant(local: Local) -> None:
    frames = asyncio.run(_chat(local, "web-bedrock", "m-1", "hello bedrock"))
    final = frames[-1]
    assert final["type"] == "chat.final", frames[-3:]
    text = str(final.get("text"))
    assert text.startswith(f"Amazon Bedrock (the local target's demo model, {PROFILE}) heard you")
    assert "hello bedrock" in text

    audit = local.home / "logs" / "iam-audit.jsonl"
    entries = [json.loads(line) for line in audit.read_text().splitlines()]
    invoked = {
        e["resource"]
        for e in entries
        if e.get("action") == "bedrock:InvokeModelWithResponseStream"
        and e.get("decision") == "Allowed"
    }
    assert f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{PROFILE}" in invoked
    assert local.iam_refusals() == []

    other = cli(local.workdir, "model", "bedrock/anthropic.claude-haiku-4-5-20251001-v1:0")
    assert other.returncode == 2
    assert "openclaw-deploy init --provider bedrock --model" in " ".join(other.stderr.split())
