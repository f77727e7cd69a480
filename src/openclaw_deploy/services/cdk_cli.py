"""Running the pinned npm `aws-cdk` CLI on a synthesized cloud assembly.

The CLI (installed once into the tool's cache by `toolchain.cdk_cli`) publishes the assets and
drives CloudFormation; its own output goes to a log file, because progress is shown from
CloudFormation's events instead. Credentials reach it the standard way: the same environment,
`--profile` when one was chosen, and `AWS_ENDPOINT_URL` when the context points elsewhere
(tests and the local target use a moto server).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

from openclaw_deploy import toolchain

LOG_TAIL_LINES: Final = 25


@dataclass(frozen=True)
class CdkRun:
    returncode: int
    log_file: Path

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


@dataclass(frozen=True, kw_only=True)
class CdkCli:
    region: str
    log_dir: Path
    profile: str | None = None
    endpoint_url: str | None = None

    def environment(self) -> dict[str, str]:
        extra = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "CDK_DISABLE_CLI_TELEMETRY": "true",
            "CDK_DISABLE_VERSION_CHECK": "true",
            "FORCE_COLOR": "0",
        }
        if self.endpoint_url:
            extra["AWS_ENDPOINT_URL"] = self.endpoint_url
        return toolchain.node_env(extra)

    def _common(self) -> list[str]:
        args = ["--no-notices", "--no-color", "--ci"]
        if self.profile:
            args += ["--profile", self.profile]
        return args

    def run(
        self,
        args: list[str],
        *,
        log_name: str,
        while_running: Callable[[subprocess.Popen[bytes]], None] | None = None,
    ) -> CdkRun:
        """Run the CLI with `args`; `while_running(process)` is called until it exits."""
        command = [*toolchain.cdk_cli(), *args, *self._common()]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_file = self.log_dir / f"{log_name}.log"
        with log_file.open("wb") as log:
            process = _start(command, log, self.environment())
            try:
                if while_running is not None:
                    while_running(process)
                returncode = process.wait()
            except BaseException:
                # Ctrl-C or an error while following: do not leave the CLI running unseen.
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                raise
        return CdkRun(returncode=returncode, log_file=log_file)

    def deploy(
        self,
        assembly: Path,
        stack: str,
        *,
        import_existing: bool = False,
        while_running: Callable[[subprocess.Popen[bytes]], None] | None = None,
    ) -> CdkRun:
        args = [
            "deploy",
            stack,
            "--app",
            str(assembly),
            "--require-approval",
            "never",
            "--progress",
            "events",
            "--exclusively",
        ]
        if import_existing:
            args.append("--import-existing-resources")
        return self.run(args, log_name=f"{stack}-deploy", while_running=while_running)

    def bootstrap(
        self,
        account: str,
        region: str,
        *,
        while_running: Callable[[subprocess.Popen[bytes]], None] | None = None,
    ) -> CdkRun:
        return self.run(
            ["bootstrap", f"aws://{account}/{region}"],
            log_name=f"bootstrap-{account}-{region}",
            while_running=while_running,
        )


def _start(command: list[str], log: IO[bytes], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
    )
