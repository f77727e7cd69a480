"""Each component's IAM role, read from the synthesized CloudFormation template.

The template is what AWS will enforce, so it is the only source: for every role a component runs
under (the Lambda functions' roles, the agent task's role, ECS's execution role) this module
collects the role's inline policies, the `AWS::IAM::Policy`/`AWS::IAM::ManagedPolicy` resources
attached to it and the AWS managed policies it names, and resolves CloudFormation's intrinsic
functions to the ARNs of the *local* resources. Anything it cannot resolve raises
`IamSetupError`: a policy that silently lost a statement (or gained a wildcard) would prove
nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from openclaw_deploy.errors import DeployError
from openclaw_deploy.runtime import resources, schedules

PARTITION: Final = "aws"

LAMBDA_COMPONENTS: Final = (
    "api",
    "ws",
    "telegram",
    "slack",
    "discord",
    "watchdog",
    "notifier",
    "schedule",
)
TASK: Final = "task"
EXECUTION: Final = "execution"
SCHEDULER: Final = "scheduler"
"""EventBridge Scheduler's execution role (it invokes the schedule function)."""

# The AWS managed policies a role of ours may name, as AWS publishes them.
MANAGED_POLICIES: Final[Mapping[str, dict[str, Any]]] = {
    "service-role/AWSLambdaBasicExecutionRole": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            }
        ],
    },
    "service-role/AmazonECSTaskExecutionRolePolicy": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                ],
                "Resource": "*",
            }
        ],
    },
}


class IamSetupError(DeployError):
    """The template's policies could not be turned into the local target's (a bug to report)."""


@dataclass(frozen=True, kw_only=True)
class Role:
    """One role as the local target enforces it."""

    logical_id: str
    name: str
    arn: str
    policies: list[dict[str, Any]]
    """`{"name": ..., "policy": {...}}` documents, every intrinsic resolved."""


@dataclass(frozen=True, kw_only=True)
class LocalNames:
    """What the local target calls the template's resources (the provisioner's names)."""

    deployment: str
    region: str
    account: str
    api_id: str
    queue_urls: Mapping[str, str] = field(default_factory=dict)
    """Queue name → URL, for `Ref` of a queue (CloudFormation's Ref is the queue URL)."""


class Resolver:
    """CloudFormation intrinsics → values, with the template's logical ids mapped to local names."""

    def __init__(self, template: Mapping[str, Any], names: LocalNames) -> None:
        self._resources: Mapping[str, Any] = template.get("Resources", {})
        self._names = names
        self._stack = resources.resource_prefix(names.deployment)

    # --- resource attributes ----------------------------------------------------------------

    def _properties(self, logical_id: str) -> Mapping[str, Any]:
        found: Mapping[str, Any] = self._resources[logical_id].get("Properties", {})
        return found

    def _named(self, logical_id: str, prop: str) -> str:
        value = self._properties(logical_id).get(prop)
        if value is None:
            raise IamSetupError(
                f"{logical_id} has no {prop}: the local target cannot name it like AWS does."
            )
        return self.resolve_string(value)

    def role_name(self, logical_id: str) -> str:
        """CloudFormation names an unnamed role `<stack>-<logical id>-<random>`; ours lacks the
        random part (64 characters at most, as IAM allows)."""
        explicit = self._properties(logical_id).get("RoleName")
        if explicit is not None:
            return self.resolve_string(explicit)
        return f"{self._stack}-{logical_id}"[:64]

    def ref(self, logical_id: str) -> str:  # noqa: PLR0911 - one answer per resource type
        pseudo = {
            "AWS::Region": self._names.region,
            "AWS::AccountId": self._names.account,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self._stack,
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        kind = self._type(logical_id)
        if kind == "AWS::DynamoDB::Table":
            return self._named(logical_id, "TableName")
        if kind == "AWS::SQS::Queue":
            name = self._named(logical_id, "QueueName")
            try:
                return self._names.queue_urls[name]
            except KeyError:
                raise IamSetupError(f"the local target has no queue {name}") from None
        if kind in ("AWS::S3::Bucket",):
            return self._named(logical_id, "BucketName")
        if kind == "AWS::Logs::LogGroup":
            return self._named(logical_id, "LogGroupName")
        if kind == "AWS::ECS::Cluster":
            return self._named(logical_id, "ClusterName")
        if kind == "AWS::IAM::Role":
            return self.role_name(logical_id)
        if kind in ("AWS::ApiGatewayV2::Api",):
            return self._names.api_id
        if kind == "AWS::ECR::Repository":
            return self._named(logical_id, "RepositoryName")
        if kind == "AWS::Lambda::Function":
            return self._named(logical_id, "FunctionName")
        raise IamSetupError(f"Ref of {logical_id} ({kind}) has no local value")

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self._type(logical_id)
        region, account = self._names.region, self._names.account
        if attribute == "Arn":
            if kind == "AWS::SQS::Queue":  # a queue's Ref is its URL; its ARN uses the name
                queue = self._named(logical_id, "QueueName")
                return f"arn:aws:sqs:{region}:{account}:{queue}"
            name = self.ref(logical_id)
            arns = {
                "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{region}:{account}:table/{name}",
                "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
                "AWS::Logs::LogGroup": f"arn:aws:logs:{region}:{account}:log-group:{name}:*",
                "AWS::ECS::Cluster": f"arn:aws:ecs:{region}:{account}:cluster/{name}",
                "AWS::IAM::Role": f"arn:aws:iam::{account}:role/{name}",
                "AWS::ECR::Repository": f"arn:aws:ecr:{region}:{account}:repository/{name}",
                "AWS::Lambda::Function": f"arn:aws:lambda:{region}:{account}:function:{name}",
            }
            if kind in arns:
                return arns[kind]
        if kind == "AWS::SQS::Queue" and attribute == "QueueName":
            return self._named(logical_id, "QueueName")
        if kind == "AWS::SQS::Queue" and attribute == "QueueUrl":
            return self.ref(logical_id)
        if kind == "AWS::ApiGatewayV2::Api" and attribute == "ApiId":
            return self._names.api_id
        raise IamSetupError(f"Fn::GetAtt {logical_id}.{attribute} ({kind}) has no local value")

    def _type(self, logical_id: str) -> str:
        try:
            return str(self._resources[logical_id]["Type"])
        except KeyError:
            raise IamSetupError(f"the template has no resource {logical_id}") from None

    # --- intrinsic functions ----------------------------------------------------------------

    def resolve(self, value: Any) -> Any:  # noqa: PLR0911 - one branch per intrinsic
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(str(argument))
            if key == "Fn::GetAtt":
                logical_id, attribute = (
                    argument if isinstance(argument, list) else str(argument).split(".", 1)
                )
                return self.get_att(logical_id, attribute)
            if key == "Fn::Join":
                separator, parts = argument
                return str(separator).join(self.resolve_string(p) for p in self.resolve(parts))
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::Split":
                separator, text = argument
                return self.resolve_string(text).split(separator)
            if key.startswith("Fn::") or key == "Condition":
                raise IamSetupError(f"{key} cannot be resolved locally: {value}")
        return {k: self.resolve(v) for k, v in value.items()}

    def resolve_string(self, value: Any) -> str:
        resolved = self.resolve(value)
        if not isinstance(resolved, str):
            raise IamSetupError(f"expected a string, got {resolved!r}")
        return resolved

    def _sub(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], self.resolve(argument[1])
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))


def _roles_of(attached: Any) -> list[str]:
    """The logical ids in a policy's `Roles` list (each a `Ref`)."""
    found = []
    for item in attached or []:
        if isinstance(item, dict) and "Ref" in item:
            found.append(str(item["Ref"]))
        else:
            raise IamSetupError(f"a policy is attached to a role it does not Ref: {item!r}")
    return found


def role_policies(template: Mapping[str, Any], logical_id: str, resolver: Resolver) -> Role:
    """Every identity policy of one role, resolved."""
    all_resources: Mapping[str, Any] = template.get("Resources", {})
    role = all_resources[logical_id]
    properties = role.get("Properties", {})
    documents: list[dict[str, Any]] = []
    for inline in properties.get("Policies", []):
        documents.append(
            {
                "name": str(inline["PolicyName"]),
                "policy": resolver.resolve(inline["PolicyDocument"]),
            }
        )
    for managed in properties.get("ManagedPolicyArns", []):
        documents.append(_managed(managed, resolver, all_resources))
    for other_id, other in all_resources.items():
        if other["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") and logical_id in (
            _roles_of(other.get("Properties", {}).get("Roles"))
        ):
            documents.append(
                {
                    "name": other_id,
                    "policy": resolver.resolve(other["Properties"]["PolicyDocument"]),
                }
            )
    name = resolver.role_name(logical_id)
    return Role(
        logical_id=logical_id,
        name=name,
        arn=f"arn:aws:iam::{resolver.ref('AWS::AccountId')}:role/{name}",
        policies=documents,
    )


def _managed(arn: Any, resolver: Resolver, all_resources: Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(arn, dict) and "Ref" in arn and arn["Ref"] in all_resources:
        # A customer managed policy of this stack: found through its Roles list as well.
        raise IamSetupError("attach customer managed policies through their Roles property")
    text = resolver.resolve_string(arn)
    suffix = text.split(":policy/", 1)[-1]
    document = MANAGED_POLICIES.get(suffix)
    if document is None:
        raise IamSetupError(
            f"the AWS managed policy {text} is unknown to the local target",
            hint="add its document to openclaw_deploy.local.iam.policies.MANAGED_POLICIES",
        )
    return {"name": suffix.rsplit("/", 1)[-1], "policy": document}


def component_roles(template: Mapping[str, Any], deployment: str) -> dict[str, str]:
    """Which role each component runs under: component → the role's logical id.

    Found from the template itself (a function's `Role`, the task definition's `TaskRoleArn`
    and `ExecutionRoleArn`), so a renamed construct cannot leave a component unchecked.
    """
    from openclaw_deploy.infra.spec import function_name, task_family

    found: dict[str, str] = {}
    functions = {function_name(deployment, key): key for key in LAMBDA_COMPONENTS}
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Lambda::Function":
            key = functions.get(properties.get("FunctionName", ""))
            if key is not None:
                found[key] = _att_id(properties["Role"])
        elif resource["Type"] == "AWS::ECS::TaskDefinition" and properties.get(
            "Family"
        ) == task_family(deployment):
            found[TASK] = _att_id(properties["TaskRoleArn"])
            found[EXECUTION] = _att_id(properties["ExecutionRoleArn"])
        elif resource["Type"] == "AWS::IAM::Role" and properties.get("RoleName") == (
            schedules.role_name(deployment)
        ):
            found[SCHEDULER] = logical_id
    missing = [c for c in (*LAMBDA_COMPONENTS, TASK, EXECUTION) if c not in found]
    if missing:
        raise IamSetupError(f"the template names no role for {', '.join(missing)}")
    return found


def _att_id(value: Any) -> str:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    raise IamSetupError(f"a role is not given as Fn::GetAtt: {value!r}")


def load_roles(template: Mapping[str, Any], names: LocalNames) -> dict[str, Role]:
    """component → its role, policies resolved to the local target's resources."""
    resolver = Resolver(template, names)
    return {
        component: role_policies(template, logical_id, resolver)
        for component, logical_id in component_roles(template, names.deployment).items()
    }
