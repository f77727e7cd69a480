"""The one object that builds what lies outside the process: AWS clients, consoles, prompts, time.

Commands get an `AppContext` and hand it to services. boto3 is imported only when a client is
first needed (so `--help` stays fast), sessions and clients are built once per region, and the
endpoint is resolved the standard way: boto3 itself honours `AWS_ENDPOINT_URL` (how tests and the
local target point every call at a moto server); `endpoint_url` here overrides it when set.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from openclaw_deploy.config import ConfigFile, load_config
from openclaw_deploy.output import ConsoleReporter, Reporter
from openclaw_deploy.prompts import Prompter

if TYPE_CHECKING:
    import boto3


@dataclass(kw_only=True)
class AppContext:
    config_path: Path
    console: Console
    err_console: Console
    prompter: Prompter
    profile: str | None = None
    debug: bool = False
    endpoint_url: str | None = None
    static_credentials: tuple[str, str] | None = field(default=None, repr=False)
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    _config: ConfigFile | None = field(default=None, repr=False)
    _sessions: dict[str | None, boto3.Session] = field(default_factory=dict, repr=False)
    _clients: dict[tuple[str, str | None], Any] = field(default_factory=dict, repr=False)

    @property
    def config(self) -> ConfigFile:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def reporter(self) -> Reporter:
        return ConsoleReporter(self.err_console)

    def session(self, region: str | None = None) -> boto3.Session:
        if region not in self._sessions:
            import boto3

            from openclaw_deploy.aws.errors import translate_boto_errors

            with translate_boto_errors("open an AWS session"):
                if self.static_credentials:
                    key_id, secret = self.static_credentials
                    self._sessions[region] = boto3.Session(
                        aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=region
                    )
                else:
                    self._sessions[region] = boto3.Session(
                        profile_name=self.profile, region_name=region
                    )
        return self._sessions[region]

    def use_local_cloud(self, endpoint_url: str) -> None:
        """Point every later client at the local target's moto server, with its own credentials
        (never the user's real AWS ones)."""
        self.endpoint_url = endpoint_url
        self.static_credentials = ("local", "local")
        self._sessions.clear()
        self._clients.clear()

    def client(self, service: str, region: str | None = None) -> Any:
        """A boto3 client, built once per (service, region), with retries in standard mode."""
        key = (service, region)
        if key not in self._clients:
            from botocore.config import Config

            config = Config(
                retries={"mode": "standard", "max_attempts": 5}, user_agent_extra="openclaw-deploy"
            )
            kwargs: dict[str, Any] = {"config": config}
            if self.endpoint_url:
                kwargs["endpoint_url"] = self.endpoint_url
            session: Any = self.session(region)  # typed per service name; ours is a str
            self._clients[key] = session.client(service, **kwargs)
        return self._clients[key]
