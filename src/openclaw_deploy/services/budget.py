"""`budget`: the deployment's monthly AWS Budget — show it, change it.

The budget is part of the stack (`infra.monitoring`), built from `monthly_budget_usd` in the
config file. `set` writes the new limit to the config file and, when the stack has the budget,
changes the live budget at once through the Budgets API (the next `deploy` writes the same value);
a budget added or removed (0) takes effect at the next `deploy`.

Budgets are account-global and answered by the us-east-1 endpoint whatever the stack's region.
They only count costs that carry the deployment's cost-allocation tag, and AWS counts that tag only
after it is activated in the Billing console (Cost allocation tags), up to 24 hours after it is
first seen: `show` says whether it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

from openclaw_deploy.aws.errors import translate_boto_errors
from openclaw_deploy.config import MAX_BUDGET_USD, AgentSpec, Deployment, with_changes
from openclaw_deploy.context import AppContext
from openclaw_deploy.infra.spec import TAG_DEPLOYMENT, stack_name
from openclaw_deploy.services.cost import estimate

BUDGETS_REGION: Final = "us-east-1"
BUDGET_MARGIN_USD: Final = 5
"""The default budget is the modelled monthly cost rounded up, plus this."""
TAG_CONSOLE_URL: Final = "https://console.aws.amazon.com/billing/home#/tags"


def default_budget_usd(deployment: Deployment) -> int:
    """A few dollars above the modelled monthly cost of the deployment's settings."""
    return modelled_budget_usd(deployment.agent)


def modelled_budget_usd(agent: AgentSpec) -> int:
    """The modelled monthly cost of an agent of these settings, rounded up, plus the margin."""
    return math.ceil(estimate(agent).total_usd) + BUDGET_MARGIN_USD


def budget_problem(text: str) -> str | None:
    """Why `text` is not a monthly budget (None when it is): whole or decimal US dollars,
    0 (no budget) up to MAX_BUDGET_USD."""
    try:
        value = float(text.strip().removeprefix("$"))
    except ValueError:
        return "a budget is a number of US dollars, such as 15 (0: no budget)"
    if not math.isfinite(value) or value < 0:
        return "a budget cannot be negative (0: no budget)"
    if value > MAX_BUDGET_USD:
        return f"a budget is at most {MAX_BUDGET_USD} USD"
    return None


def parse_budget(text: str) -> int:
    """A checked budget (`budget_problem` is None) in whole USD, cents rounded up."""
    return math.ceil(float(text.strip().removeprefix("$")))


@dataclass(frozen=True, kw_only=True)
class BudgetInfo:
    deployment: str
    configured_usd: int | None
    """What the config file says (what the next deploy builds)."""
    live_usd: float | None
    """The budget in AWS, None when there is none (not deployed yet, or 0)."""
    spent_usd: float | None
    forecast_usd: float | None
    tag: str
    tag_status: str
    """"Active", "Inactive", "not seen yet" or "unknown" (no permission to look)."""
    notes: list[str]


def _budgets(app: AppContext) -> Any:
    return app.client("budgets", BUDGETS_REGION)


def _account(app: AppContext, deployment: Deployment) -> str:
    if deployment.account:
        return deployment.account
    with translate_boto_errors("find the AWS account"):
        return str(app.client("sts", deployment.region).get_caller_identity()["Account"])


def _live(app: AppContext, account: str, name: str) -> dict[str, Any] | None:
    client = _budgets(app)
    try:
        return dict(client.describe_budget(AccountId=account, BudgetName=name)["Budget"])
    except client.exceptions.NotFoundException:
        return None


def _tag_status(app: AppContext) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = app.client("ce", BUDGETS_REGION).list_cost_allocation_tags(
            TagKeys=[TAG_DEPLOYMENT], Type="UserDefined"
        )
    except (ClientError, BotoCoreError):
        return "unknown"
    for tag in answer.get("CostAllocationTags", []):
        if tag.get("TagKey") == TAG_DEPLOYMENT:
            return str(tag.get("Status", "unknown"))
    return "not seen yet"


def _amount(spend: Any) -> float | None:
    try:
        return float(spend["Amount"])
    except (KeyError, TypeError, ValueError):
        return None


def show(app: AppContext, deployment: Deployment) -> BudgetInfo:
    notes: list[str] = []
    if deployment.target == "local":
        return BudgetInfo(
            deployment=deployment.name,
            configured_usd=_configured(deployment),
            live_usd=None,
            spent_usd=None,
            forecast_usd=None,
            tag=TAG_DEPLOYMENT,
            tag_status="unknown",
            notes=["The local target costs nothing: the budget applies once deployed to AWS."],
        )
    account = _account(app, deployment)
    with translate_boto_errors("read the budget"):
        live = _live(app, account, stack_name(deployment.name))
    status = _tag_status(app)
    if live is None:
        notes.append("No budget in AWS yet: `openclaw-deploy deploy` creates it.")
    if status != "Active":
        notes.append(
            f"The cost-allocation tag {TAG_DEPLOYMENT} is {status.lower()}: until it is "
            f"activated at {TAG_CONSOLE_URL} the budget sees $0. The watchdog's hard stop still "
            "limits a runaway task."
        )
    spend = (live or {}).get("CalculatedSpend", {})
    return BudgetInfo(
        deployment=deployment.name,
        configured_usd=_configured(deployment),
        live_usd=_amount((live or {}).get("BudgetLimit")),
        spent_usd=_amount(spend.get("ActualSpend")),
        forecast_usd=_amount(spend.get("ForecastedSpend")),
        tag=TAG_DEPLOYMENT,
        tag_status=status,
        notes=notes,
    )


def set_budget(app: AppContext, deployment: Deployment, usd: int) -> BudgetInfo:
    """Record `usd` in the config file and apply it to the live budget when there is one."""
    config = app.config
    config.upsert(with_changes(deployment, monthly_budget_usd=usd), make_default=False)
    config.save()
    changed = config.deployments[deployment.name]
    if deployment.target == "aws" and usd > 0:
        account = _account(app, deployment)
        name = stack_name(deployment.name)
        with translate_boto_errors("change the budget"):
            live = _live(app, account, name)
            if live is not None:
                live["BudgetLimit"] = {"Amount": str(usd), "Unit": "USD"}
                live.pop("CalculatedSpend", None)
                live.pop("LastUpdatedTime", None)
                _budgets(app).update_budget(AccountId=account, NewBudget=live)
    info = show(app, changed)
    if deployment.target == "aws" and (info.live_usd is None or usd == 0):
        info.notes.insert(0, "Run `openclaw-deploy deploy` to apply it.")
    return info


def _configured(deployment: Deployment) -> int:
    if deployment.monthly_budget_usd is not None:
        return deployment.monthly_budget_usd
    return default_budget_usd(deployment)
