"""What every command shares: the context factory and the common options."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from openclaw_deploy.config import Deployment
from openclaw_deploy.context import AppContext
from openclaw_deploy.errors import NotFoundError
from openclaw_deploy.output import make_consoles
from openclaw_deploy.prompts import Prompter, prompting_mode

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON (for scripts).")]
YesOption = Annotated[
    bool,
    typer.Option(
        "--yes", "-y", help="Never prompt: take defaults, confirm, fail on a missing answer."
    ),
]
NameOption = Annotated[
    str | None,
    typer.Option(
        "--name",
        "-n",
        envvar="OPENCLAW_DEPLOY_NAME",
        help="The deployment (default: the config file's default or only one).",
    ),
]


def build_context(*, config: Path, profile: str | None, debug: bool) -> AppContext:
    console, err_console = make_consoles()
    return AppContext(
        config_path=config,
        console=console,
        err_console=err_console,
        prompter=Prompter(prompting_mode(assume_yes=False)),
        profile=profile,
        debug=debug,
    )


def app_context(ctx: typer.Context, *, assume_yes: bool = False) -> AppContext:
    """The context built by the top-level callback; `--yes` turns prompting off."""
    obj = ctx.find_root().obj
    if not isinstance(obj, AppContext):  # pragma: no cover - only when a command runs standalone
        obj = build_context(config=Path("openclaw-deploy.yaml"), profile=None, debug=False)
    if assume_yes:
        obj.prompter = Prompter(prompting_mode(assume_yes=True, stdin=sys.stdin))
    return obj


OwnerPasswordOption = Annotated[
    str | None,
    typer.Option(
        "--owner-password",
        envvar="OPENCLAW_OWNER_PASSWORD",
        help="Local target only: the owner's web password (default: the one given last time, "
        "else a generated one, shown once).",
    ),
]
PASSWORD_KEPT = "unchanged (the one you were given before; --new-password for a new one)"  # noqa: S105 - a message, not a password
NewPasswordOption = Annotated[
    bool,
    typer.Option(
        "--new-password",
        help="Local target only: give the owner a new generated password (shown once).",
    ),
]


def complete_target(incomplete: str) -> list[str]:
    return [target for target in ("aws", "local") if target.startswith(incomplete)]


def complete_provider(incomplete: str) -> list[str]:
    from openclaw_deploy.runtime.providers import PROVIDER_IDS

    return [provider for provider in PROVIDER_IDS if provider.startswith(incomplete)]


TargetOption = Annotated[
    str | None,
    typer.Option(
        "--target",
        envvar="OPENCLAW_DEPLOY_TARGET",
        metavar="[aws|local]",
        autocompletion=complete_target,
        help="aws or local (default: the deployment's, from the config file).",
    ),
]


def resolve_deployment(app: AppContext, name: str | None, target: str | None) -> Deployment:
    """The deployment a command acts on; `--target` must agree with how it was set up."""
    from openclaw_deploy.config import TARGETS
    from openclaw_deploy.errors import UsageError

    if target is not None and target not in TARGETS:
        raise UsageError(
            f"--target {target!r} is not valid: choose aws or local.",
            hint="pass --target aws or --target local",
        )
    if target == "local" and name is None and not app.config.deployments:
        raise NotFoundError(
            "No local deployment is configured here.",
            hint="openclaw-deploy init --target local",
        )
    deployment = app.config.resolve(name)
    if target is not None and deployment.target != target:
        raise UsageError(
            f"Deployment {deployment.name!r} runs on {deployment.target}, not {target}.",
            hint=f"openclaw-deploy init --name NAME --target {target} to set one up there",
        )
    return deployment
