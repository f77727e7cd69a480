"""The LLM providers we support and what each needs: one table for the CLI, handlers and bridge.

Stdlib only. `check_url` is the cheap authenticated call `init` makes to prove a key works
(listing models costs nothing); `openclaw_provider` and `key_env` are how the bridge hands the
provider to OpenClaw. `resolve_model` turns the configured model into the id calls go to (for
Bedrock, an inference profile of the region's geography), `bedrock_invoke_resources` names what
the agent's role must be allowed to invoke for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, kw_only=True)
class Provider:
    id: str
    label: str
    default_model: str
    needs_key: bool
    openclaw_provider: str
    """The provider id in OpenClaw's `agents.defaults.model.primary` ("<provider>/<model>")."""
    key_env: str | None
    """The environment variable OpenClaw reads the key from."""
    base_url: str | None = None
    """The API root `init` checks the key against (and an OpenAI-compatible provider's base URL)."""
    check_path: str | None = None
    auth_header: str = "Authorization"
    auth_scheme: str = "bearer"
    """How the key goes into `auth_header`: "bearer" (`Bearer KEY`), "plain" (the key as is),
    "sigv4" (AWS signature with the task role, no key) or "none" (no key at all)."""
    api: str | None = None
    """The wire format OpenClaw speaks to it (its `models.providers.*.api`)."""
    key_optional: bool = False
    """A key is used when one is stored, and the provider works without (self-hosted servers)."""
    needs_base_url: bool = False
    """The owner names the endpoint (an OpenAI-compatible server); there is no default."""
    models_path: str | None = None
    """The provider's own model list (GET, with the key), when its API offers one."""
    curated_models: tuple[str, ...] = ()
    """Models we suggest when the provider's own list is out of reach; the first is the default."""
    key_page: str | None = None
    """Where the owner creates a key."""

    @property
    def takes_key(self) -> bool:
        """Whether a key can be stored for it (needed or optional)."""
        return self.needs_key or self.key_optional


PROVIDERS: Final[dict[str, Provider]] = {
    p.id: p
    for p in (
        Provider(
            id="anthropic",
            label="Anthropic (Claude)",
            default_model="claude-sonnet-4-5",
            needs_key=True,
            openclaw_provider="anthropic",
            key_env="ANTHROPIC_API_KEY",
            base_url="https://api.anthropic.com",
            check_path="/v1/models",
            auth_header="x-api-key",
            auth_scheme="plain",
            api="anthropic-messages",
            models_path="/v1/models",
            curated_models=("claude-sonnet-4-5", "claude-opus-4-1", "claude-haiku-4-5"),
            key_page="https://console.anthropic.com/settings/keys",
        ),
        Provider(
            id="openai",
            label="OpenAI",
            default_model="gpt-5-mini",
            needs_key=True,
            openclaw_provider="openai",
            key_env="OPENAI_API_KEY",
            base_url="https://api.openai.com/v1",
            check_path="/models",
            api="openai-completions",
            models_path="/models",
            curated_models=("gpt-5-mini", "gpt-5", "gpt-4.1"),
            key_page="https://platform.openai.com/api-keys",
        ),
        Provider(
            id="openrouter",
            label="OpenRouter",
            default_model="anthropic/claude-sonnet-4.5",
            needs_key=True,
            openclaw_provider="openrouter",
            key_env="OPENROUTER_API_KEY",
            base_url="https://openrouter.ai/api/v1",
            check_path="/key",
            api="openai-completions",
            models_path="/models",
            curated_models=(
                "anthropic/claude-sonnet-4.5",
                "openai/gpt-5-mini",
                "google/gemini-2.5-flash",
            ),
            key_page="https://openrouter.ai/settings/keys",
        ),
        Provider(
            id="deepseek",
            label="DeepSeek (OpenAI-compatible)",
            default_model="deepseek-v4-flash",
            needs_key=True,
            openclaw_provider="deepseek",
            key_env="DEEPSEEK_API_KEY",
            base_url="https://api.deepseek.com/v1",
            check_path="/models",
            api="openai-completions",
            models_path="/models",
            curated_models=("deepseek-v4-flash", "deepseek-chat", "deepseek-reasoner"),
            key_page="https://platform.deepseek.com/api_keys",
        ),
        Provider(
            id="gemini",
            label="Google Gemini",
            default_model="gemini-2.5-flash",
            needs_key=True,
            openclaw_provider="google",
            key_env="GEMINI_API_KEY",
            base_url="https://generativelanguage.googleapis.com/v1beta",
            check_path="/models",
            auth_header="x-goog-api-key",
            auth_scheme="plain",
            api="google-generative-ai",
            models_path="/models",
            curated_models=("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite"),
            key_page="https://aistudio.google.com/apikey",
        ),
        Provider(
            id="bedrock",
            label="Amazon Bedrock (no key: the task role)",
            # A foundation model id: `resolve_model` turns it into the inference profile of the
            # deployment's geography (on-demand calls refuse a bare id for current Claude).
            default_model="anthropic.claude-sonnet-4-5-20250929-v1:0",
            needs_key=False,
            openclaw_provider="amazon-bedrock",
            key_env=None,
            auth_scheme="sigv4",
            # OpenClaw speaks Anthropic Messages to the proxy, which turns it into Bedrock's
            # InvokeModelWithResponseStream (openclaw_bridge.bedrock): the pinned OpenClaw's
            # own bedrock-converse-stream API needs a plugin that is not published.
            api="anthropic-messages",
            curated_models=(
                "anthropic.claude-sonnet-4-5-20250929-v1:0",
                "anthropic.claude-haiku-4-5-20251001-v1:0",
            ),
        ),
        Provider(
            id="openai-compatible",
            label="Any OpenAI-compatible endpoint (vLLM, Ollama, LM Studio, Groq, Together…)",
            default_model="",
            needs_key=False,
            openclaw_provider="compatible",
            key_env="OPENAI_COMPATIBLE_API_KEY",
            key_optional=True,
            needs_base_url=True,
            check_path="/models",
            api="openai-completions",
            models_path="/models",
        ),
        Provider(
            id="offline",
            label="Offline demo model (no key; answers locally, for trying things out)",
            default_model="demo",
            needs_key=False,
            openclaw_provider="offline",
            key_env=None,
            auth_scheme="none",
            api="openai-completions",
            curated_models=("demo",),
        ),
    )
}
PROVIDER_IDS: Final[tuple[str, ...]] = tuple(PROVIDERS)


@dataclass(frozen=True, kw_only=True)
class Tool:
    """A key one of the agent's own tools needs (not a model provider's)."""

    id: str
    label: str
    tool: str
    """The OpenClaw tool that uses it, and only it."""
    key_env: str
    key_page: str
    base_url: str | None = None
    """The tool's API root (the model proxy forwards the tool's calls there, adding the key)."""
    auth_header: str | None = None
    """The header that carries the key, as is."""


TOOLS: Final[dict[str, Tool]] = {
    t.id: t
    for t in (
        Tool(
            id="brave",
            label="Brave Search",
            tool="web_search",
            key_env="BRAVE_API_KEY",
            key_page="https://api-dashboard.search.brave.com/app/keys",
            base_url="https://api.search.brave.com",
            auth_header="X-Subscription-Token",
        ),
    )
}
KEY_IDS: Final[tuple[str, ...]] = (
    *(p.id for p in PROVIDERS.values() if p.takes_key),
    *TOOLS,
)
"""Everything a key can be stored for: the providers that take one, then the tools."""


def key_label(key_id: str) -> str:
    """How the owner calls the holder of a key ("OpenAI", "Brave Search")."""
    if key_id in TOOLS:
        return TOOLS[key_id].label
    return PROVIDERS[key_id].label.split(" (", 1)[0].removeprefix("Any ")


def get_provider(provider_id: str) -> Provider:
    """The provider called `provider_id`; KeyError names the valid ones."""
    try:
        return PROVIDERS[provider_id]
    except KeyError:
        raise KeyError(
            f"unknown provider {provider_id!r}; choose one of {', '.join(PROVIDER_IDS)}"
        ) from None


BEDROCK_PROFILE_PREFIXES: Final[tuple[str, ...]] = (
    "us",
    "us-gov",
    "eu",
    "apac",
    "jp",
    "au",
    "global",
)
"""Geography prefixes of Bedrock's system-defined (cross-region) inference profile ids."""
BEDROCK_INVOKE_ACTIONS: Final[tuple[str, ...]] = (
    "bedrock:InvokeModel",
    "bedrock:InvokeModelWithResponseStream",
)
"""What the agent's calls need. IAM has no Converse actions: Converse is authorized as
InvokeModel and ConverseStream as InvokeModelWithResponseStream."""
_BEDROCK_REGION_GEOGRAPHY: Final[tuple[tuple[str, str], ...]] = (
    # Most specific first. Japan and Australia have their own profiles for current Claude
    # models; other Asia-Pacific and remaining commercial regions use the global profile.
    ("us-gov-", "us-gov"),
    ("us-", "us"),
    ("eu-", "eu"),
    ("ap-northeast-1", "jp"),
    ("ap-northeast-3", "jp"),
    ("ap-southeast-2", "au"),
    ("ap-southeast-4", "au"),
)


def bedrock_geography(region: str) -> str:
    """The inference-profile prefix for calls made from `region` (`us`, `eu`, `jp`, ...)."""
    for start, geography in _BEDROCK_REGION_GEOGRAPHY:
        if region.startswith(start):
            return geography
    return "global"


def is_bedrock_profile(model: str) -> bool:
    """True for an inference profile id (`eu.anthropic....`) or any ARN."""
    return model.startswith("arn:") or model.split(".", 1)[0] in BEDROCK_PROFILE_PREFIXES


def bedrock_foundation_model(model: str) -> str:
    """The foundation model behind a system-defined profile id (the id itself when bare)."""
    head, _, rest = model.partition(".")
    return rest if head in BEDROCK_PROFILE_PREFIXES and rest else model


def resolve_model(provider_id: str, model: str, region: str) -> str:
    """The model id the agent calls: the provider's default when none was chosen, and for
    Bedrock a bare Anthropic id turned into the inference profile of `region`'s geography
    (current Claude models answer on-demand calls only through a profile). Ids with a
    profile prefix, ARNs and other providers' models are kept as given."""
    chosen = model or get_provider(provider_id).default_model
    if provider_id != "bedrock" or is_bedrock_profile(chosen):
        return chosen
    if chosen.startswith("anthropic."):
        return f"{bedrock_geography(region)}.{chosen}"
    return chosen


def bedrock_invoke_resources(
    model: str, *, region: str, account: str, partition: str = "aws"
) -> list[str]:
    """The ARNs the agent's role must be allowed to invoke for `model` (as `resolve_model`
    returns it): a cross-region profile in this region and account, plus its foundation model
    in every region it may route to (the global profile's region is empty, which `*` covers).
    An ARN (e.g. an application inference profile) is granted as given, with no model."""
    if model.startswith("arn:"):
        return [model]
    foundation = f"arn:{partition}:bedrock:*::foundation-model/{bedrock_foundation_model(model)}"
    if not is_bedrock_profile(model):
        return [f"arn:{partition}:bedrock:{region}::foundation-model/{model}"]
    profile = f"arn:{partition}:bedrock:{region}:{account}:inference-profile/{model}"
    return [profile, foundation]


def bedrock_grant_command(model: str) -> str:
    """The command that grants the agent's role `model` on Bedrock: `init` again with it
    (the deployment's role may invoke the one Bedrock model init chose)."""
    return f"openclaw-deploy init --provider bedrock --model {bedrock_foundation_model(model)}"


def missing_bedrock_grant(
    provider_id: str,
    model: str | None,
    *,
    default_provider: str | None,
    default_model: str | None,
    region: str,
) -> str | None:
    """Why the agent's role cannot call `model` on Bedrock (None when it can, or for another
    provider). The role is granted the one model `init` chose, and only when it chose Bedrock,
    so any other Bedrock model would be refused (AccessDenied) at the first turn."""
    if provider_id != "bedrock":
        return None
    chosen = model or get_provider("bedrock").default_model
    wanted = resolve_model("bedrock", chosen, region)
    if default_provider == "bedrock":
        granted = resolve_model("bedrock", default_model or "", region)
        # A bare id names the granted profile's model whatever the region's geography.
        if granted == wanted or (
            not is_bedrock_profile(chosen) and bedrock_foundation_model(granted) == chosen
        ):
            return None
        return (
            f"the agent's role may invoke {granted} on Amazon Bedrock, not {wanted}; "
            f"grant it first: {bedrock_grant_command(wanted)}"
        )
    return (
        "the agent's role has no Amazon Bedrock grant (init chose another provider); "
        f"grant it first: {bedrock_grant_command(wanted)}"
    )
