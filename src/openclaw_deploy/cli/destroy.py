"""`openclaw-deploy destroy`: list what goes and what stays, ask, remove, recommend."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console

from openclaw_deploy.cli.common import (
    JsonOption,
    NameOption,
    TargetOption,
    YesOption,
    app_context,
    resolve_deployment,
)
from openclaw_deploy.config import Deployment
from openclaw_deploy.context import AppContext
from openclaw_deploy.errors import AbortedError, UsageError
from openclaw_deploy.output import emit, recommend

if TYPE_CHECKING:
    from openclaw_deploy.services.destroy import DestroyPlan, DestroyResult

HELP: Final = """Remove a deployment from AWS and leave nothing billable behind.

Lists what will be deleted and asks. Removes the Telegram webhook, stops the agent, deletes the
stack (web UI, APIs, Lambdas, cluster, image repository, network, logs) and the deployment's
SSM parameters. Your conversation history, settings, pairings and state backups are kept (they
cost cents) unless you pass --purge; a later deploy with the same name takes them over again.

Examples:

\b
  openclaw-deploy destroy
  openclaw-deploy destroy --name mybot --purge --yes
"""
QUESTION: Final = "Destroy {name!r}?"
PURGE_QUESTION: Final = "Also delete the history, settings, pairings and backups for ever?"
NO_TERMINAL: Final = "destroy deletes resources and there is no terminal to confirm on"


def _render_plan(console: Console, plan: DestroyPlan) -> None:
    console.print(
        f"\n[bold]Destroying {plan.name!r}[/] in aws://{plan.account}/{plan.region}",
        highlight=False,
    )
    if plan.stack_status is None:
        console.print(f"  the stack {plan.stack_name} does not exist", highlight=False)
    else:
        kinds = Counter(item.kind.removeprefix("AWS::") or "other" for item in plan.deleting)
        summary = ", ".join(f"{count} {kind}" for kind, count in kinds.most_common())
        console.print(
            f"  deletes the stack {plan.stack_name} ({plan.stack_status}) and its "
            f"{len(plan.deleting)} resources: {summary}",
            highlight=False,
        )
    if plan.webhook:
        console.print("  removes the Telegram webhook", highlight=False)
    if plan.parameters:
        console.print(
            f"  deletes {len(plan.parameters)} SSM parameters: {', '.join(plan.parameters)}",
            highlight=False,
        )
    for name in plan.purging:
        console.print(f"  [red]deletes your data[/] {name} (--purge)", highlight=False)
    for name in plan.keeping:
        console.print(f"  [green]keeps[/] {name} (your data; --purge deletes it)", highlight=False)


def _render(console: Console, result: DestroyResult) -> None:
    if result.stack_deleted or not result.tasks_left:
        console.print(f"\n[bold green]Destroyed {result.name!r}[/]", highlight=False)
    else:
        console.print(f"\n[bold yellow]Destroyed {result.name!r} in part[/]", highlight=False)
    if result.stack_deleted:
        console.print("  removed everything that runs (and bills)", highlight=False)
    if result.watchdog_disabled:
        console.print("  watchdog schedule disabled first (it cannot wake the agent)")
    if result.queue_purged:
        console.print("  waiting messages dropped")
    if result.stopped_tasks or result.tasks_left:
        console.print(
            f"  stopped {result.stopped_tasks} agent task(s)"
            + (f", [yellow]{result.tasks_left} still running[/]" if result.tasks_left else ""),
            highlight=False,
        )
    if result.webhook_removed:
        console.print("  Telegram webhook removed", highlight=False)
    for name in result.purged:
        console.print(f"  deleted {name}", highlight=False)
    for name in result.kept:
        console.print(f"  kept    {name}", highlight=False)
    if result.parameters_deleted:
        console.print(f"  deleted {len(result.parameters_deleted)} SSM parameters", highlight=False)
    for warning in result.warnings:
        console.print(f"  [yellow]![/] {warning}", highlight=False)


def destroy(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    purge: Annotated[
        bool,
        typer.Option("--purge", help="Also delete the history, settings, pairings and backups."),
    ] = False,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    app = app_context(ctx, assume_yes=yes)
    deployment = resolve_deployment(app, name, target)
    # Validate before any AWS call: nobody could answer the confirmation.
    if not yes and not app.prompter.interactive:
        raise UsageError(f"{NO_TERMINAL}.", hint="pass --yes to confirm")
    if deployment.target == "local":
        _destroy_local(app, deployment, purge=purge, yes=yes, as_json=as_json)
        return

    from openclaw_deploy.cli.deploy import deploy_context
    from openclaw_deploy.cli.progress import ConsoleStackProgress
    from openclaw_deploy.services.destroy import execute_destroy, prepare_destroy

    context = deploy_context(app, deployment.region)
    reporter = app.reporter()
    plan = prepare_destroy(deployment, context=context, reporter=reporter, purge=purge)
    _render_plan(app.err_console, plan)
    if not yes:
        if not app.prompter.confirm(QUESTION.format(name=plan.name), default=False):
            raise AbortedError("Nothing was deleted.")
        if purge and plan.purging and not app.prompter.confirm(PURGE_QUESTION, default=False):
            raise AbortedError("Nothing was deleted.", hint="drop --purge to keep your data")
    try:
        with ConsoleStackProgress(app.err_console) as progress:
            result = execute_destroy(
                plan,
                deployment,
                context=context,
                config=app.config,
                reporter=reporter,
                progress=progress,
            )
    except KeyboardInterrupt:
        raise AbortedError(
            f"Interrupted. CloudFormation may still be deleting {plan.stack_name}.",
            hint=f"openclaw-deploy destroy --name {plan.name} (safe to run again)",
        ) from None
    emit(app.console, result, as_json=as_json, render=_render)
    if not as_json:
        steps = [(f"openclaw-deploy init --name {plan.name}", "set it up again later")]
        if result.kept:
            steps.append(
                (f"openclaw-deploy destroy --name {plan.name} --purge", "delete the kept data too")
            )
        recommend(app.console, *steps)


def _destroy_local(
    app: AppContext, deployment: Deployment, *, purge: bool, yes: bool, as_json: bool
) -> None:
    """The local target: stop the local cloud and remove its files (data kept unless purge)."""
    from openclaw_deploy.local import service
    from openclaw_deploy.services.destroy import DestroyResult
    from openclaw_deploy.services.local import KEPT_UNTIL_PURGE, paths_for, remove_local_files

    paths = paths_for(app, deployment.name)
    question = f"Stop and remove the local deployment {deployment.name!r}?" + (
        " Its data goes too (--purge)." if purge else " Its data is kept."
    )
    if not yes and not app.prompter.confirm(question, default=False):
        raise AbortedError("Nothing was deleted.")
    stopped = service.stop(paths, app.reporter())
    removed = remove_local_files(paths, purge=purge)
    if purge:
        app.config.remove(deployment.name)
        app.config.save()
    result = DestroyResult(
        name=deployment.name,
        stack_deleted=stopped,  # locally, the local cloud is what the stack is on AWS
        stopped_tasks=0,
        webhook_removed=None,
        kept=[] if purge else [str(paths.home / kept) for kept in KEPT_UNTIL_PURGE],
        purged=removed if purge else [],
        parameters_deleted=[],
    )
    emit(app.console, result, as_json=as_json, render=_render)


def register(app: typer.Typer) -> None:
    app.command("destroy", help=HELP)(destroy)
