"""Provisioning the local cloud: the same data resources the CDK app creates, made on moto.

Everything comes from `runtime.resources`, so a table added there appears here and in the CDK app
alike. Also creates what the handlers need around the data: a Cognito pool with the owner, an ECS
cluster and task definition for RunTask, and a VPC, subnet and security group to name in it.
Every step is idempotent, so re-provisioning a running local cloud is safe.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError

from openclaw_deploy.runtime import resources


@dataclass(frozen=True, kw_only=True)
class LocalResources:
    """What provisioning made: the handlers' and the bridge's environment, and the web login."""

    deployment: str
    region: str
    account: str
    queue_urls: dict[str, str]
    dead_letter_urls: dict[str, str]
    user_pool_id: str
    user_pool_client_id: str
    cluster: str
    task_definition: str
    subnets: list[str]
    security_groups: list[str]

    def environment(self) -> dict[str, str]:
        env = resources.data_environment(
            self.deployment, account=self.account, region=self.region, queue_urls=self.queue_urls
        )
        env.update(
            {
                resources.ENV_CLUSTER: self.cluster,
                resources.ENV_TASK_DEFINITION: self.task_definition,
                resources.ENV_SUBNETS: ",".join(self.subnets),
                resources.ENV_SECURITY_GROUPS: ",".join(self.security_groups),
                resources.ENV_CONTAINER_NAME: resources.CONTAINER_NAME,
            }
        )
        return env

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> LocalResources:
        return cls(**json.loads(text))


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def provision_tables(dynamodb: Any, deployment: str) -> None:
    existing = set(dynamodb.list_tables().get("TableNames", []))
    for table in resources.TABLES:
        name = table.physical_name(deployment)
        if name in existing:
            continue
        keys = [{"AttributeName": resources.PARTITION_KEY, "KeyType": "HASH"}]
        attributes = [{"AttributeName": resources.PARTITION_KEY, "AttributeType": "S"}]
        if table.sort_key:
            keys.append({"AttributeName": resources.SORT_KEY, "KeyType": "RANGE"})
            attributes.append({"AttributeName": resources.SORT_KEY, "AttributeType": "S"})
        dynamodb.create_table(
            TableName=name,
            KeySchema=keys,
            AttributeDefinitions=attributes,
            BillingMode="PAY_PER_REQUEST",
        )
        if table.ttl:
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": resources.TTL_ATTRIBUTE},
            )


def provision_queues(sqs: Any, deployment: str) -> tuple[dict[str, str], dict[str, str]]:
    urls: dict[str, str] = {}
    dead: dict[str, str] = {}
    for queue in resources.QUEUES:
        dlq_url = sqs.create_queue(
            QueueName=queue.dead_letter_name(deployment),
            Attributes={"FifoQueue": "true", "MessageRetentionPeriod": str(14 * 24 * 3600)},
        )["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        url = sqs.create_queue(
            QueueName=queue.physical_name(deployment),
            Attributes={
                "FifoQueue": "true",
                "VisibilityTimeout": str(queue.visibility_timeout_seconds),
                "MessageRetentionPeriod": str(queue.retention_seconds),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": queue.max_receive_count}
                ),
            },
        )["QueueUrl"]
        urls[queue.key] = url
        dead[queue.key] = dlq_url
    return urls, dead


def provision_buckets(s3: Any, deployment: str, account: str, region: str) -> None:
    for bucket in resources.BUCKETS:
        name = bucket.physical_name(deployment, account, region)
        try:
            if region == "us-east-1":
                s3.create_bucket(Bucket=name)
            else:
                s3.create_bucket(
                    Bucket=name, CreateBucketConfiguration={"LocationConstraint": region}
                )
        except ClientError as error:
            if _code(error) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        if bucket.versioned:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})


def provision_auth(cognito: Any, deployment: str) -> tuple[str, str]:
    """A user pool like the CDK one (no self-signup) and a public app client for the SPA."""
    prefix = resources.resource_prefix(deployment)
    pool_id = next(
        (
            pool["Id"]
            for pool in cognito.list_user_pools(MaxResults=60)["UserPools"]
            if pool["Name"] == f"{prefix}-users"
        ),
        None,
    )
    if pool_id is None:
        pool_id = cognito.create_user_pool(
            PoolName=f"{prefix}-users",
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
            UsernameAttributes=["email"],
            AutoVerifiedAttributes=["email"],
        )["UserPool"]["Id"]
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next((c["ClientId"] for c in clients if c["ClientName"] == f"{prefix}-web"), None)
    if client_id is None:
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=f"{prefix}-web",
            GenerateSecret=False,
            ExplicitAuthFlows=[
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_USER_SRP_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ],
        )["UserPoolClient"]["ClientId"]
    return str(pool_id), str(client_id)


def set_owner(cognito: Any, pool_id: str, email: str, password: str) -> None:
    """Create (or update) the owner with a permanent password, so the first sign-in just works."""
    try:
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
    except ClientError as error:
        if _code(error) != "UsernameExistsException":
            raise
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=email, Password=password, Permanent=True
    )


def provision_network(ec2: Any, deployment: str) -> tuple[list[str], list[str]]:
    prefix = resources.resource_prefix(deployment)
    tag = [{"Key": "openclaw-deploy:deployment", "Value": deployment}]
    vpcs = ec2.describe_vpcs(
        Filters=[{"Name": "tag:openclaw-deploy:deployment", "Values": [deployment]}]
    )
    if vpcs["Vpcs"]:
        vpc_id = vpcs["Vpcs"][0]["VpcId"]
    else:
        vpc_id = ec2.create_vpc(
            CidrBlock="10.42.0.0/16",
            TagSpecifications=[{"ResourceType": "vpc", "Tags": tag}],
        )["Vpc"]["VpcId"]
        # As in the CDK VPC; moto's RunTask also needs it to describe the task's network card.
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    subnet_id = (
        subnets[0]["SubnetId"]
        if subnets
        else ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.42.0.0/24")["Subnet"]["SubnetId"]
    )
    groups = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": [f"{prefix}-agent"]},
        ]
    )["SecurityGroups"]
    group_id = (
        groups[0]["GroupId"]
        if groups
        else ec2.create_security_group(
            GroupName=f"{prefix}-agent", Description="agent: no inbound", VpcId=vpc_id
        )["GroupId"]
    )
    return [subnet_id], [group_id]


def provision_agent(
    ecs: Any,
    deployment: str,
    *,
    environment: dict[str, str],
    secrets: dict[str, str],
    cpu: int,
    memory: int,
) -> tuple[str, str]:
    """The cluster and the agent's task definition; `secrets` maps task env → SSM parameter."""
    prefix = resources.resource_prefix(deployment)
    # Named as the CDK app names it: the roles' ecs:cluster conditions and task ARNs say so.
    cluster = ecs.create_cluster(clusterName=prefix)["cluster"]["clusterName"]
    definition = ecs.register_task_definition(
        family=f"{prefix}-agent",
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu=str(cpu),
        memory=str(memory),
        runtimePlatform={"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        containerDefinitions=[
            {
                "name": resources.CONTAINER_NAME,
                "image": "openclaw-deploy-agent:local",
                "essential": True,
                "memory": memory,  # moto's RunTask fails without a container-level memory
                "stopTimeout": 120,
                "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
                "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(secrets.items())],
            }
        ],
    )["taskDefinition"]
    return str(cluster), str(definition["taskDefinitionArn"])
