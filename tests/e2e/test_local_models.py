"""Models and keys end to end through the local target, with IAM enforced: the owner's key set
with the CLI is read by the running agent with its task role, and a `model` switch made while it
runs changes the provider of its very next turn (no restart), against provider stand-ins.

The agent starts on an OpenAI-compatible endpoint whose key init stored; the owner then adds an
OpenAI key (`keys set openai -`) and switches (`model openai/...`); the next web message is
answered by the OpenAI stand-in with that key. No key is in the config file, the local cloud's
logs or its state; every AWS call was allowed by the role that made it (`stop` checks).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.local import Local, cli, start, stop
from tests.e2e.test_local_target import _chat
from tests.fakes.provider_apis import ProviderApis, provider_apis

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

COMPATIBLE_KEY = "sk-canary-e2e-compatible-8a7b"
OPENAI_KEY = "sk-canary-e2e-openai-6c5d"


@pytest.fixture(scope="module")
def apis() -> Iterator[ProviderApis]:
    with provider_apis({"compatible": COMPATIBLE_KEY, "openai": OPENAI_KEY}) as fake:
        yield fake


@pytest.fixture(scope="module")
def local(apis: ProviderApis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    workdir = tmp_path_factory.mktemp("local-models")
    task_env = {
        "OPENCLAW_BRIDGE_UPSTREAMS": json.dumps({"openai": apis.base("openai")}),
        "OPENCLAW_BRIDGE_SETTINGS_TTL_SECONDS": "0",
    }
    deployment = start(
        workdir,
        "--provider",
        "openai-compatible",
        "--model",
        "local-model",
        "--llm-base-url",
        apis.base("compatible"),
        "--skip-checks",
        extra_env={
            "OPENCLAW_LLM_API_KEY": COMPATIBLE_KEY,
            "OPENCLAW_DEPLOY_LOCAL_TASK_ENV": json.dumps(task_env),
        },
    )
    try:
        yield deployment
    finally:
        stop(deployment)


def test_a_key_and_a_model_changed_while_the_agent_runs_apply_to_its_next_turn(
    local: Local, apis: ProviderApis
) -> None:
    frames = asyncio.run(_chat(local, "web-models", "m-1", "who answers?"))
    assert frames[-1].get("text") == apis.reply("openai", "local-model"), frames[-3:]
    assert (apis.calls[-1].prefix, apis.calls[-1].key) == ("compatible", COMPATIBLE_KEY)

    refused = cli(local.workdir, "model", "openai/gpt-e2e")
    assert refused.returncode == 2 and "openclaw-deploy keys set openai" in refused.stderr
    added = cli(local.workdir, "keys", "set", "openai", "-", "--skip-check", stdin=OPENAI_KEY)
    assert added.returncode == 0, added.stderr
    switched = cli(local.workdir, "model", "openai/gpt-e2e", "--json")
    assert switched.returncode == 0, switched.stderr
    assert json.loads(switched.stdout)["provider"] == "openai"

    frames = asyncio.run(_chat(local, "web-models", "m-2", "and now?"))
    assert frames[-1].get("text") == apis.reply("openai", "gpt-e2e"), frames[-3:]
    assert (apis.calls[-1].prefix, apis.calls[-1].key) == ("openai", OPENAI_KEY)
    listed = json.loads(cli(local.workdir, "keys", "list", "--json").stdout)
    assert [k["id"] for k in listed["keys"]] == ["openai", "openai-compatible"]

    for path in [local.workdir / "openclaw-deploy.yaml", *(local.home / "logs").rglob("*")]:
        if isinstance(path, Path) and path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            assert COMPATIBLE_KEY not in text and OPENAI_KEY not in text, path
