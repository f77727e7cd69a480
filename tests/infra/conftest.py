"""One synthesis per test session, shared: the default deployment (a concrete account and real
availability zones, every secret configured), a variant (environment-agnostic, on-demand only, a
bigger task, no Telegram) and a Bedrock deployment in Europe as `deploy` synthesizes it before
the image exists (the task still runs the previous image; no owner invitation yet). All run with
the cdk-nag AwsSolutions pack enabled, so a fixture that builds at all has passed it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from openclaw_deploy.config import AgentSpec
from openclaw_deploy.infra.app import Assembly, synthesize
from openclaw_deploy.infra.spec import InfraSpec
from openclaw_deploy.runtime import resources

ACCOUNT = "123456789012"
REGION = "us-east-1"
ZONES = ("us-east-1a", "us-east-1b")
NAME = "test"
WEBHOOK_CONCURRENCY = 5
BEDROCK_REGION = "eu-central-1"
BUDGET_USD = 12
PREVIOUS_TAG = "src-0123456789abcdef0123456789abcdef"


def default_spec() -> InfraSpec:
    return InfraSpec(
        name=NAME,
        region=REGION,
        account=ACCOUNT,
        availability_zones=ZONES,
        provider="anthropic",
        model="claude-sonnet-4-5",
        owner_email="owner@example.com",
        secret_parameters={s.key: s.parameter_name(NAME) for s in resources.SECRETS},
        webhook_reserved_concurrency=WEBHOOK_CONCURRENCY,
        monthly_budget_usd=BUDGET_USD,
    )


def variant_spec() -> InfraSpec:
    return InfraSpec(
        name="other-bot",
        region="eu-west-1",
        agent=AgentSpec(cpu=1024, memory=4096, spot=False, idle_timeout_minutes=30),
        provider="openai",
        model="gpt-5-mini",
        llm_base_url="https://llm.example.com/v1",
        owner_email="",
        secret_parameters={
            resources.LLM_API_KEY.key: resources.LLM_API_KEY.parameter_name("other-bot")
        },
    )


def bedrock_spec() -> InfraSpec:
    return InfraSpec(
        name="eu-bot",
        region=BEDROCK_REGION,
        account=ACCOUNT,
        availability_zones=(f"{BEDROCK_REGION}a", f"{BEDROCK_REGION}b"),
        provider="bedrock",
        model="",  # the provider's default
        owner_email="owner@example.com",
        secret_parameters={},
        running_image_tag=PREVIOUS_TAG,
        invite_owner=False,
    )


@dataclass(frozen=True)
class Synthesized:
    spec: InfraSpec
    assembly: Assembly
    template: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = self.template["Resources"]
        return found

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == resource_type}

    def policy_statements(self) -> Iterator[tuple[str, list[str], str]]:
        """(policy logical id, its actions sorted, one resource as JSON) for each resource of
        each statement of every IAM policy in the template."""
        for logical_id, policy in self.of_type("AWS::IAM::Policy").items():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions, targets = statement["Action"], statement["Resource"]
                listed = sorted(actions if isinstance(actions, list) else [actions])
                for target in targets if isinstance(targets, list) else [targets]:
                    yield logical_id, listed, json.dumps(target)

    def metadata(self) -> dict[str, Any]:
        path = self.assembly.directory / f"{self.assembly.stack_name}.metadata.json"
        data: dict[str, Any] = json.loads(path.read_text())
        return data


def _synth(spec: InfraSpec, directory: Path) -> Synthesized:
    assembly = synthesize(spec, directory, nag=True)
    return Synthesized(spec=spec, assembly=assembly, template=assembly.template())


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return _synth(default_spec(), tmp_path_factory.mktemp("assembly") / "cdk.out")


@pytest.fixture(scope="session")
def variant(tmp_path_factory: pytest.TempPathFactory, synthesized: Synthesized) -> Synthesized:
    # Depends on `synthesized` so the two synths share one jsii process, in a fixed order.
    return _synth(variant_spec(), tmp_path_factory.mktemp("variant") / "cdk.out")


@pytest.fixture(scope="session")
def bedrock(tmp_path_factory: pytest.TempPathFactory, variant: Synthesized) -> Synthesized:
    return _synth(bedrock_spec(), tmp_path_factory.mktemp("bedrock") / "cdk.out")


@pytest.fixture(scope="session")
def template(synthesized: Synthesized) -> Any:
    """The default template as `aws_cdk.assertions.Template`."""
    from aws_cdk.assertions import Template

    return Template.from_json(synthesized.template)
