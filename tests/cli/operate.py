"""An AWS-target deployment laid out in moto, for the operate commands (status, logs, start, stop,
cost): the data resources from the shared description (the local provisioner's code), the agent's
cluster, task definition and network, the `api` function whose environment says how to start
the agent, the log groups, and a stack named like ours.

What moto cannot do, and how this stands in for it: moto's CloudFormation returns no outputs for
our real stack (it skips API Gateway v2, CloudFront, Cognito, custom resources), so the stack
here is a tiny one under the real name whose template holds one WaitConditionHandle and the
outputs our stack would have, as literals. moto runs no container: a test plays the bridge's
part through the same `Lifecycle` calls the bridge makes.
"""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from openclaw_deploy.config import ConfigFile, Deployment
from openclaw_deploy.infra import spec
from openclaw_deploy.local.provision import provision_buckets, provision_network, provision_tables
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.lifecycle import Lifecycle
from openclaw_deploy.services.logs import AWS_FUNCTIONS
from openclaw_deploy.services.status import BACKUP_KEY

REGION = "us-east-1"
ACCOUNT = "123456789012"


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


@dataclass
class MotoDeployment:
    name: str
    config: ConfigFile
    bucket: str
    cluster: str
    subnets: list[str]

    @property
    def deployment(self) -> Deployment:
        return self.config.deployments[self.name]

    def lifecycle(self, clock: Any = None) -> Lifecycle:
        table = resources.TASK_STATE.physical_name(self.name)
        if clock is None:
            return Lifecycle(client("dynamodb"), table)
        return Lifecycle(client("dynamodb"), table, clock=clock)

    def outputs(self) -> dict[str, str]:
        prefix = resources.resource_prefix(self.name)
        return {
            spec.OUTPUT_WEB_URL: "https://d111.cloudfront.net",
            spec.OUTPUT_HTTP_API_URL: "https://abc123.execute-api.us-east-1.amazonaws.com",
            spec.OUTPUT_WS_URL: "wss://ws123.execute-api.us-east-1.amazonaws.com/live",
            spec.OUTPUT_TELEGRAM_WEBHOOK_URL: (
                "https://abc123.execute-api.us-east-1.amazonaws.com/telegram"
            ),
            spec.OUTPUT_STATE_BUCKET: self.bucket,
            spec.OUTPUT_CLUSTER: self.cluster,
            spec.OUTPUT_TASK_FAMILY: spec.task_family(self.name),
            spec.OUTPUT_QUEUE_URL: f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/{prefix}.fifo",
        }

    def create_stack(self) -> None:
        template = {
            "Resources": {"Placeholder": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
            "Outputs": {key: {"Value": value} for key, value in self.outputs().items()},
        }
        client("cloudformation").create_stack(
            StackName=spec.stack_name(self.name), TemplateBody=json.dumps(template)
        )

    def back_up(self, payload: bytes) -> None:
        client("s3").put_object(Bucket=self.bucket, Key=BACKUP_KEY, Body=payload)

    def log(self, group: str, stream: str, events: list[tuple[float, str]]) -> None:
        logs = client("logs")
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(
            logGroupName=group,
            logStreamName=stream,
            logEvents=[{"timestamp": int(at * 1000), "message": text} for at, text in events],
        )


def _function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def deploy_on_moto(
    workdir: Path,
    name: str,
    *,
    stack: bool = True,
    telegram_token: str | None = None,
    telegram_api_url: str | None = None,
    deployment: Deployment | None = None,
) -> MotoDeployment:
    """Everything `deploy` would leave behind that the operate commands read."""
    provision_tables(client("dynamodb"), name)
    provision_buckets(client("s3"), name, ACCOUNT, REGION)
    subnets, groups = provision_network(client("ec2"), name)
    cluster = spec.cluster_name(name)
    client("ecs").create_cluster(clusterName=cluster)
    client("ecs").register_task_definition(
        family=spec.task_family(name),
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="512",
        memory="2048",
        runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        containerDefinitions=[
            {
                "name": resources.CONTAINER_NAME,
                "image": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/openclaw-{name}/agent:src-1",
                "essential": True,
                "memory": 2048,  # moto's RunTask fails without a container-level memory
            }
        ],
    )
    role = client("iam").create_role(
        RoleName=f"openclaw-{name}-api",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    client("lambda").create_function(
        FunctionName=spec.function_name(name, "api"),
        Runtime="python3.12",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _function_zip()},
        Environment={
            "Variables": {
                resources.ENV_CLUSTER: cluster,
                resources.ENV_TASK_DEFINITION: spec.task_family(name),
                resources.ENV_SUBNETS: ",".join(subnets),
                resources.ENV_SECURITY_GROUPS: ",".join(groups),
            }
        },
    )
    logs = client("logs")
    logs.create_log_group(logGroupName=spec.agent_log_group(name))
    for functions in AWS_FUNCTIONS.values():
        for function in functions:
            logs.create_log_group(logGroupName=spec.function_log_group(name, function))

    parameters: dict[str, str] = {}
    if telegram_token is not None:
        parameter = resources.TELEGRAM_BOT_TOKEN.parameter_name(name)
        client("ssm").put_parameter(Name=parameter, Value=telegram_token, Type="SecureString")
        parameters[resources.TELEGRAM_BOT_TOKEN.key] = parameter
    config = ConfigFile(path=workdir / "openclaw-deploy.yaml")
    config.upsert(
        deployment
        or Deployment(
            name=name,
            target="aws",
            region=REGION,
            account=ACCOUNT,
            provider="openai",
            model="gpt-5-mini",
            owner_email="me@example.com",
            telegram_api_url=telegram_api_url,
            telegram_bot_username="test_bot" if telegram_token else None,
            parameters=parameters,
        )
    )
    config.save()
    result = MotoDeployment(
        name=name,
        config=config,
        bucket=resources.STATE_BUCKET.physical_name(name, ACCOUNT, REGION),
        cluster=cluster,
        subnets=subnets,
    )
    if stack:
        result.create_stack()
    return result
