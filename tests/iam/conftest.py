"""IAM enforcement against the synthesized template: a moto server behind the authorizer, the
default deployment's resources on it, and clients signed as each component's role.

The template comes from the session's one synthesis (tests/infra/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from openclaw_deploy.infra.spec import function_name, task_family
from openclaw_deploy.local import provision
from openclaw_deploy.local.iam import enforce, policies
from openclaw_deploy.local.iam.authz import Identity
from tests.conftest import ACCOUNT, REGION
from tests.infra.conftest import NAME, Synthesized, synthesized  # noqa: F401 - shared fixture

API_ID = "local"


@dataclass
class Enforced:
    endpoint: str
    enforcement: enforce.Enforcement
    queue_url: str
    dead_letter_url: str
    cluster: str
    task_definition: str
    audit: Path

    def identity(self, component: str) -> Identity:
        return self.enforcement.identities[component]

    def client(self, service: str, component: str | None = None) -> Any:
        """A client signed as `component`'s role, or with the user's own keys (None)."""
        if component is None:
            keys = ("local", "local")
        else:
            identity = self.identity(component)
            keys = (identity.access_key_id, identity.secret_access_key)
        return boto3.client(  # type: ignore[call-overload]
            service,
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id=keys[0],
            aws_secret_access_key=keys[1],
        )


@pytest.fixture(scope="session")
def moto_server() -> Iterator[enforce.MotoServer]:
    from openclaw_deploy.local import moto_compat

    moto_compat.apply()
    server = enforce.MotoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def enforced(
    moto_server: enforce.MotoServer,
    synthesized: Synthesized,  # noqa: F811 - the shared fixture
    tmp_path: Path,
) -> Iterator[Enforced]:
    endpoint = moto_server.start_url
    httpx.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
    admin = Enforced(endpoint, None, "", "", "", "", tmp_path)  # type: ignore[arg-type]
    provision.provision_tables(admin.client("dynamodb"), NAME)
    queues, dead = provision.provision_queues(admin.client("sqs"), NAME)
    provision.provision_buckets(admin.client("s3"), NAME, ACCOUNT, REGION)
    cluster, definition = provision.provision_agent(
        admin.client("ecs"), NAME, environment={}, secrets={}, cpu=512, memory=2048
    )
    urls = {url.rsplit("/", 1)[-1]: url for url in [*queues.values(), *dead.values()]}
    audit = tmp_path / "iam-audit.jsonl"
    enforcement = enforce.enforce(
        synthesized.template,
        names=policies.LocalNames(
            deployment=NAME, region=REGION, account=ACCOUNT, api_id=API_ID, queue_urls=urls
        ),
        sessions={
            **{key: function_name(NAME, key) for key in policies.LAMBDA_COMPONENTS},
            policies.TASK: task_family(NAME),
        },
        audit_path=audit,
        latest_revision=lambda family: f"{family}:1",
    )
    moto_server.enforce_with(enforcement.authorizer)
    try:
        yield Enforced(
            endpoint=endpoint,
            enforcement=enforcement,
            queue_url=queues["inbound"],
            dead_letter_url=dead["inbound"],
            cluster=cluster,
            task_definition=definition,
            audit=audit,
        )
    finally:
        moto_server.enforce_with(None)
        enforcement.close()
