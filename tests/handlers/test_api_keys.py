"""The settings page's API: providers with key presence and models, write-only keys, the choice
refused without a key, the key in use kept unless forced (moto server, a stand-in model list)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from openclaw_deploy.handlers import api
from openclaw_deploy.runtime import resources
from tests.fakes.llm_api import FakeLlmApi, fake_llm_api
from tests.handlers.conftest import DEPLOYMENT, Stack
from tests.handlers.events import body, http_event

CANARY = "sk-canary-api-5e8b1f0c2d"


def call(method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
    answer = api.handler(http_event(method, path, **kwargs))
    return int(answer["statusCode"]), body(answer)


@pytest.fixture
def llm() -> Iterator[FakeLlmApi]:
    with fake_llm_api(CANARY) as fake:
        yield fake


def providers() -> dict[str, Any]:
    status, answer = call("GET", "/api/providers")
    assert status == 200
    return {p["id"]: p for p in answer["providers"]} | {t["id"]: t for t in answer["tools"]}


def test_a_key_is_write_only_and_its_presence_shows_in_the_provider_list(stack: Stack) -> None:
    before = providers()
    assert before["openai"]["hasKey"] is False
    assert before["openai"]["models"][0] == "gpt-5-mini"
    assert before["gemini"]["needsKey"] is True
    assert before["openai-compatible"]["needsBaseUrl"] is True
    assert before["bedrock"]["needsKey"] is False
    assert before["brave"]["tool"] == "web_search"

    status, answer = call("PUT", "/api/keys/openai", body={"key": CANARY})
    assert status == 200
    assert answer["id"] == "openai" and answer["updatedAt"]
    assert CANARY not in json.dumps(answer), "never shown back"
    assert "next turn" in answer["applies"]
    stored = stack.client("ssm").get_parameter(
        Name=f"{resources.keys_path(DEPLOYMENT)}/openai", WithDecryption=True
    )["Parameter"]
    assert (stored["Type"], stored["Value"]) == ("SecureString", CANARY)

    after = providers()
    assert after["openai"]["hasKey"] is True and after["openai"]["keyUpdatedAt"]
    _, listed = call("GET", "/api/providers")
    assert CANARY not in json.dumps(listed)

    assert call("PUT", "/api/keys/skynet", body={"key": "x"})[0] == 400
    assert call("PUT", "/api/keys/openai", body={"key": "two words"})[0] == 400
    assert call("PUT", "/api/keys/openai", body={"value": CANARY})[0] == 400


def test_choosing_a_provider_without_a_key_is_refused_with_the_command(stack: Stack) -> None:
    status, answer = call(
        "PUT", "/api/settings", body={"provider": "gemini", "model": "gemini-2.5-pro"}
    )
    assert status == 409
    assert answer["error"]["code"] == "no_key"
    assert "openclaw-deploy keys set gemini" in answer["error"]["message"]

    call("PUT", "/api/keys/gemini", body={"key": CANARY})
    status, answer = call(
        "PUT", "/api/settings", body={"provider": "gemini", "model": "gemini-2.5-pro"}
    )
    assert (status, answer["provider"], answer["model"]) == (200, "gemini", "gemini-2.5-pro")

    # A custom model id is fine; "use the deployment's default" clears the choice.
    status, answer = call(
        "PUT",
        "/api/settings",
        body={
            "provider": "openai-compatible",
            "model": "my.custom-1",
            "baseUrl": "http://10.0.0.5:8000/v1",
        },
    )
    assert (status, answer["model"]) == (200, "my.custom-1")
    status, answer = call("PUT", "/api/settings", body={"provider": None})
    assert (status, answer["provider"], answer["model"]) == (200, None, None)


def test_the_key_in_use_is_kept_unless_forced(stack: Stack) -> None:
    call("PUT", "/api/keys/gemini", body={"key": CANARY})
    call("PUT", "/api/settings", body={"provider": "gemini", "model": "gemini-2.5-flash"})
    status, answer = call("DELETE", "/api/keys/gemini")
    assert (status, answer["error"]["code"]) == (409, "in_use")
    assert call("DELETE", "/api/keys/gemini", query={"force": "true"})[0] == 204
    assert call("DELETE", "/api/keys/gemini", query={"force": "true"})[0] == 404
    assert providers()["gemini"]["hasKey"] is False


def test_models_come_from_the_provider_when_it_lists_them(stack: Stack, llm: FakeLlmApi) -> None:
    status, answer = call("GET", "/api/providers/anthropic/models")
    assert status == 200
    assert answer["source"] == "curated" and answer["problem"] == "no key yet"
    assert "claude-sonnet-4-5" in answer["models"]

    call("PUT", "/api/keys/openai-compatible", body={"key": CANARY})
    _, answer = call("GET", "/api/providers/openai-compatible/models", query={"baseUrl": llm.url})
    assert llm.requests[-1] == {"path": "/models", "key": ""}, "the key only goes where saved"
    assert answer["problem"] == "the key was refused"
    call(
        "PUT",
        "/api/settings",
        body={"provider": "openai-compatible", "model": "model-1", "baseUrl": llm.url},
    )
    status, answer = call("GET", "/api/providers/openai-compatible/models")
    assert (status, answer["source"], answer["models"]) == (200, "provider", ["model-1"])
    assert llm.requests[-1] == {"path": "/models", "key": CANARY}

    call("PUT", "/api/keys/openai-compatible", body={"key": "sk-refused"})
    _, answer = call("GET", "/api/providers/openai-compatible/models")
    assert (answer["source"], answer["problem"]) == ("curated", "the key was refused")
    assert call("GET", "/api/providers/skynet/models")[0] == 404


@pytest.mark.parametrize(
    ("init_provider", "init_model", "model", "allowed"),
    [
        ("anthropic", "claude-sonnet-4-5", "anthropic.claude-sonnet-4-5-20250929-v1:0", False),
        ("bedrock", "us.anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.x-v1:0", False),
        (
            "bedrock",
            "us.anthropic.claude-haiku-4-5-20251001-v1:0",
            "anthropic.claude-haiku-4-5-20251001-v1:0",
            True,
        ),
    ],
)
def test_a_bedrock_model_the_role_may_not_invoke_is_refused_with_the_command(
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    init_provider: str,
    init_model: str,
    model: str,
    allowed: bool,
) -> None:
    monkeypatch.setenv("OPENCLAW_LLM_PROVIDER", init_provider)
    monkeypatch.setenv("OPENCLAW_LLM_MODEL", init_model)
    status, answer = call("PUT", "/api/settings", body={"provider": "bedrock", "model": model})
    if allowed:
        assert (status, answer["provider"]) == (200, "bedrock")
        return
    assert status == 409
    assert (answer["error"]["code"], answer["error"]["field"]) == ("no_grant", "model")
    assert f"openclaw-deploy init --provider bedrock --model {model}" in answer["error"]["message"]
    assert call("GET", "/api/settings")[1]["provider"] is None, "nothing was stored"
