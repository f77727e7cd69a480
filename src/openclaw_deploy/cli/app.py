"""The `openclaw-deploy` command: global options, command registration and error reporting.

Errors from our family print their message and hint and exit with their code; Ctrl-C exits 130
quietly; anything else is a bug, reported as one, with a traceback only under `--debug` and never
with local variables (they can hold keys). Command modules register themselves on `app`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any, Final

import typer
from typer.core import TyperGroup

from openclaw_deploy import __version__
from openclaw_deploy.config import CONFIG_FILENAME
from openclaw_deploy.errors import DeployError

BUG_EXIT_CODE: Final = 70
ISSUES_URL: Final = "https://github.com/openclaw-deploy/openclaw-deploy/issues"
HELP: Final = (
    "Your own OpenClaw AI agent in your own AWS account: started on demand, reached from a web "
    "chat and from Telegram, for about a dollar a month.\n\n"
    "Start with `openclaw-deploy init` (or try it all on this machine first with "
    "`openclaw-deploy init --target local`)."
)


def _debug_requested() -> bool:
    return "--debug" in sys.argv or os.environ.get("OPENCLAW_DEPLOY_DEBUG", "") in ("1", "true")


def report_error(error: BaseException, *, debug: bool) -> int:
    """Print an error for a person and return the exit code."""
    import traceback

    from openclaw_deploy.output import make_consoles

    _, err = make_consoles()
    if isinstance(error, DeployError):
        err.print(f"[bold red]Error:[/] {error.message}", highlight=False)
        if error.hint:
            err.print(f"[bold]Fix:[/] {error.hint}", highlight=False)
        if debug:
            err.print("".join(traceback.format_exception(error)), highlight=False, markup=False)
        return error.exit_code
    err.print(
        f"[bold red]Unexpected error:[/] {type(error).__name__}: {error}\n"
        f"This is a bug in openclaw-deploy {__version__}. Please report it at {ISSUES_URL}"
        + ("" if debug else " with the output of the same command run with --debug."),
        highlight=False,
    )
    if debug:
        # format_exception never includes local variables, which can hold secrets.
        err.print("".join(traceback.format_exception(error)), highlight=False, markup=False)
    return BUG_EXIT_CODE


class _Group(TyperGroup):
    """Catches errors where CliRunner and the real entry point both pass, so tests see the same."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except KeyboardInterrupt:
            typer.echo("\nInterrupted; nothing was changed by the step in progress.", err=True)
            raise typer.Exit(130) from None
        except DeployError as error:
            raise typer.Exit(report_error(error, debug=_debug_requested())) from None
        except Exception as error:  # noqa: BLE001 - the last line of defence reports any bug
            raise typer.Exit(report_error(error, debug=_debug_requested())) from None


app = typer.Typer(
    name="openclaw-deploy",
    cls=_Group,
    help=HELP,
    rich_markup_mode=None,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"openclaw-deploy {__version__}")
        raise typer.Exit


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[
        Path,
        typer.Option(
            "--config",
            "-c",
            envvar="OPENCLAW_DEPLOY_CONFIG",
            help="The config file (holds parameter names, never secrets).",
            show_default=True,
        ),
    ] = Path(CONFIG_FILENAME),
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", envvar="AWS_PROFILE", help="The AWS profile to use.", show_envvar=True
        ),
    ] = None,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            envvar="OPENCLAW_DEPLOY_DEBUG",
            help="Show tracebacks of errors (never local values).",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    from openclaw_deploy.cli.common import build_context

    ctx.obj = build_context(config=config, profile=profile, debug=debug)


def _register() -> None:
    # Command modules are small (flags, help, examples); importing them costs nothing heavy.
    from openclaw_deploy.cli import (
        agent,
        budget,
        channels,
        config,
        cost,
        deploy,
        destroy,
        dlq,
        doctor,
        init,
        keys,
        logs,
        model,
        pair,
        relay,
        schedule,
        skills,
        status,
        synth,
        upgrade,
    )

    for module in (
        init,
        deploy,
        status,
        logs,
        pair,
        channels,
        relay,
        agent,
        cost,
        budget,
        keys,
        model,
        config,
        dlq,
        schedule,
        skills,
        upgrade,
        destroy,
        synth,
        doctor,
    ):
        module.register(app)


_register()


SHELLS: Final = ("bash", "zsh", "fish", "powershell", "pwsh")


def _completion_for_named_shell(argv: list[str]) -> bool:
    """`--show-completion zsh` / `--install-completion fish`: typer's flags take no shell and
    would detect (or guess) one, printing bash for a zsh user. Honour the shell named."""
    for index, arg in enumerate(argv):
        flag, _, named = arg.partition("=")
        if flag not in ("--show-completion", "--install-completion"):
            continue
        shell = named or (argv[index + 1] if index + 1 < len(argv) else "")
        if shell not in SHELLS:
            if named or (shell and not shell.startswith("-")):
                typer.echo(f"Unknown shell {shell!r}: choose one of {', '.join(SHELLS)}.", err=True)
                sys.exit(2)
            return False
        from typer._completion_shared import get_completion_script, install

        if flag == "--install-completion":
            installed, path = install(shell=shell, prog_name="openclaw-deploy")
            typer.echo(f"{installed} completion installed in {path}")
            typer.echo("Completion will take effect once you restart the terminal")
        else:
            typer.echo(
                get_completion_script(
                    prog_name="openclaw-deploy",
                    complete_var="_OPENCLAW_DEPLOY_COMPLETE",
                    shell=shell,
                )
            )
        return True
    return False


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    if _completion_for_named_shell(sys.argv[1:] if argv is None else argv):
        return
    try:
        app(args=argv, prog_name="openclaw-deploy")
    except KeyboardInterrupt:  # pragma: no cover - Ctrl-C during click's own parsing
        sys.stderr.write("\nInterrupted.\n")
        sys.exit(130)
