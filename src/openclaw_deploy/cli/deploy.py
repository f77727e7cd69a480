"""`openclaw-deploy deploy`: validate, show the plan and its cost, ask, deploy, recommend."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console

from openclaw_deploy.cli.common import (
    PASSWORD_KEPT,
    JsonOption,
    NameOption,
    NewPasswordOption,
    OwnerPasswordOption,
    TargetOption,
    YesOption,
    app_context,
    resolve_deployment,
)
from openclaw_deploy.cli.init import ImageOption
from openclaw_deploy.config import Deployment
from openclaw_deploy.context import AppContext
from openclaw_deploy.errors import AbortedError, DeployFailedError, UsageError
from openclaw_deploy.output import emit, recommend

if TYPE_CHECKING:
    from rich.table import Table

    # the services load only when a command runs, keeping --help fast
    from openclaw_deploy.services.cost import CostEstimate
    from openclaw_deploy.services.deploy import DeployContext, DeployPlan, DeployResult

HELP: Final = """Deploy (or update) the deployment in your AWS account, then finish the setup.

Synthesizes the stack, shows what will be created or changed and the estimated monthly cost,
and asks. It offers the one-time CDK bootstrap when the account/region lacks it. While
CloudFormation works you see each resource with its time. Afterwards it uploads the web UI,
builds the agent image in AWS CodeBuild (no local Docker needed; --local-docker uses yours),
and registers the Telegram webhook. Running it again redoes only what changed.

Examples:

\b
  openclaw-deploy deploy
  openclaw-deploy deploy --name mybot --yes --json
"""
MAX_CHANGES_SHOWN: Final = 15
FAILED_STACK_QUESTION: Final = (
    "The stack {stack} is in {status} after a failed deploy and must be deleted before "
    "deploying again (it holds nothing). Delete it now?"
)
BOOTSTRAP_QUESTION: Final = "Bootstrap the CDK in aws://{account}/{region} now?"
DEPLOY_QUESTION: Final = "Deploy {name!r} now?"
INTERRUPTED: Final = (
    "Interrupted. CloudFormation may still be working on {stack}; run openclaw-deploy deploy "
    "again once it settles (it picks up where this one stopped)."
)


def deploy_context(app: AppContext, region: str) -> DeployContext:
    from openclaw_deploy import toolchain
    from openclaw_deploy.services.cdk_cli import CdkCli
    from openclaw_deploy.services.deploy import DeployContext

    return DeployContext(
        clients=lambda service: app.client(service, region),
        cdk=CdkCli(
            region=region,
            log_dir=toolchain.cache_dir() / "logs",
            profile=app.profile,
            endpoint_url=app.endpoint_url,
        ),
        sleep=app.sleep,
        clock=time.monotonic,
    )


def prices_note(cost: CostEstimate, region: str | None) -> str:
    """Whose prices these are; another region's differ by a few percent."""
    note = f"{cost.region} list prices of {cost.prices_as_of}"
    if region and region != cost.region:
        note += f"; {region}'s differ by a few percent"
    return note


def cost_table(items: list[tuple[float, str, str]]) -> Table:
    """Amount, item, basis: the basis wraps inside its own column, never under the amounts."""
    from rich.table import Table

    table = Table.grid(padding=(0, 2), pad_edge=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True, max_width=40)
    table.add_column(overflow="fold", style="dim")
    for usd, item, basis in items:
        table.add_row(f"${usd:.2f}", item, basis)
    return table


def render_cost(
    console: Console, cost: CostEstimate, *, itemized: bool = True, region: str | None = None
) -> None:
    low, high = cost.total_range_usd
    band = f" (${low:.2f}-${high:.2f} as Spot prices move)" if low != high else ""
    hours = cost.assumptions.get("agent_hours_per_day")
    console.print(
        f"[bold]Estimated cost:[/] ${cost.total_usd:.2f}/month{band}, with the agent awake "
        f"{hours} h a day ({prices_note(cost, region)}):",
        highlight=False,
    )
    if itemized:
        rows = [(item.monthly_usd, item.item, item.basis) for item in cost.items]
        console.print(cost_table(rows), soft_wrap=False)


def render_plan(console: Console, plan: DeployPlan) -> None:
    console.print(
        f"\n[bold]Deploying {plan.name!r}[/] to aws://{plan.account}/{plan.region} "
        f"(stack {plan.stack_name}, zones {', '.join(plan.availability_zones)})",
        highlight=False,
    )
    if plan.first_deploy:
        units = ", ".join(f"{unit} {count}" for unit, count in plan.units.items())
        console.print(f"  creates {plan.resources} resources: {units}", highlight=False)
    elif plan.changes:
        counts = {
            a: sum(1 for c in plan.changes if c.action == a) for a in ("add", "modify", "remove")
        }
        console.print(
            f"  changes: +{counts['add']} to add, ~{counts['modify']} to modify, "
            f"-{counts['remove']} to remove",
            highlight=False,
        )
        marks = {"add": "[green]+[/]", "modify": "[yellow]~[/]", "remove": "[red]-[/]"}
        for change in plan.changes[:MAX_CHANGES_SHOWN]:
            console.print(
                f"    {marks[change.action]} {change.name}  [dim]{change.resource_type}[/]",
                highlight=False,
            )
        if len(plan.changes) > MAX_CHANGES_SHOWN:
            console.print(
                f"    … and {len(plan.changes) - MAX_CHANGES_SHOWN} more", highlight=False
            )
    else:
        console.print("  no infrastructure change (post-deploy steps run again)", highlight=False)
    if plan.adopt:
        console.print(
            "  takes over data kept by an earlier destroy: " + ", ".join(plan.adopt),
            highlight=False,
        )
    if not plan.telegram:
        console.print("  no Telegram bot configured (web chat only)", highlight=False)
    if not plan.image_ready:
        console.print(
            f"  builds the agent image {plan.image_tag} before the agent runs it"
            + (" and before the owner is invited" if not plan.owner_in_stack else ""),
            highlight=False,
        )
    render_cost(console, plan.cost, region=plan.region)


def render_result(console: Console, result: DeployResult) -> None:
    minutes, seconds = divmod(int(result.seconds), 60)
    headline = (
        f"[bold yellow]Deployed {result.name!r} in part[/] (stack {result.status}, "
        "but it cannot be used yet)"
        if result.missing
        else f"[bold green]Deployed {result.name!r}[/] ({result.status})"
    )
    console.print(f"\n{headline} in {minutes}m{seconds:02d}s", highlight=False)
    rows: list[tuple[str, str]] = [("web chat", result.web_url or "-")]
    if result.owner_login:
        login = {
            "invited": "Cognito emailed you a temporary password; choose yours at first sign-in",
            "reinvited": "the first invitation lapsed: Cognito emailed a new temporary password",
            "active": "sign in with your password",
        }.get(result.owner_status or "", "")
        rows.append(("login", f"{result.owner_login}" + (f" — {login}" if login else "")))
    if result.telegram_bot or result.telegram_webhook:
        bot = f"@{result.telegram_bot}" if result.telegram_bot else "your bot"
        rows.append(("telegram", f"{bot} — webhook registered with its secret token"))
    image = {
        "existing": "unchanged, not rebuilt",
        "codebuild": "built in AWS CodeBuild",
        "local-docker": "built with local Docker",
        "skipped": "skipped",
    }[result.image]
    rows.append(("image", f"{result.image_tag} ({image})"))
    rows.append(("cost", f"about ${result.monthly_cost_usd:.2f}/month at 2 h/day of agent time"))
    for key, value in rows:
        console.print(f"  {key:<10} {value}", highlight=False)
    if result.service_linked_role_created:
        console.print("  created the ECS service-linked role (first use of ECS here)")
    for note in result.notes:
        console.print(f"  [dim]note[/]       {note}", highlight=False)
    for step in result.skipped:
        console.print(f"  [yellow]skipped[/]    {step}", highlight=False)


def deploy_flow(
    app: AppContext,
    deployment: Deployment,
    *,
    yes: bool,
    as_json: bool,
    local_docker: bool = False,
) -> DeployResult:
    """Plan, ask, execute. Shared by `deploy` and the end of `init`."""
    from openclaw_deploy.cli.progress import ConsoleStackProgress
    from openclaw_deploy.services.deploy import execute_deploy, prepare_deploy
    from openclaw_deploy.services.synth import default_assembly_dir

    context = deploy_context(app, deployment.region)
    reporter = app.reporter()
    plan = prepare_deploy(
        deployment,
        context=context,
        reporter=reporter,
        assembly_dir=default_assembly_dir(deployment.name),
    )
    err = app.err_console
    render_plan(err, plan)

    # Ask: every question has --yes as its answer; without a terminal and --yes, none is asked.
    prompter = app.prompter
    if plan.replace_failed_stack and not yes:
        question = FAILED_STACK_QUESTION.format(stack=plan.stack_name, status=plan.stack_status)
        if not prompter.confirm(question, default=True):
            raise AbortedError(
                "Nothing was changed.", hint=f"openclaw-deploy destroy --name {plan.name}"
            )
    if plan.bootstrap_needed:
        err.print(f"\n[bold]CDK bootstrap needed.[/] {_bootstrap_text()}", highlight=False)
        if not yes and not prompter.confirm(
            BOOTSTRAP_QUESTION.format(account=plan.account, region=plan.region), default=True
        ):
            raise AbortedError(
                "Nothing was changed: deploying needs the CDK bootstrap.",
                hint=f"run openclaw-deploy deploy again and accept, or: cdk bootstrap "
                f"aws://{plan.account}/{plan.region}",
            )
    if not yes and not prompter.confirm(DEPLOY_QUESTION.format(name=plan.name), default=True):
        raise AbortedError("Nothing was changed.")

    from openclaw_deploy import toolchain

    with reporter.task(f"Readying the CDK CLI {toolchain.CDK_CLI_VERSION} (installed once)"):
        toolchain.cdk_cli()
    try:
        with ConsoleStackProgress(err) as progress:
            return execute_deploy(
                plan,
                deployment,
                context=context,
                config=app.config,
                reporter=reporter,
                progress=progress,
                local_docker=local_docker,
            )
    except KeyboardInterrupt:
        raise AbortedError(
            INTERRUPTED.format(stack=plan.stack_name), hint="openclaw-deploy deploy"
        ) from None


def _bootstrap_text() -> str:
    from openclaw_deploy.services.deploy import BOOTSTRAP_EXPLANATION

    return BOOTSTRAP_EXPLANATION


def refuse_unusable(result: DeployResult) -> None:
    """A deploy after which nothing can be reached is a failure, whatever the stack says."""
    if result.missing:
        raise DeployFailedError(
            f"The stack {result.stack_name} is {result.status}, but the deployment cannot be "
            f"used: {'; '.join(result.missing)}.",
            hint=f"openclaw-deploy deploy --name {result.name} (safe to run again); "
            f"openclaw-deploy logs --name {result.name} to see why",
        )


def recommend_after_deploy(app: AppContext, result: DeployResult) -> None:
    refuse_unusable(result)
    steps: list[tuple[str, str]] = []
    if result.web_url:
        steps.append((result.web_url, "open the web chat and sign in"))
    if result.telegram_bot:
        steps.append((f"https://t.me/{result.telegram_bot}", "or message your bot"))
    if email := _alert_email_to_confirm(app, result):
        steps.append(
            (
                f"openclaw-deploy status --name {result.name}",
                f"confirm the alert email: click the link AWS Notifications sent to {email} "
                "(until then no alarm or budget email arrives); status shows when it is done",
            )
        )
    steps.append((f"openclaw-deploy destroy --name {result.name}", "remove it all again"))
    recommend(app.console, *steps)


def _alert_email_to_confirm(app: AppContext, result: DeployResult) -> str | None:
    """The owner's email while its alarm subscription waits for confirmation (or cannot be
    read), None once it is confirmed."""
    from openclaw_deploy.errors import DeployError
    from openclaw_deploy.services.alarms import alert_email_pending

    deployment = app.config.deployments.get(result.name)
    if deployment is None or not deployment.owner_email:
        return None
    try:
        pending = alert_email_pending(app, deployment, result.account)
    except DeployError:
        pending = None
    return None if pending is False else deployment.owner_email


def deploy(
    ctx: typer.Context,
    name: NameOption = None,
    local_docker: Annotated[
        bool,
        typer.Option(
            "--local-docker", help="Build the agent image with your local Docker, not CodeBuild."
        ),
    ] = False,
    target: TargetOption = None,
    owner_password: OwnerPasswordOption = None,
    new_password: NewPasswordOption = False,
    image: ImageOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    app = app_context(ctx, assume_yes=yes)
    deployment = resolve_deployment(app, name, target)
    if deployment.target == "local":
        _deploy_local(
            app,
            deployment,
            owner_password=owner_password,
            new_password=new_password,
            image=image,
            as_json=as_json,
        )
        return
    if image is not None:
        raise UsageError(
            "--image is for the local target: on AWS the agent always runs from its image.",
            hint="leave out --image",
        )
    result = deploy_flow(app, deployment, yes=yes, as_json=as_json, local_docker=local_docker)
    emit(app.console, result, as_json=as_json, render=render_result)
    if as_json:
        refuse_unusable(result)
    else:
        recommend_after_deploy(app, result)


def _deploy_local(
    app: AppContext,
    deployment: Deployment,
    *,
    owner_password: str | None,
    new_password: bool,
    image: bool | None,
    as_json: bool,
) -> None:
    """The local target: restart the local cloud on the current code and settings."""
    from openclaw_deploy.services.local import redeploy_local

    access = redeploy_local(
        app, deployment, owner_password=owner_password, new_password=new_password, image=image
    )

    def render(console: Console, value: object) -> None:
        console.print(f"[bold green]{deployment.name!r} is running locally again.[/]")
        console.print(f"  web chat      {access.web_url or '-'}")
        console.print(f"  login         {access.owner_email}")
        if access.owner_password:
            console.print(f"  password      {access.owner_password}   (shown once; keep it)")
        elif access.password_kept:
            console.print(f"  password      {PASSWORD_KEPT}")

    emit(app.console, access, as_json=as_json, render=render)


def register(app: typer.Typer) -> None:
    app.command("deploy", help=HELP)(deploy)
