"""The agent image for tests: built once per run (a session fixture), then commands run inside it.

The build is the real one (`openclaw_deploy.local.image`: buildah, the stand-in base, the
Dockerfile unchanged); a second build in the same run only checks the layer cache.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from openclaw_deploy.local.container import Launch
from openclaw_deploy.local.image import AgentImage, Buildah, build_agent_image, storage_home
from openclaw_deploy.output import RecordingReporter

_names = itertools.count()


@pytest.fixture(scope="session")
def agent_image() -> AgentImage:
    """The default image (no Chromium)."""
    if os.geteuid() != 0:
        pytest.skip("building and running the image needs root (buildah)")
    return build_agent_image(RecordingReporter())


@pytest.fixture(scope="session")
def browser_image() -> AgentImage:
    """The image of a deployment with the browser on: the default's layers and Chromium's."""
    if os.geteuid() != 0:
        pytest.skip("building and running the image needs root (buildah)")
    return build_agent_image(RecordingReporter(), browser=True)


def run_in_image(
    image: AgentImage, script: str, *, user: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `sh -c script` in a fresh root of the image, as its user (or `user`), as a task would."""
    buildah = Buildah(storage_home())
    config = buildah.image_config(image.image_id)
    name = f"test-{os.getpid()}-{next(_names)}"
    root: Path = buildah.new_root(image.image_id, name)
    try:
        launch = Launch(
            command=["sh", "-c", script],
            env=config.env,
            rootfs=str(root),
            user=user or config.user,
            workdir=config.workdir,
        )
        return subprocess.run(
            [sys.executable, "-m", "openclaw_deploy.local.container"],
            input=launch.to_json(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    finally:
        buildah.remove(name)
