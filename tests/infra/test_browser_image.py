"""Chromium is in the agent's image only for a deployment with the browser on: the staged
Dockerfile says which, so each image has its own context, hash and tag."""

from __future__ import annotations

import hashlib
from pathlib import Path

from openclaw_deploy.infra.staging import DOCKERFILE, stage_sources


def _context_digest(context: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(context)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_the_browser_image_is_its_own_context_and_the_default_has_no_chromium(
    tmp_path: Path,
) -> None:
    plain = stage_sources(tmp_path / "plain").image_context
    browser = stage_sources(tmp_path / "browser", browser=True).image_context
    plain_dockerfile = (plain / DOCKERFILE).read_text()
    browser_dockerfile = (browser / DOCKERFILE).read_text()
    assert "\nARG BROWSER=0\n" in plain_dockerfile
    assert "\nARG BROWSER=1\n" in browser_dockerfile
    assert plain_dockerfile.replace("ARG BROWSER=0", "ARG BROWSER=1") == browser_dockerfile
    assert _context_digest(plain) != _context_digest(browser)
    # Chromium's is the last layer, right before the switch to the bridge's user: both images
    # share every layer above it.
    steps = [line for line in plain_dockerfile.splitlines() if line[:1].isupper()]
    at = steps.index("ARG BROWSER=0")
    assert steps[at + 1].startswith("RUN ") and steps[at + 2].startswith("USER ")
    assert not any(step.startswith(("RUN ", "COPY ")) for step in steps[at + 2 :])
