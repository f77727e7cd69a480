"""What real AWS requires of the template and moto does not check: Bedrock permissions and model
ids, a bounded cost of the open webhook, immutable image tags, least-privilege image builds, a
Cognito client without unused OAuth, and a task definition that never names an image not built
yet."""

from __future__ import annotations

import json
from typing import Any

from openclaw_deploy.infra import spec as names
from openclaw_deploy.runtime.providers import (
    BEDROCK_INVOKE_ACTIONS,
    bedrock_geography,
    bedrock_invoke_resources,
    resolve_model,
)
from tests.infra.conftest import (
    ACCOUNT,
    BEDROCK_REGION,
    PREVIOUS_TAG,
    WEBHOOK_CONCURRENCY,
    Synthesized,
)
from tests.infra.test_template import _actions, _flat, _resources, _statements

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def _role_statements(synth: Synthesized, role_prefix: str) -> list[dict[str, Any]]:
    """Statements of the policies attached to the role whose logical id starts with the prefix."""
    found: list[dict[str, Any]] = []
    for resource in synth.of_type("AWS::IAM::Policy").values():
        roles = [_flat(r) for r in resource["Properties"].get("Roles", [])]
        if any(r.startswith(f"<{role_prefix}") for r in roles):
            found.extend(resource["Properties"]["PolicyDocument"]["Statement"])
    return found


def _bedrock_statements(synth: Synthesized) -> list[dict[str, Any]]:
    return [s for _, s in _statements(synth) if any(a.startswith("bedrock:") for a in _actions(s))]


# --- Bedrock ---------------------------------------------------------------------------------


def test_default_bedrock_model_is_the_inference_profile_of_the_region() -> None:
    assert resolve_model("bedrock", "", "us-west-2") == f"us.{SONNET}"
    assert resolve_model("bedrock", "", "eu-central-1") == f"eu.{SONNET}"
    assert resolve_model("bedrock", "", "ap-northeast-1") == f"jp.{SONNET}"
    assert resolve_model("bedrock", "", "ap-southeast-2") == f"au.{SONNET}"
    assert resolve_model("bedrock", "", "sa-east-1") == f"global.{SONNET}"
    assert bedrock_geography("us-gov-west-1") == "us-gov"
    # A bare Claude id typed at init is turned into a profile; chosen profiles and ARNs stay.
    assert resolve_model("bedrock", SONNET, "us-east-1") == f"us.{SONNET}"
    assert resolve_model("bedrock", f"global.{SONNET}", "eu-west-1") == f"global.{SONNET}"
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc"
    assert resolve_model("bedrock", arn, "us-east-1") == arn
    # Other providers are left alone.
    assert resolve_model("anthropic", "", "eu-west-1") == "claude-sonnet-4-5"


def test_a_cross_region_profile_grants_the_profile_and_its_model_in_every_region() -> None:
    assert bedrock_invoke_resources(f"eu.{SONNET}", region="eu-west-1", account=ACCOUNT) == [
        f"arn:aws:bedrock:eu-west-1:{ACCOUNT}:inference-profile/eu.{SONNET}",
        f"arn:aws:bedrock:*::foundation-model/{SONNET}",
    ]
    # A model without a profile is called in the deployment's own region only.
    assert bedrock_invoke_resources(
        "amazon.nova-pro-v1:0", region="us-east-1", account=ACCOUNT
    ) == ["arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0"]


def test_bedrock_task_role_may_invoke_the_chosen_profile_and_nothing_else(
    bedrock: Synthesized,
) -> None:
    profile = f"eu.{SONNET}"
    (statement,) = _bedrock_statements(bedrock)
    assert sorted(_actions(statement)) == sorted(BEDROCK_INVOKE_ACTIONS)
    assert sorted(_flat(r) for r in _resources(statement)) == sorted(
        [
            f"arn:aws:bedrock:{BEDROCK_REGION}:{ACCOUNT}:inference-profile/{profile}",
            f"arn:aws:bedrock:*::foundation-model/{SONNET}",
        ]
    )
    # It is on the task role, not on a Lambda's.
    assert statement in _role_statements(bedrock, "AgentTaskRole")
    # The agent is told to call the profile, not the bare model id AWS rejects on demand.
    (task_definition,) = bedrock.of_type("AWS::ECS::TaskDefinition").values()
    environment = {
        e["Name"]: e["Value"]
        for e in task_definition["Properties"]["ContainerDefinitions"][0]["Environment"]
    }
    assert environment[names.ENV_LLM_MODEL] == profile
    assert environment[names.ENV_LLM_PROVIDER] == "bedrock"


def test_other_providers_get_no_bedrock_permission(
    synthesized: Synthesized, variant: Synthesized
) -> None:
    assert _bedrock_statements(synthesized) == []
    assert _bedrock_statements(variant) == []


# --- the open webhook ------------------------------------------------------------------------


def test_the_open_webhook_routes_have_their_own_low_throttle(synthesized: Synthesized) -> None:
    (stage,) = [
        s
        for s in synthesized.of_type("AWS::ApiGatewayV2::Stage").values()
        if s["Properties"]["StageName"] == "$default"
    ]
    settings = stage["Properties"]["RouteSettings"]
    low = {
        "ThrottlingBurstLimit": names.TELEGRAM_BURST_LIMIT,
        "ThrottlingRateLimit": names.TELEGRAM_RATE_LIMIT,
    }
    # Telegram, Slack and Discord call unauthenticated routes; nothing else has one.
    assert settings == {
        "POST /telegram": low,
        "POST /slack/events": low,
        "POST /discord/interactions": low,
    }
    assert (
        stage["Properties"]["DefaultRouteSettings"]["ThrottlingRateLimit"]
        > names.TELEGRAM_RATE_LIMIT
    )
    # API Gateway refuses settings for a route that does not exist yet: the stage waits for it.
    (route_id,) = [
        logical_id
        for logical_id, r in synthesized.of_type("AWS::ApiGatewayV2::Route").items()
        if r["Properties"]["RouteKey"] == "POST /telegram"
    ]
    assert route_id in stage.get("DependsOn", [])


def test_webhook_concurrency_is_reserved_only_when_the_account_allows(
    synthesized: Synthesized, variant: Synthesized
) -> None:
    def reserved(synth: Synthesized) -> Any:
        (function,) = [
            f["Properties"]
            for f in synth.of_type("AWS::Lambda::Function").values()
            if f["Properties"].get("FunctionName") == f"{synth.spec.prefix}-telegram"
        ]
        return function.get("ReservedConcurrentExecutions")

    assert reserved(synthesized) == WEBHOOK_CONCURRENCY
    assert reserved(variant) is None  # the spec did not ask (e.g. a new account's limit of 10)
    others = [
        f["Properties"].get("ReservedConcurrentExecutions")
        for f in synthesized.of_type("AWS::Lambda::Function").values()
        if not str(f["Properties"].get("FunctionName", "")).endswith("-telegram")
    ]
    assert set(others) == {None}


# --- the image -------------------------------------------------------------------------------


def test_image_tags_are_immutable(synthesized: Synthesized) -> None:
    (repository,) = synthesized.of_type("AWS::ECR::Repository").values()
    assert repository["Properties"]["ImageTagMutability"] == "IMMUTABLE"


def test_codebuild_role_reads_only_its_own_source_logs_and_repository(
    synthesized: Synthesized,
) -> None:
    (project,) = synthesized.of_type("AWS::CodeBuild::Project").values()
    role_id = project["Properties"]["ServiceRole"]["Fn::GetAtt"][0]
    statements = _role_statements(synthesized, role_id)
    assert statements
    granted = {
        action: sorted(_flat(r) for r in _resources(s))
        for s in statements
        for action in _actions(s)
    }
    assert not any("*" in action for action in granted)  # no s3:GetObject*, s3:List*, ...
    (source,) = granted["s3:GetObject"]
    key = _flat(project["Properties"]["Source"]["Location"]).split("/", 1)[1]
    assert source.endswith(f"/{key}") and key.endswith(".zip")
    assert granted["s3:GetBucketLocation"] == [source.rsplit("/", 1)[0]]
    (build_logs,) = [
        logical_id
        for logical_id, group in synthesized.of_type("AWS::Logs::LogGroup").items()
        if group["Properties"]["LogGroupName"] == names.image_build_log_group(synthesized.spec.name)
    ]
    assert granted["logs:PutLogEvents"] == [f"<{build_logs}.Arn>"]
    assert "/aws/codebuild/" not in json.dumps(statements)
    (repository_id,) = synthesized.of_type("AWS::ECR::Repository")
    assert granted["ecr:PutImage"] == [f"<{repository_id}.Arn>"]
    assert granted["ecr:GetAuthorizationToken"] == ["*"]  # it names no resource
    wildcard = {a for a, r in granted.items() if r == ["*"]}
    assert wildcard == {"ecr:GetAuthorizationToken"}


def test_a_task_definition_runs_the_tag_deploy_names_until_the_new_image_exists(
    synthesized: Synthesized, bedrock: Synthesized
) -> None:
    def image(synth: Synthesized) -> str:
        (task_definition,) = synth.of_type("AWS::ECS::TaskDefinition").values()
        return _flat(task_definition["Properties"]["ContainerDefinitions"][0]["Image"])

    own_tag = synthesized.template["Outputs"][names.OUTPUT_IMAGE_TAG]["Value"]
    assert image(synthesized).endswith(f":{own_tag}")
    # Before its image exists the task keeps running the previous one, and says so.
    assert image(bedrock).endswith(f":{PREVIOUS_TAG}")
    assert bedrock.template["Outputs"][names.OUTPUT_IMAGE_TAG]["Value"] == PREVIOUS_TAG
    # ...while the build project already builds the new sources' tag.
    (project,) = bedrock.of_type("AWS::CodeBuild::Project").values()
    variables = {
        v["Name"]: v["Value"] for v in project["Properties"]["Environment"]["EnvironmentVariables"]
    }
    assert variables["IMAGE_TAG"] == own_tag


def test_the_owner_is_invited_only_by_the_synth_that_runs_a_built_image(
    synthesized: Synthesized, bedrock: Synthesized
) -> None:
    assert synthesized.of_type("AWS::Cognito::UserPoolUser")
    assert bedrock.spec.owner_email and not bedrock.of_type("AWS::Cognito::UserPoolUser")


# --- Cognito ---------------------------------------------------------------------------------


def test_web_client_allows_only_what_the_spa_calls(synthesized: Synthesized) -> None:
    (client,) = synthesized.of_type("AWS::Cognito::UserPoolClient").values()
    props = client["Properties"]
    assert sorted(props["ExplicitAuthFlows"]) == [
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
    ]
    for unused in ("AllowedOAuthFlows", "AllowedOAuthScopes", "CallbackURLs", "LogoutURLs"):
        assert unused not in props, unused
    assert props.get("AllowedOAuthFlowsUserPoolClient") in (None, False)
    assert props.get("SupportedIdentityProviders") in (None, ["COGNITO"])
