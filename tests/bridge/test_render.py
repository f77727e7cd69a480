"""OpenClaw's config and environment per provider: no key and no AWS credential in either.

Every provider is described at the bridge's model proxy with a placeholder key; the proxy adds
the real key (openclaw_bridge.proxy).

The slow test runs the pinned OpenClaw's own `config validate` on every provider's rendered
config: OpenClaw refuses unknown keys, so a schema change in an upgrade shows up here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from openclaw_bridge.config import BridgeConfig, BridgeConfigError, default_template
from openclaw_bridge.proxy import PLACEHOLDER_KEY
from openclaw_bridge.render import (
    ModelChoice,
    RenderError,
    choose_model,
    openclaw_env,
    render_config,
)
from openclaw_deploy.runtime.providers import PROVIDER_IDS, PROVIDERS, get_provider

KEY = "sk-canary-render-0123456789"
TEMPLATE = default_template().read_text()
PROXY = "http://127.0.0.1:4242"


def choice_for(provider: str) -> ModelChoice:
    # The offline model always has a URL (the bridge starts one when none is given).
    return choose_model(
        settings_provider=None,
        settings_model=None,
        default_provider=provider,
        default_model="local-model" if provider == "openai-compatible" else None,
        base_url="http://127.0.0.1:9/v1" if provider in ("offline", "openai-compatible") else None,
    )


# What the bridge describes beside the chosen provider, so the owner can switch while it runs.
OTHERS = [p for p in PROVIDERS.values() if p.id != "offline"]


def render(choice: ModelChoice) -> str:
    return render_config(
        TEMPLATE,
        choice,
        gateway_port=18789,
        proxy_url=PROXY,
        log_file="/tmp/openclaw-test.log",
        others=OTHERS,
    )


def test_every_provider_is_described_at_the_proxy_so_a_turn_can_switch_to_it() -> None:
    text = render(choice_for("offline"))
    for provider in OTHERS:
        assert f'"{provider.openclaw_provider}": {{"baseUrl": "{PROXY}/{provider.id}"' in text
    assert '"api": "google-generative-ai"' in text
    assert '"api": "anthropic-messages"' in text


@pytest.mark.parametrize("provider", PROVIDER_IDS)
def test_no_key_and_no_aws_credential_reach_openclaw(provider: str) -> None:
    choice = choice_for(provider)
    text = render(choice)
    env = openclaw_env(
        state_dir="/s",
        config_path="/c.json",
        gateway_token="tok-123456",
        gateway_port=18789,
        home="/home/agent",
        environ={
            "PATH": "/bin",
            "HOME": "/home/bridge",
            "OPENCLAW_LLM_API_KEY": KEY,
            "ANTHROPIC_API_KEY": KEY,
            "OPENCLAW_TELEGRAM_BOT_TOKEN": "123:secret-tg",
            "AWS_ACCESS_KEY_ID": "AKIA-TEST",
            "AWS_SECRET_ACCESS_KEY": "secret-test",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
            "AWS_ENDPOINT_URL": "http://moto",
            "AWS_REGION": "eu-west-1",
            "HTTPS_PROXY": "http://egress:3128",
        },
    )

    assert KEY not in text
    assert "tok-123456" not in text
    assert f'"{choice.model_ref}"' in text
    assert '"loopback"' in text
    assert "channels:" not in text, "no Telegram channel: it would fight our webhook"
    # The provider is described at the proxy, with the placeholder instead of a key.
    assert f'"baseUrl": "{PROXY}/{provider}"' in text
    assert f'"apiKey": "{PLACEHOLDER_KEY}"' in text
    assert env["OPENCLAW_GATEWAY_TOKEN"] == "tok-123456"
    assert env["HOME"] == "/home/agent", "the agent's own home, not the bridge's"
    assert [name for name in env if name.startswith("AWS_")] == []
    assert KEY not in env.values()
    assert "123:secret-tg" not in env.values()
    assert "OPENCLAW_TELEGRAM_BOT_TOKEN" not in env and "OPENCLAW_LLM_API_KEY" not in env
    assert "127.0.0.1" in env["NO_PROXY"], "the loopback proxy is never reached via egress"


def test_settings_win_over_init_and_a_base_url_follows_its_provider() -> None:
    chosen = choose_model(
        settings_provider="openai",
        settings_model="gpt-5.1",
        default_provider="deepseek",
        default_model="deepseek-v4-flash",
        base_url="http://proxy/v1",
    )
    assert chosen.model_ref == "openai/gpt-5.1"
    assert chosen.base_url is None, "the proxy was given for DeepSeek, not OpenAI"

    default = choose_model(
        settings_provider=None,
        settings_model=None,
        default_provider="deepseek",
        default_model=None,
        base_url="http://proxy/v1",
    )
    assert default.model == get_provider("deepseek").default_model
    assert default.base_url == "http://proxy/v1"
    # OpenClaw's config names the model proxy; the override is where the proxy forwards to.
    assert f'"baseUrl": "{PROXY}/deepseek"' in render(default)
    assert "http://proxy/v1" not in render(default)


def test_an_unknown_provider_is_refused() -> None:
    with pytest.raises(RenderError, match="unknown provider"):
        choice_for("nope")


def test_bridge_config_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(BridgeConfigError, match="OPENCLAW_QUEUE_INBOUND_URL"):
        BridgeConfig.from_env({})
    with pytest.raises(BridgeConfigError, match="OPENCLAW_BRIDGE_OPENCLAW_CMD"):
        BridgeConfig.from_env({"OPENCLAW_BRIDGE_OPENCLAW_CMD": "[1, 2]"})


@pytest.mark.slow
@pytest.mark.parametrize("provider", PROVIDER_IDS)
def test_the_pinned_openclaw_accepts_every_providers_config(
    provider: str, openclaw_command: list[str], tmp_path: Path
) -> None:
    choice = choice_for(provider)
    config = tmp_path / "openclaw.json"
    config.write_text(render(choice))
    env = openclaw_env(
        state_dir=str(tmp_path / "state"),
        config_path=str(config),
        gateway_token="t" * 32,
        gateway_port=18789,
        environ={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    result = subprocess.run(
        [*openclaw_command, "config", "validate", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert KEY not in result.stdout + result.stderr


@pytest.mark.slow
def test_the_pinned_openclaw_starts_without_its_control_ui(
    openclaw_command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nobody but the bridge reaches the gateway, so OpenClaw's own Control UI is off: a start
    then neither serves it nor copies and hashes its assets into the state's cache (which a
    start with the UI on does, every time, since backups leave the cache out)."""
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[2] / "container"))
    from prewarm import TEMPLATE, prewarm

    home = tmp_path / "agent"
    prewarm(openclaw_command, TEMPLATE, home=home)
    state = home / "state"
    assert (state / "state").is_dir(), "OpenClaw did not write its state"
    assert not (state / "cache" / "control-ui-assets").exists()
