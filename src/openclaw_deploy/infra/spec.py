"""What the CDK app builds for one deployment, as plain data (no `aws_cdk` import here).

`InfraSpec` is everything the constructs read: the deployment's settings from the config file,
the environment (account, region, availability zones) and a few operational constants. The
stack's outputs are named here too, because the deploy and destroy services read them without
importing the CDK.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Final

from openclaw_deploy import __version__
from openclaw_deploy.config import AgentSpec, Deployment
from openclaw_deploy.runtime import resources
from openclaw_deploy.toolchain import OPENCLAW_VERSION

LOG_RETENTION_DAYS: Final = 30
"""Every log group keeps 30 days: enough to debug last month, cheap (logs cost per GB stored)."""
WATCHDOG_RATE_MINUTES: Final = 1
"""Also how long a message sent while the agent was going to sleep waits for a new wake-up
(the watchdog starts the agent for waiting messages); 43,200 runs a month stay in the free tier."""
LAMBDA_PYTHON: Final = "python3.14"
HTTP_API_RATE_LIMIT: Final = 20
"""Requests per second the HTTP and WebSocket APIs accept before throttling (a personal agent
never needs more; the limit caps what a stranger hammering /telegram could cost)."""
HTTP_API_BURST_LIMIT: Final = 40
TELEGRAM_RATE_LIMIT: Final = 5
"""Requests per second the unauthenticated `POST /telegram` route accepts: Telegram delivers a
person's updates one at a time per chat, and a flood is refused at the gateway for free."""
TELEGRAM_BURST_LIMIT: Final = 10
STATE_NONCURRENT_VERSIONS_KEPT: Final = 10
"""Replaced state backups S3 keeps however old they are (NewerNoncurrentVersions)."""
STATE_NONCURRENT_DAYS: Final = 7
"""Replaced state backups younger than this are kept too (NoncurrentDays); older ones beyond
the newest `STATE_NONCURRENT_VERSIONS_KEPT` expire."""

# Stack outputs, read by `deploy` (post-deploy steps), `destroy` and other commands.
OUTPUT_WEB_URL: Final = "WebUrl"
OUTPUT_WEB_BUCKET: Final = "WebBucketName"
OUTPUT_DISTRIBUTION_ID: Final = "DistributionId"
OUTPUT_HTTP_API_URL: Final = "HttpApiUrl"
OUTPUT_WS_URL: Final = "WebSocketUrl"
OUTPUT_WS_MANAGEMENT_URL: Final = "WebSocketManagementUrl"
OUTPUT_TELEGRAM_WEBHOOK_URL: Final = "TelegramWebhookUrl"
OUTPUT_USER_POOL_ID: Final = "UserPoolId"
OUTPUT_USER_POOL_CLIENT_ID: Final = "UserPoolClientId"
OUTPUT_COGNITO_ENDPOINT: Final = "CognitoEndpoint"
OUTPUT_REPOSITORY_URI: Final = "ImageRepositoryUri"
OUTPUT_IMAGE_TAG: Final = "ImageTag"
OUTPUT_IMAGE_PROJECT: Final = "ImageBuildProject"
OUTPUT_CLUSTER: Final = "ClusterName"
OUTPUT_TASK_FAMILY: Final = "TaskFamily"
OUTPUT_STATE_BUCKET: Final = "StateBucketName"
OUTPUT_QUEUE_URL: Final = "InboundQueueUrl"

NAG_CHECKING: ContextVar[bool] = ContextVar("openclaw_deploy_nag_checking", default=True)
"""Whether the current synthesis runs cdk-nag. Acknowledgements are construct metadata only the
checks read; recording them costs ~150 jsii round trips, so a deploy's synthesis skips them."""

TAG_DEPLOYMENT: Final = "openclaw-deploy:deployment"
TAG_MANAGED_BY: Final = "managed-by"

# Extra environment the bridge reads (beyond resources.data_environment and the ENV_* names).
ENV_LLM_PROVIDER: Final = "OPENCLAW_LLM_PROVIDER"
ENV_LLM_MODEL: Final = "OPENCLAW_LLM_MODEL"
ENV_LLM_BASE_URL: Final = "OPENCLAW_LLM_BASE_URL"
ENV_IDLE_TIMEOUT_MINUTES: Final = "OPENCLAW_IDLE_TIMEOUT_MINUTES"
ENV_WS_URL: Final = "OPENCLAW_WS_URL"
ENV_OWNER_EMAIL: Final = "OPENCLAW_OWNER_EMAIL"


def stack_name(deployment: str) -> str:
    """One CloudFormation stack per deployment, named like every other resource."""
    return resources.resource_prefix(deployment)


def agent_log_group(deployment: str) -> str:
    """The agent task's log group (the bridge and OpenClaw, one stream per task)."""
    return f"/{resources.resource_prefix(deployment)}/agent"


AGENT_LOG_STREAM_PREFIX: Final = "agent"
"""awslogs names each task's stream `<prefix>/<container>/<task id>`."""


def agent_log_stream(task_id: str) -> str:
    return f"{AGENT_LOG_STREAM_PREFIX}/{resources.CONTAINER_NAME}/{task_id}"


def function_log_group(deployment: str, key: str) -> str:
    """The log group of the handler function `key` (api, ws, telegram, watchdog)."""
    return f"/{resources.resource_prefix(deployment)}/lambda/{key}"


def function_name(deployment: str, key: str) -> str:
    return f"{resources.resource_prefix(deployment)}-{key}"


def image_build_log_group(deployment: str) -> str:
    return f"/{resources.resource_prefix(deployment)}/image-build"


def alarm_name(deployment: str, key: str) -> str:
    """A CloudWatch alarm of the deployment (`status` lists them by this prefix)."""
    return f"{resources.resource_prefix(deployment)}-{key}"


def dashboard_name(deployment: str) -> str:
    return resources.resource_prefix(deployment)


def dashboard_url(deployment: str, region: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#dashboards/dashboard/{dashboard_name(deployment)}"
    )


def task_family(deployment: str) -> str:
    return f"{resources.resource_prefix(deployment)}-agent"


def cluster_name(deployment: str) -> str:
    return resources.resource_prefix(deployment)


@dataclass(frozen=True, kw_only=True)
class InfraSpec:
    """The inputs of one synthesis. Secrets appear only as SSM parameter *names*."""

    name: str
    region: str
    account: str | None = None
    """None synthesizes an environment-agnostic stack (account and AZs resolved at deploy)."""
    availability_zones: tuple[str, ...] = ()
    """Real AZ names for the account; required when `account` is set (CDK would invent some)."""
    agent: AgentSpec = field(default_factory=AgentSpec)
    provider: str = "anthropic"
    model: str = ""
    llm_base_url: str | None = None
    telegram_api_url: str | None = None
    telegram_bot_username: str | None = None
    """The bot's @username: in a group the webhook answers mentions of this bot only."""
    owner_email: str = ""
    secret_parameters: dict[str, str] = field(default_factory=dict)
    """resources.Secret.key → SSM parameter name, for the secrets that exist."""
    version: str = __version__
    openclaw_version: str = OPENCLAW_VERSION
    """The OpenClaw release baked into the agent image (the image tag follows it)."""
    webhook_reserved_concurrency: int | None = None
    """Reserved concurrency of the Telegram webhook function (caps what a flood can run at
    once); None reserves nothing — new accounts have too little concurrency to set any aside
    (`deploy` checks the account before choosing)."""
    running_image_tag: str | None = None
    """The image tag the task definition runs, when it must not yet be the sources' own tag
    (that image is not built yet); None runs the sources' tag."""
    monthly_budget_usd: int | None = None
    """The AWS Budget on the deployment's cost-allocation tag, in whole USD; None or 0: none."""
    invite_owner: bool = True
    """Whether the owner's Cognito user (whose creation emails the invitation) is part of the
    stack. `deploy` leaves it out until the agent's image exists."""

    @property
    def stack_name(self) -> str:
        return stack_name(self.name)

    @property
    def prefix(self) -> str:
        return resources.resource_prefix(self.name)

    @property
    def telegram_enabled(self) -> bool:
        return self.parameter(resources.TELEGRAM_BOT_TOKEN) is not None

    def parameter(self, secret: resources.Secret) -> str | None:
        """The SSM parameter name holding `secret`, or None when the deployment has none."""
        return self.secret_parameters.get(secret.key)

    @classmethod
    def from_deployment(
        cls,
        deployment: Deployment,
        *,
        account: str | None,
        availability_zones: tuple[str, ...] = (),
    ) -> InfraSpec:
        return cls(
            name=deployment.name,
            region=deployment.region,
            account=account,
            availability_zones=availability_zones,
            agent=deployment.agent,
            provider=deployment.provider,
            model=deployment.model,
            llm_base_url=deployment.llm_base_url,
            telegram_api_url=deployment.telegram_api_url,
            telegram_bot_username=deployment.telegram_bot_username,
            owner_email=deployment.owner_email,
            secret_parameters=dict(deployment.parameters),
            openclaw_version=deployment.openclaw_version or OPENCLAW_VERSION,
            monthly_budget_usd=_budget_usd(deployment),
        )


def _budget_usd(deployment: Deployment) -> int:
    """The configured budget, else a few dollars above the modelled monthly cost."""
    if deployment.monthly_budget_usd is not None:
        return deployment.monthly_budget_usd
    from openclaw_deploy.services.budget import default_budget_usd  # imports this module

    return default_budget_usd(deployment)
