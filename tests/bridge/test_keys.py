"""The bridge's key store (moto's SSM): per provider, a change seen within its TTL, the old
single key only for its own provider, and a refusal named with the command that fixes it."""

from __future__ import annotations

import boto3

from openclaw_bridge.keys import BridgeKeys, refused_notice
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.keys import KeyStore

PATH = resources.keys_path("keysbridge")


def test_keys_per_provider_seen_again_after_the_ttl(aws_env: str) -> None:
    store = KeyStore(boto3.client("ssm", region_name="us-east-1"), PATH)
    store.store_key("openai", "sk-one")
    now = [100.0]
    keys = BridgeKeys(store, ttl=5.0, clock=lambda: now[0])

    assert keys("openai") == "sk-one"
    assert keys("anthropic") is None
    assert keys("bedrock") is None, "no key is kept for a provider without keys"

    store.store_key("openai", "sk-two")
    store.store_key("anthropic", "sk-ant")
    now[0] += 4.0
    assert keys("openai") == "sk-one", "within the TTL: no SSM call per request"
    now[0] += 1.5
    assert (keys("openai"), keys("anthropic")) == ("sk-two", "sk-ant")

    store.remove_key("openai")
    keys.forget("openai")
    assert keys("openai") is None


def test_the_old_single_key_serves_only_its_own_provider(aws_env: str) -> None:
    store = KeyStore(boto3.client("ssm", region_name="us-east-1"), PATH)
    keys = BridgeKeys(store, fallback=lambda p: "sk-env" if p == "deepseek" else None)
    assert keys("deepseek") == "sk-env"
    assert keys("openai") is None
    store.store_key("deepseek", "sk-ssm")
    assert BridgeKeys(store, fallback=lambda p: "sk-env")("deepseek") == "sk-ssm", "SSM wins"


def test_a_refusal_names_the_provider_and_the_command() -> None:
    notice = "your OpenAI key was refused: openclaw-deploy keys set openai"
    assert refused_notice("openai", "401 Incorrect API key provided") == notice
    assert refused_notice("anthropic", "authentication_error: invalid x-api-key") == (
        "your Anthropic key was refused: openclaw-deploy keys set anthropic"
    )
    assert refused_notice("gemini", "403 API key not valid") is not None
    assert refused_notice("openai", "429 rate limited") is None
    assert refused_notice("openai", "internal error") is None
    assert refused_notice("bedrock", "403 forbidden") is None, "no key to replace"


def test_bedrocks_refusal_reaches_the_owner_as_the_proxy_worded_it() -> None:
    proxied = (
        '403: {"error":{"message":"the agent\'s task role may not invoke us.m on Amazon Bedrock'
        ' (not authorized); grant it with: openclaw-deploy init --provider bedrock --model m",'
        '"type":"permission_error"},"type":"error"}'
    )
    assert refused_notice("bedrock", proxied) == (
        "Amazon Bedrock refused the agent: the agent's task role may not invoke us.m on Amazon "
        "Bedrock (not authorized); grant it with: openclaw-deploy init --provider bedrock --model m"
    )
    throttled = '429: {"error":{"message":"slow down","type":"rate_limit_error"}}'
    assert refused_notice("bedrock", throttled) is None
    assert refused_notice("bedrock", "403 forbidden") is None
