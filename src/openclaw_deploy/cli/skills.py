"""`openclaw-deploy skills`: the owner's own skills for the agent — add, list, remove, toggle."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console
from rich.markup import escape

from openclaw_deploy.cli.common import (
    JsonOption,
    NameOption,
    TargetOption,
    YesOption,
    app_context,
    resolve_deployment,
)
from openclaw_deploy.errors import AbortedError
from openclaw_deploy.output import emit, recommend

if TYPE_CHECKING:
    from openclaw_deploy.services.skills import (
        SkillAdded,
        SkillListing,
        SkillRemoved,
        SkillToggled,
    )

HELP: Final = """Skills teach your agent how and when to do something: a folder with a SKILL.md.

SKILL.md starts with a frontmatter block naming the skill and saying what it is for:

\b
  ---
  name: release-notes
  description: Write release notes from a list of merged changes
  ---
  When asked for release notes, ...

Your skills are kept in the deployment's state bucket (versioned, apart from the agent's
backups) and reach the running agent within seconds, a sleeping one when it next starts.

Examples:

\b
  openclaw-deploy skills add ./release-notes         # a folder
  openclaw-deploy skills add release-notes.zip       # or a .zip / .tar.gz
  openclaw-deploy skills add clawhub:weather-alerts  # from ClawHub
  openclaw-deploy skills list
  openclaw-deploy skills disable release-notes
  openclaw-deploy skills remove release-notes --yes
"""
ADD_HELP: Final = """Add a skill (or replace yours of the same name) from a folder, .zip or .tar.gz,
or from ClawHub, OpenClaw's public skill registry, as clawhub:NAME (or clawhub:@owner/NAME):
the pinned OpenClaw installs it on this machine (resolution, ClawHub's release trust check,
download; the first time OpenClaw itself is installed into the tool's cache), then it is
checked and stored like any other.

Refused, with nothing stored: no SKILL.md or no name/description in its frontmatter, the name of
a built-in skill, absolute paths, `..`, links or devices in it, an archive over 3 MiB, more
than 256 files, a file over 1 MiB or more than 8 MiB unpacked.
"""
NameArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="The skill's name (from `skills list`).")
]

skills_app = typer.Typer(help=HELP, no_args_is_help=True, rich_markup_mode=None)


def _when(epoch: float | None) -> str:
    if not epoch:
        return "never"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _render_added(console: Console, result: SkillAdded) -> None:
    skill = result.skill
    verb = "Replaced" if result.replaced else "Added"
    console.print(
        f"[bold green]{verb}[/] the skill [bold]{escape(skill['name'])}[/] in "
        f"{result.deployment}: {escape(skill['description'])} "
        f"({skill['files']} files, {skill['size']} bytes)",
        highlight=False,
    )
    console.print(f"  {result.applies}", highlight=False)


def _loaded(value: bool | None) -> str:
    return {True: "loaded", False: "not loaded", None: "-"}[value]


def _render_listing(console: Console, listing: SkillListing) -> None:
    owner = [s for s in listing.skills if s["source"] == "owner"]
    built_in = [s for s in listing.skills if s["source"] != "owner"]
    console.print(
        f"[bold]{listing.deployment}[/]: the agent last reported its skills "
        f"{_when(listing.reported_at)}",
        highlight=False,
    )
    console.print("Yours:" if owner else "Yours: none (openclaw-deploy skills add PATH)")
    for skill in owner:
        state = "enabled" if skill["enabled"] else "[yellow]disabled[/]"
        console.print(
            f"  [bold]{escape(skill['name'])}[/]  {state}, {_loaded(skill['loaded'])}  "
            f"{escape(skill['description'])}",
            highlight=False,
        )
    groups = {
        "ready for the agent": [s for s in built_in if s["enabled"] and s["loaded"]],
        "turned off": [s for s in built_in if not s["enabled"]],
        "not loaded (a tool, setting or plugin they need is missing here)": [
            s for s in built_in if s["enabled"] and s["loaded"] is False
        ],
        "not reported yet": [s for s in built_in if s["enabled"] and s["loaded"] is None],
    }
    console.print(f"Built in ({len(built_in)}; descriptions with --json):")
    for label, members in groups.items():
        if members:
            names = ", ".join(escape(s["name"]) for s in members)
            console.print(f"  {label}: {names}", highlight=False)


def _render_removed(console: Console, result: SkillRemoved) -> None:
    console.print(f"Removed the skill {result.name} from {result.deployment}.", highlight=False)
    console.print(f"  {result.applies}", highlight=False)


def _render_toggled(console: Console, result: SkillToggled) -> None:
    state = "Enabled" if result.enabled else "Disabled"
    console.print(
        f"{state} the {result.source} skill {result.name} in {result.deployment}.",
        highlight=False,
    )
    console.print(f"  {result.applies}", highlight=False)


@skills_app.command("add", help=ADD_HELP)
def add(
    ctx: typer.Context,
    path: Annotated[
        str,
        typer.Argument(
            metavar="PATH",
            help="A skill folder, .zip or .tar.gz, or clawhub:NAME.",
            show_default=False,
        ),
    ],
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            envvar="OPENCLAW_CLAWHUB_URL",
            help="clawhub: the registry's URL (default: ClawHub's own).",
            show_default=False,
        ),
    ] = None,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services.skills import add_skill

    app = app_context(ctx)
    deployment = resolve_deployment(app, name, target)
    with app.reporter().task("Checking and storing the skill"):
        result = add_skill(app, deployment, path, registry=registry)
    emit(app.console, result, as_json=as_json, render=_render_added)
    if not as_json:
        recommend(app.console, ("openclaw-deploy skills list", "see it loaded by the agent"))


@skills_app.command("list", help="Your skills and the built-in ones: enabled, loaded.")
def list_(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services.skills import list_skills

    app = app_context(ctx)
    listing = list_skills(app, resolve_deployment(app, name, target))
    emit(app.console, listing, as_json=as_json, render=_render_listing)


@skills_app.command("remove", help="Remove one of your skills (asks first; --yes does not).")
def remove(
    ctx: typer.Context,
    skill: NameArgument,
    yes: YesOption = False,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services.skills import remove_skill

    app = app_context(ctx, assume_yes=yes)
    deployment = resolve_deployment(app, name, target)
    if not yes and not app.prompter.confirm(
        f"Remove the skill {skill} from {deployment.name}?", default=False
    ):
        raise AbortedError(
            "Nothing was removed.", hint=f"openclaw-deploy skills remove {skill} --yes"
        )
    result = remove_skill(app, deployment, skill)
    emit(app.console, result, as_json=as_json, render=_render_removed)


def _toggle(
    ctx: typer.Context,
    skill: str,
    enabled: bool,
    *,
    name: str | None,
    target: str | None,
    as_json: bool,
) -> None:
    from openclaw_deploy.services.skills import set_enabled

    app = app_context(ctx)
    result = set_enabled(app, resolve_deployment(app, name, target), skill, enabled)
    emit(app.console, result, as_json=as_json, render=_render_toggled)


@skills_app.command("enable", help="Turn a skill on again (yours or a built-in one).")
def enable(
    ctx: typer.Context,
    skill: NameArgument,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    _toggle(ctx, skill, True, name=name, target=target, as_json=as_json)


@skills_app.command("disable", help="Turn a skill off without removing it.")
def disable(
    ctx: typer.Context,
    skill: NameArgument,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    _toggle(ctx, skill, False, name=name, target=target, as_json=as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(skills_app, name="skills")
