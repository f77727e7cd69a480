"""Reaching a deployment's data from the CLI, on either target.

A local deployment's resources live on its local cloud's moto server; an AWS deployment's in its
account and region. Both use the same names (`runtime.resources`), so once the context points at
the right place, every service reads them the same way.
"""

from __future__ import annotations

from openclaw_deploy.config import Deployment
from openclaw_deploy.context import AppContext
from openclaw_deploy.errors import NotFoundError


def connect(app: AppContext, deployment: Deployment) -> None:
    """Point `app`'s AWS clients at where `deployment` runs; a stopped local cloud is an error."""
    if deployment.target != "local":
        return
    from openclaw_deploy.local import service
    from openclaw_deploy.services.local import paths_for

    state = service.read_state(paths_for(app, deployment.name))
    if state is None:
        raise NotFoundError(
            f"The local deployment {deployment.name!r} is not running.",
            hint="openclaw-deploy init --target local",
        )
    app.use_local_cloud(state.moto_url)


def telegram_api_url(app: AppContext, deployment: Deployment) -> str | None:
    return deployment.telegram_api_url
