"""What AWS would authorize for one HTTP request: its IAM action(s), resource ARN(s) and context.

A request is read as the service reads it: JSON protocols by `X-Amz-Target` and body, SQS's
query protocol by its form body, S3 by method, path and query. Operations that AWS authorizes as
several checks are split the same way (DynamoDB transactions per item, batch calls per table,
ECS RunTask as RunTask plus `iam:PassRole` for the task definition's two roles). An operation
this module does not know raises `UnknownRequest`: the caller refuses it, loudly, rather than
guessing a permission.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

ANY: Final = "*"
ECS_TASKS: Final = "ecs-tasks.amazonaws.com"
SCHEDULER_SERVICE: Final = "scheduler.amazonaws.com"

_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")

# DynamoDB operations on one table (named by TableName), authorized as the same action.
_DYNAMODB_TABLE_OPS: Final = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "DescribeTable",
        "DescribeTimeToLive",
        "UpdateTimeToLive",
        "CreateTable",
        "DeleteTable",
        "UpdateTable",
        "DescribeContinuousBackups",
    }
)
_TRANSACT_ACTIONS: Final = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
# SQS batch operations authorize as their single-message action.
_SQS_BATCH: Final = {
    "SendMessageBatch": "SendMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
}
_SQS_NO_QUEUE: Final = frozenset({"ListQueues"})
_ECS_WILDCARD: Final = frozenset(
    {"DescribeTaskDefinition", "RegisterTaskDefinition", "ListClusters", "DescribeClusters"}
)
_COGNITO_UNSIGNED: Final = frozenset(
    {
        "InitiateAuth",
        "RespondToAuthChallenge",
        "SignUp",
        "ConfirmSignUp",
        "ForgotPassword",
        "ConfirmForgotPassword",
        "GetUser",
        "ChangePassword",
        "GlobalSignOut",
        "RevokeToken",
    }
)
"""Cognito operations authorized by the user's token, not IAM: allowed to anyone."""


class UnknownRequest(Exception):  # noqa: N818 - reads as what happened
    """The request cannot be mapped to the action and resource AWS would evaluate."""


@dataclass(frozen=True, kw_only=True)
class Check:
    """One authorization AWS makes for a request."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Request:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    """Lower-case names."""
    body: bytes


@dataclass(frozen=True, kw_only=True)
class Target:
    """Where the checks resolve names: the account, region and the task roles to pass."""

    account: str
    region: str
    pass_roles: tuple[str, ...] = ()
    """The task definition's task and execution role ARNs (RunTask passes both)."""
    latest_revision: Callable[[str], str] | None = None
    """family → `family:revision` of its latest revision (RunTask given a bare family runs
    that revision, and AWS authorizes its ARN)."""


def signer(headers: Mapping[str, str], query: str) -> tuple[str, str, str] | None:
    """(access key id, region, service) from the SigV4 signature, or None when unsigned."""
    authorization = headers.get("authorization", "")
    match = _SCOPE.search(authorization)
    if match is None:
        credential = parse_qs(query).get("X-Amz-Credential", [""])[0]
        match = _SCOPE.search("Credential=" + credential)
    if match is None:
        return None
    return match.group(1), match.group(2), match.group(3)


def checks(request: Request, service: str, target: Target) -> list[Check]:
    """The authorizations AWS makes for `request` to `service` (the signing name)."""
    if service == "s3":
        return _s3(request)
    if service == "scheduler":
        return _scheduler(request, target)
    amz_target = request.headers.get("x-amz-target", "")
    if amz_target:
        operation = amz_target.rsplit(".", 1)[-1]
        try:
            body: dict[str, Any] = json.loads(request.body or b"{}")
        except ValueError as error:
            raise UnknownRequest(f"{service} {operation}: the body is not JSON") from error
        return _json(service, operation, body, target)
    if service == "sqs":
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        form.update({k: v[0] for k, v in parse_qs(request.query).items()})
        operation = form.get("Action", "")
        if not operation:
            raise UnknownRequest("an SQS request without Action")
        return _sqs(operation, _query_to_json(form), target)
    if service == "sts":
        return []  # GetCallerIdentity and friends need no permission
    raise UnknownRequest(f"{service}: {request.method} {request.path} is not a known call")


def _scheduler(request: Request, target: Target) -> list[Check]:
    """EventBridge Scheduler's REST calls on schedules (`/schedules/{name}?groupName=`)."""
    path = unquote(request.path).rstrip("/")
    query = {k: v[0] for k, v in parse_qs(request.query).items()}
    if path == "/schedules" and request.method == "GET":
        return [Check(action="scheduler:ListSchedules", resource=ANY)]
    name = path.removeprefix("/schedules/")
    actions = {
        "GET": "GetSchedule",
        "POST": "CreateSchedule",
        "PUT": "UpdateSchedule",
        "DELETE": "DeleteSchedule",
    }
    if not path.startswith("/schedules/") or "/" in name or request.method not in actions:
        raise UnknownRequest(f"scheduler: {request.method} {request.path} is not a known call")
    group = query.get("groupName") or query.get("GroupName")
    body: dict[str, Any] = {}
    if request.body:
        try:
            parsed = json.loads(request.body)
        except ValueError:
            parsed = None
        body = parsed if isinstance(parsed, dict) else {}
    group = group or body.get("GroupName")
    resource = (
        f"arn:aws:scheduler:{target.region}:{target.account}:schedule/{group or 'default'}/{name}"
    )
    found = [Check(action=f"scheduler:{actions[request.method]}", resource=resource)]
    # Creating or updating a schedule hands Scheduler the target's role, as AWS checks it.
    role = body.get("Target", {}).get("RoleArn") if isinstance(body.get("Target"), dict) else None
    if request.method in ("POST", "PUT") and isinstance(role, str) and role:
        found.append(
            Check(
                action="iam:PassRole",
                resource=role,
                context={"iam:PassedToService": SCHEDULER_SERVICE},
            )
        )
    return found


def _query_to_json(form: Mapping[str, str]) -> dict[str, Any]:
    """The few query-protocol parameters our SQS checks read, in the JSON protocol's shape."""
    found: dict[str, Any] = {k: v for k, v in form.items() if "." not in k}
    return found


def _json(  # noqa: PLR0911 - one answer per service
    service: str, operation: str, body: dict[str, Any], target: Target
) -> list[Check]:
    if service == "dynamodb":
        return _dynamodb(operation, body, target)
    if service == "sqs":
        return _sqs(operation, body, target)
    if service == "ssm":
        return _ssm(operation, body, target)
    if service == "ecs":
        return _ecs(operation, body, target)
    if service == "logs":
        return _logs(operation, body, target)
    if service == "cognito-idp":
        if operation in _COGNITO_UNSIGNED:
            return []
        pool = body.get("UserPoolId")
        resource = (
            f"arn:aws:cognito-idp:{target.region}:{target.account}:userpool/{pool}" if pool else ANY
        )
        return [Check(action=f"cognito-idp:{operation}", resource=resource)]
    if service == "sts":
        return []
    raise UnknownRequest(f"{service}:{operation} is not a known call")


def _table_arn(name: str, target: Target) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:dynamodb:{target.region}:{target.account}:table/{name}"


def _dynamodb(operation: str, body: dict[str, Any], target: Target) -> list[Check]:
    if operation in _DYNAMODB_TABLE_OPS:
        arn = _table_arn(str(body.get("TableName", "")), target)
        if body.get("IndexName"):
            arn = f"{arn}/index/{body['IndexName']}"
        return [Check(action=f"dynamodb:{operation}", resource=arn)]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for item in body.get("TransactItems", []):
            for kind, detail in item.items():
                if kind not in _TRANSACT_ACTIONS:
                    raise UnknownRequest(f"dynamodb:{operation} item {kind}")
                found.append(
                    Check(
                        action=f"dynamodb:{_TRANSACT_ACTIONS[kind]}",
                        resource=_table_arn(str(detail["TableName"]), target),
                    )
                )
        return found
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [
            Check(action=f"dynamodb:{operation}", resource=_table_arn(str(name), target))
            for name in body.get("RequestItems", {})
        ]
    if operation in ("ListTables", "DescribeLimits", "DescribeEndpoints"):
        return [Check(action=f"dynamodb:{operation}", resource=ANY)]
    raise UnknownRequest(f"dynamodb:{operation} is not a known call")


def _queue_arn(body: Mapping[str, Any], target: Target) -> str:
    url = str(body.get("QueueUrl", ""))
    if url:
        parts = [p for p in urlsplit(url).path.split("/") if p]
        if len(parts) < 2:
            raise UnknownRequest(f"an SQS queue URL without account and name: {url}")
        account, name = parts[-2], parts[-1]
    else:
        name = str(body.get("QueueName", ""))
        account = str(body.get("QueueOwnerAWSAccountId") or target.account)
        if not name:
            raise UnknownRequest("an SQS call naming no queue")
    return f"arn:aws:sqs:{target.region}:{account}:{name}"


def _sqs(operation: str, body: Mapping[str, Any], target: Target) -> list[Check]:
    if operation in _SQS_NO_QUEUE:
        return [Check(action=f"sqs:{operation}", resource=ANY)]
    action = _SQS_BATCH.get(operation, operation)
    return [Check(action=f"sqs:{action}", resource=_queue_arn(body, target))]


def _parameter_arn(name: str, target: Target) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:ssm:{target.region}:{target.account}:parameter/{name.lstrip('/')}"


def _ssm(operation: str, body: Mapping[str, Any], target: Target) -> list[Check]:
    if operation in ("GetParameter", "PutParameter", "DeleteParameter", "GetParameterHistory"):
        return [
            Check(action=f"ssm:{operation}", resource=_parameter_arn(str(body["Name"]), target))
        ]
    if operation in ("GetParameters", "DeleteParameters"):
        return [
            Check(action=f"ssm:{operation}", resource=_parameter_arn(str(name), target))
            for name in body.get("Names", [])
        ]
    if operation == "GetParametersByPath":
        path = str(body.get("Path", "/")).rstrip("/") or "/"
        return [Check(action="ssm:GetParametersByPath", resource=_parameter_arn(path, target))]
    if operation == "DescribeParameters":
        return [Check(action="ssm:DescribeParameters", resource=ANY)]
    raise UnknownRequest(f"ssm:{operation} is not a known call")


def _cluster_arn(value: str | None, target: Target) -> str:
    name = value or "default"
    if name.startswith("arn:"):
        return name
    return f"arn:aws:ecs:{target.region}:{target.account}:cluster/{name}"


def _task_arn(value: str, cluster_arn: str, target: Target) -> str:
    if value.startswith("arn:"):
        return value
    cluster = cluster_arn.rsplit("/", 1)[-1]
    return f"arn:aws:ecs:{target.region}:{target.account}:task/{cluster}/{value}"


def _task_definition_arn(value: str, target: Target) -> str:
    if value.startswith("arn:"):
        return value
    if ":" not in value:
        if target.latest_revision is None:
            raise UnknownRequest(f"RunTask with the bare family {value!r}: revision unknown")
        value = target.latest_revision(value)
    return f"arn:aws:ecs:{target.region}:{target.account}:task-definition/{value}"


def _ecs(operation: str, body: Mapping[str, Any], target: Target) -> list[Check]:
    cluster = _cluster_arn(body.get("cluster"), target)
    in_cluster = {"ecs:cluster": cluster}
    if operation == "RunTask":
        found = [
            Check(
                action="ecs:RunTask",
                resource=_task_definition_arn(str(body["taskDefinition"]), target),
                context=in_cluster,
            )
        ]
        overrides = body.get("overrides", {})
        roles = set(target.pass_roles)
        roles.update(
            str(overrides[key]) for key in ("taskRoleArn", "executionRoleArn") if key in overrides
        )
        found.extend(
            Check(action="iam:PassRole", resource=role, context={"iam:PassedToService": ECS_TASKS})
            for role in sorted(roles)
        )
        return found
    if operation == "StopTask":
        return [
            Check(
                action="ecs:StopTask",
                resource=_task_arn(str(body["task"]), cluster, target),
                context=in_cluster,
            )
        ]
    if operation == "DescribeTasks":
        return [
            Check(
                action="ecs:DescribeTasks",
                resource=_task_arn(str(task), cluster, target),
                context=in_cluster,
            )
            for task in body.get("tasks", [])
        ]
    if operation == "ListTasks":
        return [Check(action="ecs:ListTasks", resource=ANY, context=in_cluster)]
    if operation in _ECS_WILDCARD:
        return [Check(action=f"ecs:{operation}", resource=ANY)]
    raise UnknownRequest(f"ecs:{operation} is not a known call")


def _logs(operation: str, body: Mapping[str, Any], target: Target) -> list[Check]:
    group = body.get("logGroupName")
    if group is None:
        return [Check(action=f"logs:{operation}", resource=ANY)]
    arn = f"arn:aws:logs:{target.region}:{target.account}:log-group:{group}"
    stream = body.get("logStreamName")
    resource = f"{arn}:log-stream:{stream}" if stream else f"{arn}:*"
    return [Check(action=f"logs:{operation}", resource=resource)]


def _s3(request: Request) -> list[Check]:
    parts = unquote(request.path).lstrip("/").split("/", 1)
    bucket = parts[0]
    key = parts[1] if len(parts) > 1 else ""
    host = request.headers.get("host", "")
    if host and not bucket and host.count(".") and not host[0].isdigit():
        bucket = host.split(".", 1)[0]  # virtual-hosted style
    query = parse_qs(request.query, keep_blank_values=True)
    method = request.method.upper()
    if not bucket:
        return [Check(action="s3:ListAllMyBuckets", resource=ANY)]
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if key:
        return [
            Check(action=_s3_object_action(method, query, request), resource=f"{bucket_arn}/{key}")
        ]
    return [Check(action=_s3_bucket_action(method, query), resource=bucket_arn)]


def _s3_object_action(  # noqa: PLR0911 - one answer per S3 operation
    method: str, query: Mapping[str, Any], request: Request
) -> str:
    versioned = "versionId" in query
    if method in ("GET", "HEAD"):
        if "tagging" in query:
            return "s3:GetObjectVersionTagging" if versioned else "s3:GetObjectTagging"
        if "uploadId" in query:
            return "s3:ListMultipartUploadParts"
        return "s3:GetObjectVersion" if versioned else "s3:GetObject"
    if method in ("PUT", "POST"):
        if "tagging" in query:
            return "s3:PutObjectTagging"
        return "s3:PutObject"  # also each multipart step and copies (the target side)
    if method == "DELETE":
        if "uploadId" in query:
            return "s3:AbortMultipartUpload"
        return "s3:DeleteObjectVersion" if versioned else "s3:DeleteObject"
    raise UnknownRequest(f"S3 {method} on an object of {request.path}")


_S3_BUCKET_GET: Final = {
    "versions": "s3:ListBucketVersions",
    "uploads": "s3:ListBucketMultipartUploads",
    "versioning": "s3:GetBucketVersioning",
    "location": "s3:GetBucketLocation",
    "policy": "s3:GetBucketPolicy",
    "tagging": "s3:GetBucketTagging",
    "lifecycle": "s3:GetLifecycleConfiguration",
    "encryption": "s3:GetEncryptionConfiguration",
    "acl": "s3:GetBucketAcl",
    "cors": "s3:GetBucketCORS",
    "publicAccessBlock": "s3:GetBucketPublicAccessBlock",
}
_S3_BUCKET_PUT: Final = {
    "versioning": "s3:PutBucketVersioning",
    "policy": "s3:PutBucketPolicy",
    "tagging": "s3:PutBucketTagging",
    "lifecycle": "s3:PutLifecycleConfiguration",
    "encryption": "s3:PutEncryptionConfiguration",
    "publicAccessBlock": "s3:PutBucketPublicAccessBlock",
}


def _s3_bucket_action(method: str, query: Mapping[str, Any]) -> str:
    if method in ("GET", "HEAD"):
        for name, action in _S3_BUCKET_GET.items():
            if name in query:
                return action
        return "s3:ListBucket"
    if method == "PUT":
        for name, action in _S3_BUCKET_PUT.items():
            if name in query:
                return action
        return "s3:CreateBucket"
    if method == "POST" and "delete" in query:
        return "s3:DeleteObject"  # DeleteObjects: authorized per object as DeleteObject
    if method == "DELETE":
        return "s3:DeleteBucket"
    raise UnknownRequest(f"S3 {method} on a bucket with {sorted(query)}")
