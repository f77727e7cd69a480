"""What matters in the synthesized template, asserted with `aws_cdk.assertions` and plain JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match

from openclaw_deploy.infra import spec as names
from openclaw_deploy.infra.staging import HANDLER_MODULES
from openclaw_deploy.runtime import resources
from tests.infra.conftest import ACCOUNT, NAME, ZONES, Synthesized

PREFIX = resources.resource_prefix(NAME)


def _statements(synth: Synthesized) -> list[tuple[str, dict[str, Any]]]:
    """(policy logical id, statement) for every IAM statement in the template."""
    found: list[tuple[str, dict[str, Any]]] = []
    for logical_id, resource in synth.of_type("AWS::IAM::Policy").items():
        found.extend(
            (logical_id, statement)
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        )
    return found


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)


def _resources(statement: dict[str, Any]) -> list[Any]:
    resource = statement.get("Resource", [])
    return [resource] if isinstance(resource, str | dict) else list(resource)


def _flat(value: Any) -> str:
    """A CloudFormation value as text: joins flattened, references as <Ref>."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(_flat(p) for p in parts)
        if "Ref" in value:
            return f"<{value['Ref']}>"
        if "Fn::GetAtt" in value:
            return f"<{'.'.join(value['Fn::GetAtt'])}>"
    return json.dumps(value)


# --- network -------------------------------------------------------------------------------


def test_network_has_no_nat_and_only_free_gateway_endpoints(
    template: Any, synthesized: Synthesized
) -> None:
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::EIP", 0)
    template.resource_count_is("AWS::EC2::Subnet", 2)
    template.all_resources_properties("AWS::EC2::Subnet", {"MapPublicIpOnLaunch": False})
    endpoints = synthesized.of_type("AWS::EC2::VPCEndpoint").values()
    kinds = sorted(_flat(e["Properties"]["ServiceName"]).rsplit(".", 1)[-1] for e in endpoints)
    assert kinds == ["dynamodb", "s3"]
    assert {e["Properties"]["VpcEndpointType"] for e in endpoints} == {"Gateway"}
    # Real zones were passed in context: no CDK placeholder zones.
    zones = {
        r["Properties"]["AvailabilityZone"]
        for r in synthesized.of_type("AWS::EC2::Subnet").values()
    }
    assert zones == set(ZONES)
    assert "dummy" not in json.dumps(synthesized.template)


def test_agent_security_group_has_no_inbound_rule(synthesized: Synthesized) -> None:
    groups = synthesized.of_type("AWS::EC2::SecurityGroup")
    (agent_id,) = [
        k for k, g in groups.items() if "no inbound" in g["Properties"]["GroupDescription"]
    ]
    assert "SecurityGroupIngress" not in groups[agent_id]["Properties"]
    for ingress in synthesized.of_type("AWS::EC2::SecurityGroupIngress").values():
        assert ingress["Properties"].get("GroupId") != {"Fn::GetAtt": [agent_id, "GroupId"]}
    # ... and that group is what the handlers pass to RunTask.
    env = _function_env(synthesized, "api")
    assert env[resources.ENV_SECURITY_GROUPS] == {"Fn::GetAtt": [agent_id, "GroupId"]}


# --- agent ---------------------------------------------------------------------------------


def test_cluster_offers_spot_and_on_demand(template: Any, variant: Synthesized) -> None:
    template.has_resource_properties(
        "AWS::ECS::ClusterCapacityProviderAssociations",
        {
            "CapacityProviders": ["FARGATE_SPOT", "FARGATE"],
            "DefaultCapacityProviderStrategy": [{"CapacityProvider": "FARGATE_SPOT", "Weight": 1}],
        },
    )
    template.has_resource_properties("AWS::ECS::Cluster", {"ClusterName": PREFIX})
    (association,) = variant.of_type("AWS::ECS::ClusterCapacityProviderAssociations").values()
    assert association["Properties"]["CapacityProviders"] == ["FARGATE"]  # spot: false


def _task_definition(synth: Synthesized) -> dict[str, Any]:
    (task,) = synth.of_type("AWS::ECS::TaskDefinition").values()
    properties: dict[str, Any] = task["Properties"]
    return properties


def test_task_definition_is_arm64_sized_and_stops_gracefully(
    template: Any, variant: Synthesized
) -> None:
    template.has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "Family": f"{PREFIX}-agent",
            "Cpu": "512",
            "Memory": "2048",
            "NetworkMode": "awsvpc",
            "RequiresCompatibilities": ["FARGATE"],
            "RuntimePlatform": {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"},
            "ContainerDefinitions": [
                Match.object_like(
                    {
                        "Name": resources.CONTAINER_NAME,
                        "Memory": 2048,
                        "StopTimeout": 120,
                        "Essential": True,
                        "LogConfiguration": Match.object_like({"LogDriver": "awslogs"}),
                    }
                )
            ],
        },
    )
    other = _task_definition(variant)
    assert (other["Cpu"], other["Memory"]) == ("1024", "4096")
    assert other["ContainerDefinitions"][0]["Memory"] == 4096
    env = {e["Name"]: e["Value"] for e in other["ContainerDefinitions"][0]["Environment"]}
    assert env[names.ENV_IDLE_TIMEOUT_MINUTES] == "30"
    assert env[names.ENV_LLM_BASE_URL] == "https://llm.example.com/v1"


def test_secrets_reach_the_task_only_as_ssm_references(
    synthesized: Synthesized, variant: Synthesized
) -> None:
    container = _task_definition(synthesized)["ContainerDefinitions"][0]
    secrets = {s["Name"]: _flat(s["ValueFrom"]) for s in container["Secrets"]}
    assert set(secrets) == {"OPENCLAW_LLM_API_KEY", "OPENCLAW_TELEGRAM_BOT_TOKEN"}
    for env_name, secret in (
        ("OPENCLAW_LLM_API_KEY", resources.LLM_API_KEY),
        ("OPENCLAW_TELEGRAM_BOT_TOKEN", resources.TELEGRAM_BOT_TOKEN),
    ):
        assert re.fullmatch(
            rf"arn:<AWS::Partition>:ssm:us-east-1:{ACCOUNT}:parameter{secret.parameter_name(NAME)}",
            secrets[env_name],
        ), secrets[env_name]
    # The plain environment names parameters (never values) and never a secret's env var.
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert not set(env) & {"OPENCLAW_LLM_API_KEY", "OPENCLAW_TELEGRAM_BOT_TOKEN"}
    assert env[resources.LLM_API_KEY.env_var] == resources.LLM_API_KEY.parameter_name(NAME)
    # Only the execution role may read them, and only those two.
    reads = [
        (policy, s)
        for policy, s in _statements(synthesized)
        if any(a.startswith("ssm:GetParameter") for a in _actions(s))
    ]
    execution = [(p, s) for p, s in reads if p.startswith("AgentExecutionRole")]
    assert {_flat(r) for _, s in execution for r in _resources(s)} == {
        f"arn:<AWS::Partition>:ssm:us-east-1:{ACCOUNT}:parameter{s.parameter_name(NAME)}"
        for s in (resources.LLM_API_KEY, resources.TELEGRAM_BOT_TOKEN)
    }
    # Without a Telegram bot configured there is no token reference at all.
    (other_container,) = _task_definition(variant)["ContainerDefinitions"]
    assert [s["Name"] for s in other_container["Secrets"]] == ["OPENCLAW_LLM_API_KEY"]


def test_image_is_built_in_the_cloud_without_local_docker(
    template: Any, synthesized: Synthesized, variant: Synthesized
) -> None:
    template.has_resource_properties(
        "AWS::CodeBuild::Project",
        {
            "Name": f"{PREFIX}-image",
            "Environment": Match.object_like(
                {
                    "Type": "ARM_CONTAINER",
                    "PrivilegedMode": True,
                    "ComputeType": "BUILD_GENERAL1_SMALL",
                }
            ),
            "Source": Match.object_like({"Type": "S3"}),
        },
    )
    template.has_resource_properties(
        "AWS::ECR::Repository", {"RepositoryName": f"{PREFIX}/agent", "EmptyOnDelete": True}
    )
    assets = json.loads(
        (
            synthesized.assembly.directory / f"{synthesized.assembly.stack_name}.assets.json"
        ).read_text()
    )
    assert assets.get("dockerImages", {}) == {}  # nothing for `cdk deploy` to docker-build
    tag = synthesized.template["Outputs"][names.OUTPUT_IMAGE_TAG]["Value"]
    assert re.fullmatch(r"src-[0-9a-f]{32}", tag)
    image = _flat(_task_definition(synthesized)["ContainerDefinitions"][0]["Image"])
    assert image.endswith(f":{tag}")
    # The tag names the sources: the same sources give the same tag in another synth.
    assert variant.template["Outputs"][names.OUTPUT_IMAGE_TAG]["Value"] == tag


# --- lambdas and IAM -----------------------------------------------------------------------


def _function(synth: Synthesized, key: str) -> dict[str, Any]:
    (function,) = [
        f["Properties"]
        for f in synth.of_type("AWS::Lambda::Function").values()
        if f["Properties"]["FunctionName"] == f"{synth.spec.prefix}-{key}"
    ]
    return function


def _function_env(synth: Synthesized, key: str) -> dict[str, Any]:
    variables: dict[str, Any] = _function(synth, key)["Environment"]["Variables"]
    return variables


def test_lambdas_are_arm64_python_with_their_handler_modules(synthesized: Synthesized) -> None:
    functions = synthesized.of_type("AWS::Lambda::Function")
    assert len(functions) == len(HANDLER_MODULES)
    for key, module in HANDLER_MODULES.items():
        function = _function(synthesized, key)
        assert function["Architectures"] == ["arm64"]
        assert function["Runtime"].startswith("python3.")
        assert function["Handler"] == f"{module}.handler"
        env = _function_env(synthesized, key)
        assert env[resources.ENV_CLUSTER] == PREFIX
        assert env[resources.ENV_TASK_DEFINITION] == f"{PREFIX}-agent"
        assert env[resources.TASK_STATE.env_var] == resources.TASK_STATE.physical_name(NAME)
        assert resources.ENV_WS_MANAGEMENT_URL in env and names.ENV_WS_URL in env
        assert _flat(env[resources.ENV_SUBNETS]).count(",") == 1  # two subnets, comma-separated


def test_lambda_code_asset_holds_runtime_and_handlers_only(synthesized: Synthesized) -> None:
    code = _function(synthesized, "api")["Code"]["S3Key"]
    asset = synthesized.assembly.directory / f"asset.{_flat(code).removesuffix('.zip')}"
    files = {p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file()}
    assert "openclaw_deploy/__init__.py" in files
    for module in HANDLER_MODULES.values():
        assert module.replace(".", "/") + ".py" in files
    assert "openclaw_deploy/runtime/resources.py" in files
    assert not [f for f in files if f.startswith(("openclaw_deploy/cli", "openclaw_deploy/infra"))]
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]


def test_iam_run_task_and_pass_role_are_scoped(synthesized: Synthesized) -> None:
    statements = _statements(synthesized)
    for _, statement in statements:
        assert "*" not in _actions(statement)
        assert not any(a.endswith(":*") for a in _actions(statement)), statement
    run_task = [(p, s) for p, s in statements if "ecs:RunTask" in _actions(s)]
    assert {p.split("Role")[0] for p, _ in run_task} == {
        "FunctionsApi",
        "FunctionsWs",
        "FunctionsTelegram",
        "FunctionsSlack",
        "FunctionsDiscord",
        "FunctionsWatchdog",
        "FunctionsSchedule",
    }
    for _, statement in run_task:
        assert [_flat(r) for r in _resources(statement)] == [
            f"arn:<AWS::Partition>:ecs:us-east-1:{ACCOUNT}:task-definition/{PREFIX}-agent:*"
        ]
        cluster = statement["Condition"]["ArnEquals"]["ecs:cluster"]
        assert cluster["Fn::GetAtt"][0].startswith("AgentCluster")
    pass_role = [(p, s) for p, s in statements if "iam:PassRole" in _actions(s)]
    # The agent task hands its own wake-ups the scheduler's role (tests/infra/
    # test_reminder_grants.py), the API the owner's schedules (the Schedules page); every other
    # PassRole goes with a RunTask.
    to_scheduler = [
        (p, s)
        for p, s in pass_role
        if s["Condition"]["StringEquals"]["iam:PassedToService"] == "scheduler.amazonaws.com"
    ]
    assert sorted(p.split("Role")[0] for p, _ in to_scheduler) == ["AgentTask", "FunctionsApi"]
    for _, statement in to_scheduler:
        (target,) = [_flat(r) for r in _resources(statement)]
        assert target.startswith("<SchedulesRole"), target
    pass_role = [item for item in pass_role if item not in to_scheduler]
    assert len(pass_role) == len(run_task)
    for _, statement in pass_role:
        assert statement["Condition"] == {
            "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
        }
        targets = sorted(_flat(r) for r in _resources(statement))
        assert len(targets) == 2
        assert targets[0].startswith("<AgentExecutionRole") and targets[1].startswith(
            "<AgentTaskRole"
        )
    # Stopping tasks is limited to the agent's cluster too.
    for _, statement in statements:
        if {"ecs:StopTask", "ecs:ListTasks"} & set(_actions(statement)):
            assert list(statement["Condition"]["ArnEquals"]) == ["ecs:cluster"]


def test_no_managed_policies_or_wildcard_admin(synthesized: Synthesized) -> None:
    for role in synthesized.of_type("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"]
    for _, statement in _statements(synthesized):
        assert _resources(statement) != ["*"] or set(_actions(statement)) <= {
            "ecr:GetAuthorizationToken",
            "ecs:ListTasks",
            "scheduler:ListSchedules",  # names no resource; the Schedules page lists the group
        }, statement


# --- logs ----------------------------------------------------------------------------------


def test_every_log_group_is_explicit_with_retention(
    template: Any, synthesized: Synthesized
) -> None:
    groups = synthesized.of_type("AWS::Logs::LogGroup")
    for logical_id, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == names.LOG_RETENTION_DAYS, logical_id
        assert group["DeletionPolicy"] == "Delete"
        assert group["Properties"]["LogGroupName"].startswith(f"/{PREFIX}/")
    for function in synthesized.of_type("AWS::Lambda::Function").values():
        ref = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert ref in groups
    awslogs = _task_definition(synthesized)["ContainerDefinitions"][0]["LogConfiguration"]
    assert awslogs["Options"]["awslogs-group"]["Ref"] in groups
    (project,) = synthesized.of_type("AWS::CodeBuild::Project").values()
    assert project["Properties"]["LogsConfig"]["CloudWatchLogs"]["GroupName"]["Ref"] in groups
    (stage,) = [
        s
        for s in synthesized.of_type("AWS::ApiGatewayV2::Stage").values()
        if "AccessLogSettings" in s["Properties"]
    ]
    assert stage["Properties"]["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0] in groups


# --- data ----------------------------------------------------------------------------------


def test_tables_follow_the_one_description(synthesized: Synthesized) -> None:
    tables = {
        t["Properties"]["TableName"]: t
        for t in synthesized.of_type("AWS::DynamoDB::Table").values()
    }
    assert set(tables) == {t.physical_name(NAME) for t in resources.TABLES}
    for table in resources.TABLES:
        built = tables[table.physical_name(NAME)]
        props = built["Properties"]
        keys = {k["AttributeName"]: k["KeyType"] for k in props["KeySchema"]}
        assert keys == ({"pk": "HASH", "sk": "RANGE"} if table.sort_key else {"pk": "HASH"})
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        pitr = props.get("PointInTimeRecoverySpecification", {})
        assert pitr.get("PointInTimeRecoveryEnabled", False) is table.user_data
        ttl = props.get("TimeToLiveSpecification")
        assert (ttl == {"AttributeName": "expires_at", "Enabled": True}) is table.ttl
        expected = "RetainExceptOnCreate" if table.user_data else "Delete"
        assert built["DeletionPolicy"] == expected, table.key


def test_state_bucket_is_versioned_encrypted_private_and_kept(
    template: Any, synthesized: Synthesized
) -> None:
    name = resources.STATE_BUCKET.physical_name(NAME, ACCOUNT, "us-east-1")
    (bucket,) = [
        b
        for b in synthesized.of_type("AWS::S3::Bucket").values()
        if b["Properties"].get("BucketName") == name
    ]
    props = bucket["Properties"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    # Old backups are bounded by count and age, and half-finished uploads do not linger.
    assert rule["Status"] == "Enabled"
    assert rule["NoncurrentVersionExpiration"] == {
        "NewerNoncurrentVersions": 10,
        "NoncurrentDays": 7,
    }
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


def test_inbound_queue_is_fifo_with_dead_letters(template: Any) -> None:
    queue = resources.INBOUND
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "QueueName": queue.physical_name(NAME),
            "FifoQueue": True,
            "ContentBasedDeduplication": False,
            "VisibilityTimeout": queue.visibility_timeout_seconds,
            "MessageRetentionPeriod": queue.retention_seconds,
            "SqsManagedSseEnabled": True,
            "RedrivePolicy": {
                "deadLetterTargetArn": Match.any_value(),
                "maxReceiveCount": queue.max_receive_count,
            },
        },
    )
    template.has_resource_properties(
        "AWS::SQS::Queue", {"QueueName": queue.dead_letter_name(NAME), "FifoQueue": True}
    )


# --- auth, APIs, web -----------------------------------------------------------------------


def test_user_pool_has_self_signup_off_and_the_owner(template: Any, variant: Synthesized) -> None:
    template.has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "UserPoolName": PREFIX,
            "AdminCreateUserConfig": Match.object_like({"AllowAdminCreateUserOnly": True}),
            "UsernameAttributes": ["email"],
        },
    )
    template.has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {
            "GenerateSecret": False,
            "ExplicitAuthFlows": Match.array_with(["ALLOW_USER_PASSWORD_AUTH"]),
        },
    )
    template.has_resource_properties(
        "AWS::Cognito::UserPoolUser",
        {"Username": "owner@example.com", "DesiredDeliveryMediums": ["EMAIL"]},
    )
    assert not variant.of_type("AWS::Cognito::UserPoolUser")  # no owner email, no user


def test_routes_jwt_on_user_routes_secret_checked_webhook_and_websocket(
    synthesized: Synthesized,
) -> None:
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in synthesized.of_type("AWS::ApiGatewayV2::Route").values()
    }
    for method in ("GET", "POST", "PUT", "DELETE"):
        route = routes[f"{method} /api/{{proxy+}}"]
        assert route["AuthorizationType"] == "JWT"
    assert routes["POST /telegram"]["AuthorizationType"] == "NONE"
    assert {"$connect", "$disconnect", "$default"} <= set(routes)
    (authorizer,) = synthesized.of_type("AWS::ApiGatewayV2::Authorizer").values()
    assert authorizer["Properties"]["AuthorizerType"] == "JWT"
    issuer = _flat(authorizer["Properties"]["JwtConfiguration"]["Issuer"])
    assert issuer.startswith("https://cognito-idp.us-east-1.amazonaws.com/<AuthUserPool")


def test_web_is_private_behind_cloudfront_https_with_a_csp(synthesized: Synthesized) -> None:
    (distribution,) = synthesized.of_type("AWS::CloudFront::Distribution").values()
    config = distribution["Properties"]["DistributionConfig"]
    behaviors = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
    assert {b["ViewerProtocolPolicy"] for b in behaviors} <= {"redirect-to-https", "https-only"}
    assert config["Origins"][0]["OriginAccessControlId"]
    assert synthesized.of_type("AWS::CloudFront::OriginAccessControl")
    (policy,) = synthesized.of_type("AWS::CloudFront::ResponseHeadersPolicy").values()
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = _flat(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    connect = next(d for d in csp.split("; ") if d.startswith("connect-src"))
    assert "<ApiHttp" in connect and "wss://<ApiWebSocket" in connect
    assert "https://cognito-idp.<AWS::Region>" in connect
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    web_buckets = [
        b
        for b in synthesized.of_type("AWS::S3::Bucket").values()
        if "BucketName" not in b["Properties"]
    ]
    assert set(web_buckets[0]["Properties"]["PublicAccessBlockConfiguration"].values()) == {True}


# --- names and outputs ---------------------------------------------------------------------


def test_every_name_is_prefixed_by_the_deployment(synthesized: Synthesized) -> None:
    name_fields = {
        "AWS::DynamoDB::Table": "TableName",
        "AWS::SQS::Queue": "QueueName",
        "AWS::Lambda::Function": "FunctionName",
        "AWS::Logs::LogGroup": "LogGroupName",
        "AWS::ECS::Cluster": "ClusterName",
        "AWS::ECR::Repository": "RepositoryName",
        "AWS::CodeBuild::Project": "Name",
        "AWS::Cognito::UserPool": "UserPoolName",
        "AWS::ApiGatewayV2::Api": "Name",
        "AWS::Events::Rule": "Name",
        "AWS::EC2::SecurityGroup": "GroupName",
    }
    checked = 0
    for resource_type, field in name_fields.items():
        for resource in synthesized.of_type(resource_type).values():
            value = resource["Properties"][field]
            assert value.lstrip("/").startswith(PREFIX), (resource_type, value)
            checked += 1
    assert checked >= 25
    (task,) = synthesized.of_type("AWS::ECS::TaskDefinition").values()
    assert task["Properties"]["Family"].startswith(PREFIX)
    for resource in synthesized.resources.values():
        tags = resource["Properties"].get("Tags")
        if isinstance(tags, list) and tags and isinstance(tags[0], dict) and "Key" in tags[0]:
            assert {"Key": names.TAG_DEPLOYMENT, "Value": NAME} in tags


def test_outputs_carry_what_the_post_deploy_steps_read(synthesized: Synthesized) -> None:
    outputs = synthesized.template["Outputs"]
    for key in (
        names.OUTPUT_WEB_URL,
        names.OUTPUT_WEB_BUCKET,
        names.OUTPUT_DISTRIBUTION_ID,
        names.OUTPUT_HTTP_API_URL,
        names.OUTPUT_WS_URL,
        names.OUTPUT_TELEGRAM_WEBHOOK_URL,
        names.OUTPUT_USER_POOL_ID,
        names.OUTPUT_USER_POOL_CLIENT_ID,
        names.OUTPUT_COGNITO_ENDPOINT,
        names.OUTPUT_REPOSITORY_URI,
        names.OUTPUT_IMAGE_TAG,
        names.OUTPUT_IMAGE_PROJECT,
    ):
        assert key in outputs, key
    assert _flat(outputs[names.OUTPUT_TELEGRAM_WEBHOOK_URL]["Value"]).endswith("/telegram")
    assert _flat(outputs[names.OUTPUT_WS_URL]["Value"]).startswith("wss://")


def test_environment_agnostic_variant_names_no_account(variant: Synthesized) -> None:
    text = json.dumps(variant.template)
    assert ACCOUNT not in text
    assert '"Fn::GetAZs"' in text
    bucket = resources.STATE_BUCKET
    names_found = [
        _flat(b["Properties"]["BucketName"])
        for b in variant.of_type("AWS::S3::Bucket").values()
        if "BucketName" in b["Properties"]
    ]
    assert names_found == [f"openclaw-other-bot-{bucket.key}-<AWS::AccountId>-<AWS::Region>"]


def test_assembly_folder_is_replaced_not_merged(tmp_path: Path) -> None:
    from openclaw_deploy.errors import UsageError
    from openclaw_deploy.infra.app import _prepare_outdir

    keep = tmp_path / "precious"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not overwriting"):
        _prepare_outdir(keep)
    assert (keep / "notes.txt").read_text() == "mine"
    old = tmp_path / "cdk.out"
    old.mkdir()
    (old / "manifest.json").write_text("{}")
    (old / "asset.abc").mkdir()
    _prepare_outdir(old)
    assert list(old.iterdir()) == []
