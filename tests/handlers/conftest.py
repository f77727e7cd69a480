"""A deployment's data resources on the moto server, the environment the handlers read, and a
stand-in Telegram Bot API — everything the handlers touch, reached over HTTP, nothing patched.

Two things are observed on the handlers' own boto3 clients through botocore's public event
hooks (they do not change a call): the RunTask requests made, and the frames posted to
WebSocket connections (moto accepts `post_to_connection` but cannot show what was posted).
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
import pytest

from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.contract import QueueMessage
from tests.conftest import ACCOUNT, REGION
from tests.fakes.telegram_api import FakeTelegram, fake_telegram
from tests.handlers.ecs_rules import validate_list_tasks

DEPLOYMENT = "test"
WEBHOOK_SECRET = "webhook-secret_0123456789abcdefABCDEF"
WS_URL = "wss://ws123.execute-api.us-east-1.amazonaws.com/prod"


@dataclass
class Stack:
    endpoint: str
    queue_url: str
    cluster: str
    task_definition: str
    telegram: FakeTelegram
    run_task_calls: list[dict[str, Any]] = field(default_factory=list)
    frames: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]

    def tasks(self) -> list[dict[str, Any]]:
        """Every task ever started in the cluster, as DescribeTasks shows it."""
        ecs = self.client("ecs")
        arns: list[str] = []
        for status in ("RUNNING", "STOPPED"):
            arns += ecs.list_tasks(cluster=self.cluster, desiredStatus=status)["taskArns"]
        if not arns:
            return []
        return list(ecs.describe_tasks(cluster=self.cluster, tasks=arns)["tasks"])

    def queue_depth(self) -> int:
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def drain(self) -> list[QueueMessage]:
        """Receive and delete every queued message (in FIFO order per group)."""
        sqs = self.client("sqs")
        found: list[QueueMessage] = []
        while True:
            answer = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                AttributeNames=["All"],
            )
            messages = answer.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(QueueMessage.from_json(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def item_count(self, table: resources.Table) -> int:
        name = table.physical_name(DEPLOYMENT)
        return int(self.client("dynamodb").scan(TableName=name, Select="COUNT")["Count"])


def provision(endpoint: str, telegram: FakeTelegram) -> tuple[Stack, dict[str, str]]:
    """Create a deployment's resources on the moto server at `endpoint` (boto3 must already be
    pointed at it); return them and the environment the handlers need."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    for table in resources.TABLES:
        keys = [{"AttributeName": resources.PARTITION_KEY, "KeyType": "HASH"}]
        attributes = [{"AttributeName": resources.PARTITION_KEY, "AttributeType": "S"}]
        if table.sort_key:
            keys.append({"AttributeName": resources.SORT_KEY, "KeyType": "RANGE"})
            attributes.append({"AttributeName": resources.SORT_KEY, "AttributeType": "S"})
        dynamodb.create_table(
            TableName=table.physical_name(DEPLOYMENT),
            KeySchema=keys,  # type: ignore[arg-type]
            AttributeDefinitions=attributes,  # type: ignore[arg-type]
            BillingMode="PAY_PER_REQUEST",
        )
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(
        QueueName=resources.INBOUND.physical_name(DEPLOYMENT),
        Attributes={
            "FifoQueue": "true",
            "ContentBasedDeduplication": "false",
            "VisibilityTimeout": str(resources.INBOUND.visibility_timeout_seconds),
        },
    )["QueueUrl"]

    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    # As the deployed VPC has it; moto's awsvpc tasks also fail (500) without DNS hostnames.
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="agent", Description="agent", VpcId=vpc)["GroupId"]
    ecs = boto3.client("ecs", region_name=REGION)
    cluster = f"openclaw-{DEPLOYMENT}"
    ecs.create_cluster(clusterName=cluster, capacityProviders=["FARGATE", "FARGATE_SPOT"])
    family = f"openclaw-{DEPLOYMENT}-agent"
    ecs.register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="512",
        memory="2048",
        # moto needs the container's own memory, or RunTask answers 500.
        containerDefinitions=[
            {"name": "agent", "image": "agent:test", "memory": 2048, "essential": True}
        ],
    )
    # Tasks stay RUNNING until stopped (moto otherwise moves them on at every describe).
    httpx.post(
        f"{endpoint}/moto-api/state-manager/set-transition",
        json={
            "model_name": "ecs::task",
            "transition": {"progression": "manual", "times": 1_000_000},
        },
        timeout=10,
    ).raise_for_status()

    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(
        Name=resources.TELEGRAM_WEBHOOK_SECRET.parameter_name(DEPLOYMENT),
        Value=WEBHOOK_SECRET,
        Type="SecureString",
    )
    ssm.put_parameter(
        Name=resources.TELEGRAM_BOT_TOKEN.parameter_name(DEPLOYMENT),
        Value=telegram.token,
        Type="SecureString",
    )

    environment = resources.data_environment(
        DEPLOYMENT, account=ACCOUNT, region=REGION, queue_urls={"inbound": queue_url}
    )
    environment.update(
        {
            resources.ENV_CLUSTER: cluster,
            resources.ENV_TASK_DEFINITION: family,
            resources.ENV_SUBNETS: subnet,
            resources.ENV_SECURITY_GROUPS: group,
            # moto's @connections endpoint has no stage path.
            resources.ENV_WS_MANAGEMENT_URL: endpoint,
            resources.ENV_TELEGRAM_API_URL: telegram.url,
            "OPENCLAW_WS_URL": WS_URL,
        }
    )
    stack = Stack(
        endpoint=endpoint,
        queue_url=queue_url,
        cluster=cluster,
        task_definition=family,
        telegram=telegram,
    )
    return stack, environment


@pytest.fixture
def eager_switching() -> Iterator[None]:
    """Threads switch as often as the interpreter allows, so a race between concurrent requests
    (in our code or in the moto server) shows up in a bounded number of rounds, not once a
    month in CI."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with fake_telegram() as api:
        yield api


@pytest.fixture
def stack(aws_env: str, telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    aws.clear_caches()
    deployment, environment = provision(aws_env, telegram)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)

    def record_run_task(params: dict[str, Any], **_: Any) -> None:
        deployment.run_task_calls.append(dict(params))

    def record_frame(params: dict[str, Any], **_: Any) -> None:
        data = params["Data"]
        text = data.decode() if isinstance(data, bytes) else str(data)
        deployment.frames[params["ConnectionId"]].append(json.loads(text))

    aws.ecs().meta.events.register("before-parameter-build.ecs.RunTask", record_run_task)
    # AWS refuses some ListTasks filter combinations that moto accepts: fail those here.
    aws.ecs().meta.events.register("before-parameter-build.ecs.ListTasks", validate_list_tasks)
    aws.connections_api(aws_env).meta.events.register(
        "before-parameter-build.apigatewaymanagementapi.PostToConnection", record_frame
    )
    yield deployment
    aws.clear_caches()
