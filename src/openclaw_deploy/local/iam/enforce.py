"""Setting IAM enforcement up for one local cloud: template, roles, identities, moto's server.

The deployment's CDK app is synthesized in a child process (jsii stays out of the daemon) and the
template is kept in the tool's cache under a hash of everything that shapes it — the synthesis
inputs, the infrastructure code and the CDK version — so a warm start pays nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Final

from openclaw_deploy import toolchain
from openclaw_deploy.infra.spec import InfraSpec
from openclaw_deploy.local.iam import authz, policies, requests
from openclaw_deploy.local.iam.evaluator import Evaluator

SYNTH_TIMEOUT_SECONDS: Final = 600.0
INFRA_DIR: Final = Path(__file__).resolve().parents[2] / "infra"


def _spec_json(spec: InfraSpec) -> str:
    return json.dumps(asdict(spec), sort_keys=True, default=list)


def _spec_from_json(text: str) -> InfraSpec:
    from openclaw_deploy.config import AgentSpec

    data: dict[str, Any] = json.loads(text)
    data["agent"] = AgentSpec(**data["agent"])
    data["availability_zones"] = tuple(data["availability_zones"])
    return InfraSpec(**data)


def template_key(spec: InfraSpec) -> str:
    """A hash of every input of the synthesized template."""
    digest = hashlib.sha256(_spec_json(spec).encode())
    for path in sorted(INFRA_DIR.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for package in ("aws-cdk-lib", "cdk-nag"):
        try:
            digest.update(metadata.version(package).encode())
        except metadata.PackageNotFoundError:
            digest.update(b"-")
    return digest.hexdigest()[:24]


class TemplateJob:
    """The template of `spec`: from the cache, or synthesized in a child process meanwhile."""

    def __init__(self, spec: InfraSpec) -> None:
        self.spec = spec
        self.path = toolchain.cache_dir() / "local-iam" / template_key(spec) / "template.json"
        self.from_cache = self.path.is_file()
        self._process: subprocess.Popen[str] | None = None
        if not self.from_cache:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "openclaw_deploy.local.iam.enforce",
                    str(self.path),
                    _spec_json(spec),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )

    def result(self) -> dict[str, Any]:
        if self._process is not None:
            try:
                output, _ = self._process.communicate(timeout=SYNTH_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                output, _ = self._process.communicate()
            if self._process.returncode != 0 or not self.path.is_file():
                tail = "\n".join((output or "").strip().splitlines()[-15:])
                raise policies.IamSetupError(
                    f"Synthesizing the deployment's template for IAM enforcement failed:\n{tail}",
                    hint=f"set {authz.ENV_ENFORCE}=off to run without enforcement meanwhile",
                )
        data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
        return data


def _synth_main(out: Path, spec_json: str) -> None:
    """Child process: synthesize the spec, keep only the template."""
    from openclaw_deploy.infra.app import synthesize

    spec = _spec_from_json(spec_json)
    work = Path(tempfile.mkdtemp(prefix="openclaw-local-iam-"))
    try:
        assembly = synthesize(spec, work / "cdk.out", nag=False)
        # Two local clouds may synthesize the same template at once: each writes its own file.
        partial = out.with_name(f"{out.name}.{os.getpid()}.partial")
        shutil.copyfile(assembly.template_file, partial)
        partial.replace(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass(frozen=True, kw_only=True)
class Enforcement:
    """What the daemon holds while it enforces."""

    identities: dict[str, authz.Identity]
    authorizer: authz.Authorizer
    evaluator: Evaluator

    def close(self) -> None:
        self.evaluator.close()
        self.authorizer.audit.close()


def enforce(
    template: dict[str, Any],
    *,
    names: policies.LocalNames,
    sessions: dict[str, str],
    audit_path: Path | None,
    latest_revision: Any = None,
) -> Enforcement:
    roles = policies.load_roles(template, names)
    identities = authz.identities(roles, names.deployment, sessions)
    evaluator = Evaluator(roles, names.account)
    target = requests.Target(
        account=names.account,
        region=names.region,
        pass_roles=(roles[policies.TASK].arn, roles[policies.EXECUTION].arn),
        latest_revision=latest_revision,
    )
    authorizer = authz.Authorizer(
        evaluator=evaluator,
        identities=identities,
        target=target,
        audit=authz.Audit(audit_path),
    )
    return Enforcement(identities=identities, authorizer=authorizer, evaluator=evaluator)


class MotoServer:
    """moto's server with the authorizer in front of its application, once `enforce_with` is
    called (no component holds a role's key before that)."""

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        self._moto = DomainDispatcherApplication(create_backend_app)
        self._middleware: authz.Middleware | None = None
        self._server = make_server(
            "127.0.0.1", 0, self._app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def enforce_with(self, authorizer: authz.Authorizer | None) -> None:
        """Authorize every later request with `authorizer` (None: stop enforcing)."""
        self._middleware = authz.Middleware(self._moto, authorizer) if authorizer else None

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        middleware = self._middleware
        if middleware is None:
            return self._moto(environ, start_response)
        return middleware(environ, start_response)

    @property
    def start_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> str:
        """Serve in a thread; returns the endpoint URL."""
        self._thread.start()
        return self.start_url

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="synthesize a template for IAM enforcement")
    parser.add_argument("out", type=Path)
    parser.add_argument("spec", help="the InfraSpec as JSON")
    arguments = parser.parse_args()
    _synth_main(arguments.out, arguments.spec)
