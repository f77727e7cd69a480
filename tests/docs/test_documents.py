"""The documents stay true: every command they show exists with those flags, every script,
benchmark and file they point at exists, and the licence travels with the package."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
import typer

from openclaw_deploy.cli.app import app

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted(
    [
        REPO / "README.md",
        REPO / "CONTRIBUTING.md",
        REPO / "SECURITY.md",
        REPO / "container" / "README.md",
        *(REPO / "docs").glob("*.md"),
    ]
)
COMMAND = re.compile(r"(?<![\w.-])(?<!cache/)openclaw-deploy((?:[ \t]+(?:\\\n)?[^\s`|;&)]+)+)")
SPAN = re.compile(r"`([^`\n]+)`")
BLOCK = re.compile(r"^```([a-z]*)\n(.*?)^```", re.S | re.M)
PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]*$|^<.*>$|^\.\.\.$|^…$")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _snippets(text: str) -> list[str]:
    """Code blocks and inline code: where a reader copies a command from."""
    blocks = [
        block.replace("\\\n", " ")
        for language, block in BLOCK.findall(text)
        if language != "mermaid"  # diagrams name the CLI, they do not run it
    ]
    prose = BLOCK.sub("", text)
    return blocks + SPAN.findall(prose)


def _invocations(text: str) -> list[list[str]]:
    found = []
    for snippet in _snippets(text):
        for line in snippet.splitlines():
            for match in COMMAND.finditer(line):
                if line[: match.start()].rstrip().endswith(("pipx install", "pip install")):
                    continue
                found.append(match.group(1).split())
    return found


def _options(command: Any) -> set[str]:
    return {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}


ROOT = typer.main.get_command(app)
GLOBAL_OPTIONS = _options(ROOT) | {"--help", "-h", "--install-completion", "--show-completion"}


def _check(tokens: list[str]) -> list[str]:
    """What is wrong with one documented invocation (empty when it is right)."""
    command: Any = ROOT
    path = ["openclaw-deploy"]
    problems = []
    for raw in tokens:
        token = raw.strip("[]()\"',.:")
        if not token or PLACEHOLDER.match(token):
            continue
        if token == "-":
            continue  # stdin, an argument (keys set PROVIDER -)
        if token.startswith("-"):
            flag = token.split("=", 1)[0]
            if flag not in _options(command) | GLOBAL_OPTIONS:
                problems.append(f"{' '.join(path)}: no option {flag}")
            continue
        subcommands = getattr(command, "commands", None)
        if subcommands is not None:
            sub = subcommands.get(token)
            if sub is None:
                if command is ROOT:
                    problems.append(f"no command {token!r}")
                    break
                continue
            command = sub
            path.append(token)
    return problems


def test_documents_exist_and_are_linked_from_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in (
        "LICENSE",
        "CONTRIBUTING.md",
        "SECURITY.md",
        "docs/deployment.md",
        "docs/architecture.md",
        "docs/development.md",
    ):
        assert (REPO / name).is_file(), name
        assert f"({name})" in readme, f"README does not link {name}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_documented_command_exists_with_its_flags(document: Path) -> None:
    invocations = _invocations(document.read_text(encoding="utf-8"))
    problems = [problem for tokens in invocations for problem in _check(tokens)]
    assert problems == []


def test_the_checker_catches_a_wrong_command_and_a_wrong_flag() -> None:
    assert _check(["destroy", "--purge", "--yes"]) == []
    assert _check(["pair", "approve", "CODE"]) == []
    assert _check(["detsroy"]) == ["no command 'detsroy'"]
    assert _check(["logs", "--folow"]) == ["openclaw-deploy logs: no option --folow"]
    assert _invocations("run `openclaw-deploy logs --since 1h` now") == [["logs", "--since", "1h"]]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_script_benchmark_and_link_exists(document: Path) -> None:
    text = document.read_text(encoding="utf-8")
    missing = []
    for path in re.findall(r"(?<![\w/.-])((?:scripts|bench)/[\w.-]+)", text):
        if "NAME" not in path and not (REPO / path).exists():
            missing.append(path)
    for target in LINK.findall(text):
        if "://" in target:
            continue
        if not (document.parent / target).resolve().exists():
            missing.append(target)
    assert missing == []


def test_the_deployer_policy_is_a_valid_policy_document() -> None:
    import json

    policy = json.loads((REPO / "docs" / "deployer-policy.json").read_text(encoding="utf-8"))
    assert policy["Version"] == "2012-10-17"
    sids = [statement["Sid"] for statement in policy["Statement"]]
    assert len(sids) == len(set(sids))
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert statement["Action"] and statement["Resource"]


@pytest.mark.slow
def test_the_licence_travels_and_a_wheel_builds_from_the_sdist(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("openclaw_deploy-*.whl")
    (sdist,) = tmp_path.glob("openclaw_deploy-*.tar.gz")
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    with zipfile.ZipFile(wheel) as archive:
        (entry,) = [n for n in archive.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        assert archive.read(entry).decode() == licence
        # `build` makes the wheel from the sdist: the sdist carries everything the wheel needs.
        assert "openclaw_deploy/_assets/web/index.html" in archive.namelist()
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
        for name in ("LICENSE", "CONTRIBUTING.md", "SECURITY.md", "docs/deployment.md"):
            assert any(n.endswith("/" + name) for n in names), name
