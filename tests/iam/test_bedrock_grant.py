"""The Bedrock call the model proxy makes is the one the task role is granted, and the refusal
of `model bedrock/...` (runtime.providers.missing_bedrock_grant) agrees with the policy.

The proxy's request for an OpenClaw turn (openclaw_bridge.bedrock.messages_call) is checked
with the IAM policy evaluator the local target uses, against the task role of the synthesized
Bedrock deployment (tests/infra/conftest.py: eu-central-1, the default model)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from openclaw_bridge.bedrock import messages_call
from openclaw_deploy.local.iam import policies
from openclaw_deploy.local.iam.evaluator import ALLOWED, Evaluator
from openclaw_deploy.runtime.providers import get_provider, missing_bedrock_grant
from tests.conftest import ACCOUNT
from tests.infra.conftest import (  # noqa: F401 - shared fixtures
    BEDROCK_REGION,
    Synthesized,
    bedrock,
    synthesized,
    variant,
)

DEFAULT = get_provider("bedrock").default_model
OTHER = "anthropic.claude-haiku-4-5-20251001-v1:0"
ACTIONS = {
    "invoke-with-response-stream": "bedrock:InvokeModelWithResponseStream",
    "invoke": "bedrock:InvokeModel",
}


@pytest.fixture(scope="module")
def evaluator(bedrock: Synthesized) -> Iterator[tuple[Evaluator, str]]:  # noqa: F811
    deployment = bedrock.spec.name
    roles = policies.load_roles(
        bedrock.template,
        policies.LocalNames(
            deployment=deployment, region=BEDROCK_REGION, account=ACCOUNT, api_id="api"
        ),
    )
    principal = f"arn:aws:sts::{ACCOUNT}:assumed-role/{roles[policies.TASK].name}/task"
    found = Evaluator(roles, ACCOUNT)
    try:
        yield found, principal
    finally:
        found.close()


def allowed(evaluator: tuple[Evaluator, str], model: str, *, stream: bool = True) -> bool:
    """Whether the task role may make the proxy's call for a turn with `model`: the profile in
    the deployment's region, then its model in another region of the geography (where the
    profile may route it)."""
    body = {"model": model, "stream": stream, "max_tokens": 8, "messages": []}
    call = messages_call(
        base_url=f"https://bedrock-runtime.{BEDROCK_REGION}.amazonaws.com",
        region=BEDROCK_REGION,
        path="v1/messages",
        incoming=[],
        body=json.dumps(body).encode(),
    )
    action = ACTIONS[call.url.rsplit("/", 1)[-1]]
    foundation = call.model.split(".", 1)[1]
    resources = [
        f"arn:aws:bedrock:{BEDROCK_REGION}:{ACCOUNT}:inference-profile/{call.model}",
        f"arn:aws:bedrock:eu-west-3::foundation-model/{foundation}",
    ]
    found, principal = evaluator
    return all(
        found.decide(
            policies.TASK, principal=principal, action=action, resource=resource, context={}
        ).result
        == ALLOWED
        for resource in resources
    )


@pytest.mark.slow
def test_the_proxys_call_for_the_granted_model_is_allowed_and_no_other(
    evaluator: tuple[Evaluator, str],
    bedrock: Synthesized,  # noqa: F811
) -> None:
    assert allowed(evaluator, DEFAULT)
    assert allowed(evaluator, DEFAULT, stream=False)
    assert not allowed(evaluator, OTHER)
    # The up-front refusal says the same as the policy, for the model init chose and another.
    for model, expected in ((DEFAULT, True), (f"eu.{DEFAULT}", True), (OTHER, False)):
        refusal = missing_bedrock_grant(
            "bedrock",
            model,
            default_provider="bedrock",
            default_model=bedrock.spec.model,  # init's choice ("": the default)
            region=BEDROCK_REGION,
        )
        assert (refusal is None) is expected, (model, refusal)
        assert allowed(evaluator, model) is expected, model
