"""The local target refuses what AWS refuses: calls signed as each component's role, through the
authorizing moto server, against that role's policies in the synthesized template."""

from __future__ import annotations

import json
import logging

import pytest
from botocore.exceptions import ClientError

from openclaw_deploy.infra.spec import function_name
from openclaw_deploy.local.iam import authz
from openclaw_deploy.runtime import resources
from tests.conftest import ACCOUNT, REGION
from tests.iam.conftest import NAME, Enforced

TICKETS = resources.TICKETS.physical_name(NAME)
TASK_STATE = resources.TASK_STATE.physical_name(NAME)
BUCKET = resources.STATE_BUCKET.physical_name(NAME, ACCOUNT, REGION)


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = raised.value.response
    return (
        str(response["Error"]["Code"]),
        str(response["Error"].get("Message", "")),
        int(response["ResponseMetadata"]["HTTPStatusCode"]),
    )


def test_bridge_discovers_its_dead_letter_queue_under_the_task_role(enforced: Enforced) -> None:
    """At boot the bridge reads the inbound queue's redrive policy and looks the dead-letter
    queue up by name; on AWS that is sqs:GetQueueUrl on the DLQ's ARN, under the task role."""
    from openclaw_bridge.inbound import InboundQueue

    queue = InboundQueue(enforced.client("sqs", "task"), enforced.queue_url)
    queue.discover()
    assert queue._dlq_url == enforced.dead_letter_url


def test_task_role_may_move_a_poison_message_to_the_dead_letter_queue(enforced: Enforced) -> None:
    sqs = enforced.client("sqs", "task")
    sqs.send_message(
        QueueUrl=enforced.dead_letter_url,
        MessageBody="poison",
        MessageGroupId="g",
        MessageDeduplicationId="d",
    )
    assert (
        enforced.client("sqs").get_queue_attributes(
            QueueUrl=enforced.dead_letter_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]["ApproximateNumberOfMessages"]
        == "1"
    )


def test_refused_call_gets_aws_error_with_principal_action_and_resource(
    enforced: Enforced, caplog: pytest.LogCaptureFixture
) -> None:
    """The watchdog role may only read the inbound queue's depth: sending is refused, as SQS
    refuses it, and the local target's log names role, action and resource."""
    sqs = enforced.client("sqs", "watchdog")
    with (
        caplog.at_level(logging.WARNING, "openclaw_deploy.local.iam"),
        pytest.raises(ClientError) as raised,
    ):
        sqs.send_message(
            QueueUrl=enforced.queue_url,
            MessageBody="x",
            MessageGroupId="g",
            MessageDeduplicationId="d",
        )
    code, message, status = _error(raised)
    role = enforced.identity("watchdog").role.name
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{resources.INBOUND.physical_name(NAME)}"
    assert (code, status) == ("AccessDenied", 403)
    assert message == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{function_name(NAME, 'watchdog')} "
        f"is not authorized to perform: sqs:SendMessage on resource: {queue_arn} "
        "because no identity-based policy allows the sqs:SendMessage action"
    )
    assert f"IAM refused watchdog (role {role}): sqs:SendMessage on {queue_arn}" in caplog.text
    # Nothing reached moto: the queue is still empty.
    depth = enforced.client("sqs").get_queue_attributes(
        QueueUrl=enforced.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    assert depth == "0"


def test_dynamodb_refusal_is_access_denied_exception(enforced: Enforced) -> None:
    """The task role has no business with WebSocket tickets."""
    with pytest.raises(ClientError) as raised:
        enforced.client("dynamodb", "task").put_item(TableName=TICKETS, Item={"pk": {"S": "t"}})
    code, message, status = _error(raised)
    assert (code, status) == ("AccessDeniedException", 400)
    assert f"dynamodb:PutItem on resource: arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TICKETS}" in (
        message
    )


def test_allowed_calls_reach_moto(enforced: Enforced) -> None:
    ddb = enforced.client("dynamodb", "ws")
    ddb.put_item(TableName=TICKETS, Item={"pk": {"S": "t"}})
    assert ddb.get_item(TableName=TICKETS, Key={"pk": {"S": "t"}})["Item"]["pk"]["S"] == "t"


def test_a_transaction_is_authorized_item_by_item(enforced: Enforced) -> None:
    """TransactWriteItems is allowed only when each item's action is allowed on its table."""
    ddb = enforced.client("dynamodb", "watchdog")
    with pytest.raises(ClientError) as raised:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TASK_STATE, "Item": {"pk": {"S": "a"}}}},
                {"Put": {"TableName": TICKETS, "Item": {"pk": {"S": "b"}}}},
            ]
        )
    assert (
        f"dynamodb:PutItem on resource: arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{TICKETS}"
        in (_error(raised)[1])
    )


def test_an_index_query_is_authorized_on_the_index_arn(enforced: Enforced) -> None:
    """The roles name tables, not their indexes: a query on an index is refused, as on AWS."""
    with pytest.raises(ClientError) as raised:
        enforced.client("dynamodb", "api").query(
            TableName=TICKETS,
            IndexName="by-owner",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "x"}},
        )
    assert f"table/{TICKETS}/index/by-owner" in _error(raised)[1]


def test_s3_objects_of_the_state_bucket_only(enforced: Enforced) -> None:
    s3 = enforced.client("s3", "task")
    s3.put_object(Bucket=BUCKET, Key="backups/a.tar", Body=b"x")
    assert s3.get_object(Bucket=BUCKET, Key="backups/a.tar")["Body"].read() == b"x"
    s3.list_object_versions(Bucket=BUCKET)
    enforced.client("s3").create_bucket(Bucket="someone-else")
    with pytest.raises(ClientError) as raised:
        s3.put_object(Bucket="someone-else", Key="a", Body=b"x")
    code, message, status = _error(raised)
    assert (code, status) == ("AccessDenied", 403)
    assert "s3:PutObject on resource: arn:aws:s3:::someone-else/a" in message


def test_run_task_needs_the_cluster_condition_and_pass_role(enforced: Enforced) -> None:
    ecs = enforced.client("ecs", "telegram")
    enforced.client("ecs").create_cluster(clusterName="elsewhere")
    with pytest.raises(ClientError) as raised:
        ecs.run_task(cluster="elsewhere", taskDefinition=enforced.task_definition)
    assert "ecs:RunTask on resource" in _error(raised)[1]
    decisions = [json.loads(line) for line in enforced.audit.read_text().splitlines()]
    run = [d for d in decisions if d.get("action") == "ecs:RunTask"]
    assert run[-1]["context"] == {
        "ecs:cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/elsewhere"
    }
    assert run[-1]["decision"] == "ImplicitlyDenied"


def test_run_task_in_the_agents_cluster_passes_both_roles(enforced: Enforced) -> None:
    from openclaw_deploy.local import provision

    subnets, groups = provision.provision_network(enforced.client("ec2"), NAME)
    ecs = enforced.client("ecs", "watchdog")
    ecs.run_task(
        cluster=enforced.cluster,
        taskDefinition=enforced.task_definition,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": subnets,
                "securityGroups": groups,
                "assignPublicIp": "ENABLED",
            }
        },
    )
    decisions = [json.loads(line) for line in enforced.audit.read_text().splitlines()]
    passed = {d["resource"] for d in decisions if d.get("action") == "iam:PassRole"}
    assert passed == {
        enforced.identity("task").role.arn,
        enforced.identity("execution").role.arn,
    }


def test_execution_role_reads_the_task_secrets_and_the_task_role_does_not(
    enforced: Enforced,
) -> None:
    name = resources.LLM_API_KEY.parameter_name(NAME)
    enforced.client("ssm").put_parameter(Name=name, Value="k", Type="SecureString")
    answer = enforced.client("ssm", "execution").get_parameter(Name=name, WithDecryption=True)
    assert answer["Parameter"]["Value"] == "k"
    with pytest.raises(ClientError) as raised:
        enforced.client("ssm", "task").get_parameter(Name=name, WithDecryption=True)
    assert _error(raised)[0] == "AccessDeniedException"


def test_the_users_own_credentials_and_unsigned_sign_in_are_not_restricted(
    enforced: Enforced,
) -> None:
    """The CLI acts with the user's credentials; the browser signs in to Cognito unsigned."""
    admin = enforced.client("dynamodb")
    admin.put_item(TableName=TICKETS, Item={"pk": {"S": "admin"}})
    cognito = enforced.client("cognito-idp")
    pool = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    from botocore import UNSIGNED
    from botocore.config import Config

    unsigned = __import__("boto3").client(
        "cognito-idp",
        region_name=REGION,
        endpoint_url=enforced.endpoint,
        config=Config(signature_version=UNSIGNED),
    )
    with pytest.raises(ClientError) as raised:
        unsigned.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "nobody@example.com", "PASSWORD": "x"},
        )
    # Cognito's own answer (no such user), not an authorization refusal.
    assert _error(raised)[0] in ("UserNotFoundException", "NotAuthorizedException")


def test_code_without_a_role_is_refused(enforced: Enforced) -> None:
    """The local cloud's process holds a key no policy allows: a handler that forgot its role
    fails loudly instead of running with everything allowed."""
    import boto3

    ddb = boto3.client(
        "dynamodb",
        region_name=REGION,
        endpoint_url=enforced.endpoint,
        aws_access_key_id=authz.UNASSIGNED_KEY,
        aws_secret_access_key="x",
    )
    with pytest.raises(ClientError) as raised:
        ddb.get_item(TableName=TICKETS, Key={"pk": {"S": "t"}})
    assert _error(raised)[0] == "AccessDeniedException"


def test_every_decision_is_audited_and_repeats_are_cached(enforced: Enforced) -> None:
    ddb = enforced.client("dynamodb", "ws")
    for _ in range(3):
        ddb.get_item(TableName=TICKETS, Key={"pk": {"S": "t"}})
    decisions = [json.loads(line) for line in enforced.audit.read_text().splitlines()]
    gets = [d for d in decisions if d.get("action") == "dynamodb:GetItem"]
    assert [d["cached"] for d in gets] == [False, True, True]
    assert {d["decision"] for d in gets} == {"Allowed"}
    assert gets[0]["role"] == enforced.identity("ws").role.name
