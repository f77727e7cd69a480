"""Every provider's wire format through the real OpenClaw, switched live in one conversation.

One bridge (one pinned OpenClaw) starts on the offline model; the owner's settings then name
OpenAI, Anthropic, Gemini, Bedrock and an OpenAI-compatible endpoint in turn, and each next
turn of the same session reaches that provider's stand-in (tests/fakes/provider_apis.py) in its
own format with its own key from SSM, without a restart. A key the provider refuses reaches the
owner as "your DeepSeek key was refused: openclaw-deploy keys set deepseek". No key appears
anywhere on the agent's disk or in its logs: only SSM holds them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest

from openclaw_deploy.offline_model import OfflineModel
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.contract import QueueMessage
from openclaw_deploy.runtime.keys import KeyStore
from openclaw_deploy.runtime.settings import Settings
from tests.bridge.harness import (
    BridgeProcess,
    ConnectionsEndpoint,
    Deployment,
    bridge_env,
    provision,
    wait_for,
)
from tests.fakes.provider_apis import ProviderApis, provider_apis

pytestmark = pytest.mark.slow

TURN_TIMEOUT = 90
SESSION = "web-switch"
CANARIES = {
    "openai": "sk-canary-openai-1f2e3d",
    "anthropic": "sk-ant-canary-4c5b6a",
    "gemini": "AIza-canary-7d8e9f",
    "compatible": "sk-canary-compatible-0a1b",
    "deepseek": "sk-canary-deepseek-right-2c3d",
}
WRONG_DEEPSEEK = "sk-canary-deepseek-wrong-5e6f"


@dataclass
class Live:
    deployment: Deployment
    bridge: BridgeProcess
    apis: ProviderApis
    home: Path
    settings: Settings


@pytest.fixture(scope="module")
def live(
    bridge_moto: str,
    openclaw_command: list[str],
    model: OfflineModel,
    connections: ConnectionsEndpoint,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Live]:
    deployment = provision(bridge_moto)
    deployment.connections.add("conn-live", user="owner")
    keys = KeyStore(deployment.client("ssm"), resources.keys_path(deployment.name))
    for key_id, prefix in (
        ("openai", "openai"),
        ("anthropic", "anthropic"),
        ("gemini", "gemini"),
        ("openai-compatible", "compatible"),
    ):
        keys.store_key(key_id, CANARIES[prefix])
    keys.store_key("deepseek", WRONG_DEEPSEEK)
    arn = f"arn:aws:ecs:us-east-1:123456789012:task/agent/{uuid.uuid4().hex}"
    deployment.begin_start(arn)
    home = tmp_path_factory.mktemp("agent-home-live")
    with provider_apis(CANARIES) as apis:
        upstreams = {
            "openai": apis.base("openai"),
            "anthropic": apis.base("anthropic"),
            "gemini": apis.base("gemini") + "/v1beta",
            "bedrock": apis.base("bedrock"),
            "deepseek": apis.base("deepseek"),
        }
        env = bridge_env(
            deployment,
            home=home,
            openclaw=openclaw_command,
            task_arn=arn,
            model_url=model.base_url,
            connections_url=connections.url,
            upstreams=json.dumps(upstreams),
            settings_ttl_seconds="0",
        )
        bridge = BridgeProcess(env, home.parent / f"{home.name}.log").start()
        try:
            bridge.wait_running(timeout=150)
            settings = Settings(deployment.client("dynamodb"), deployment.table(resources.SETTINGS))
            yield Live(deployment, bridge, apis, home, settings)
        finally:
            bridge.stop()


def answer(live: Live, connections: ConnectionsEndpoint, text: str) -> dict[str, object]:
    """The final frame (or the error frame) of one turn in the shared session."""
    msg: QueueMessage = live.deployment.send(text, session=SESSION)

    def done() -> list[dict[str, object]]:
        return connections.frames(
            "conn-live", kind="chat.final", message_id=msg.message_id
        ) or connections.frames("conn-live", kind="error", message_id=msg.message_id)

    frames: list[dict[str, object]] = wait_for(done, TURN_TIMEOUT, what=f"the answer to {text!r}")
    return frames[0]


@pytest.mark.parametrize(
    ("provider", "model_id", "base_url", "fmt", "prefix"),
    [
        ("openai", "gpt-live-1", None, "openai", "openai"),
        ("anthropic", "claude-live-1", None, "anthropic", "anthropic"),
        ("gemini", "gemini-live-1", None, "gemini", "gemini"),
        ("bedrock", "anthropic.claude-live-v1:0", None, "bedrock", "bedrock"),
        ("openai-compatible", "local-llama", "compatible", "openai", "compatible"),
    ],
)
def test_the_next_turn_uses_the_provider_just_chosen_in_its_own_wire_format(
    live: Live,
    connections: ConnectionsEndpoint,
    provider: str,
    model_id: str,
    base_url: str | None,
    fmt: str,
    prefix: str,
) -> None:
    changes: dict[str, object] = {"provider": provider, "model": model_id}
    if base_url:
        changes["baseUrl"] = live.apis.base(base_url)
    live.settings.put(changes)
    calls = len(live.apis.calls)

    final = answer(live, connections, f"which model are you? ({provider})")

    expected_model = "us." + model_id if provider == "bedrock" else model_id  # region's profile
    assert final.get("text") == live.apis.reply(fmt, expected_model), final
    call = live.apis.calls[calls]
    assert (call.prefix, call.format, unquote(call.model)) == (prefix, fmt, expected_model)
    assert call.key == ("sigv4" if fmt == "bedrock" else CANARIES[prefix])


def test_a_refused_key_is_named_with_the_command_that_replaces_it(
    live: Live, connections: ConnectionsEndpoint
) -> None:
    live.settings.put({"provider": "deepseek", "model": "deepseek-live"})
    frame = answer(live, connections, "and now?")
    assert frame["type"] == "error", frame
    message = str(frame.get("message"))
    assert "your DeepSeek key was refused: openclaw-deploy keys set deepseek" in message
    assert live.apis.calls[-1].key == WRONG_DEEPSEEK

    # OpenClaw holds a refused provider back for about 30 s (its auth cooldown), so a replaced
    # key is tried after that; another provider answers the very next turn.
    live.settings.put({"provider": "openai", "model": "gpt-after-refusal"})
    final = answer(live, connections, "and with OpenAI?")
    assert final.get("text") == live.apis.reply("openai", "gpt-after-refusal")


def test_a_bedrock_model_the_role_may_not_invoke_is_named_with_the_command_that_grants_it(
    live: Live, connections: ConnectionsEndpoint
) -> None:
    # The stand-in answers AccessDenied for it, as AWS does for a model the role is not granted.
    live.settings.put({"provider": "bedrock", "model": "anthropic.denied-live-v1:0"})
    frame = answer(live, connections, "and with a model the role may not use?")
    assert frame["type"] == "error", frame
    message = str(frame.get("message"))
    assert "Amazon Bedrock refused the agent: the agent's task role may not invoke" in message
    assert message.endswith(
        "grant it with: openclaw-deploy init --provider bedrock --model anthropic.denied-live-v1:0"
    )
    assert live.apis.calls[-1].model == "us.anthropic.denied-live-v1:0"


def test_back_to_the_deployments_default_and_no_key_outside_ssm(
    live: Live, connections: ConnectionsEndpoint
) -> None:
    live.settings.put({"provider": None})
    calls = len(live.apis.calls)
    final = answer(live, connections, "hello again")
    assert final.get("text"), final
    assert len(live.apis.calls) == calls, "the offline model answered, no provider"

    secrets = [*CANARIES.values(), WRONG_DEEPSEEK]
    texts = [live.bridge.output]
    for path in live.home.rglob("*"):
        if path.is_file():
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    for frame in connections.frames("conn-live"):
        texts.append(str(frame))
    for text in texts:
        for secret in secrets:
            assert secret not in text
