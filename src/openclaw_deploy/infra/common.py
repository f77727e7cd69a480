"""Small helpers every construct uses: log groups with retention, cdk-nag acknowledgements."""

from __future__ import annotations

import re

import aws_cdk as cdk
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from openclaw_deploy.infra.spec import LOG_RETENTION_DAYS, NAG_CHECKING

NAG_PACK = "AwsSolutions"
CONNECTIONS_REASON = (
    "Connection ids are created per browser tab; the ARN is limited to POST @connections on "
    "this deployment's own WebSocket API and stage."
)
_RETENTION = {
    1: logs.RetentionDays.ONE_DAY,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
}


def log_group(scope: Construct, construct_id: str, name: str) -> logs.LogGroup:
    """A log group created explicitly, with retention, deleted with the stack (logs are not the
    user's data, and a retained group would block the next deploy of the same name)."""
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        retention=_RETENTION[LOG_RETENTION_DAYS],
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Record that a cdk-nag finding on `scope` (and its children) is intended, and why."""
    if not reason.strip():  # pragma: no cover - a programming error caught by the nag tests
        raise ValueError(f"{rule}: an acknowledgement needs a written reason")
    if not NAG_CHECKING.get():
        return
    # cdk-nag reports its findings under the plugin's name; unprefixed ids would be taken
    # for construct annotations.
    rule_id = f"{NAG_PACK}::{rule}" if rule.startswith(f"{NAG_PACK}-") else rule
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))


def nag_resource(scope: IConstruct, value: str) -> str:
    """How cdk-nag spells a (tokenized) resource in a finding id: `Ref` as `<LogicalId>`,
    `Fn::GetAtt` as `<LogicalId.Attr>`, joins flattened — so an acknowledgement names exactly
    the one resource it excuses, whatever the account, region and logical ids are."""
    return _flatten(cdk.Stack.of(scope).resolve(value))


def _flatten(node: object) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, dict):
        if "Ref" in node:
            return f"<{node['Ref']}>"
        if "Fn::GetAtt" in node:
            logical_id, attribute = node["Fn::GetAtt"]
            return f"<{logical_id}.{attribute}>"
        if "Fn::Join" in node:
            separator, parts = node["Fn::Join"]
            return str(separator).join(_flatten(part) for part in parts)
        if "Fn::Sub" in node and isinstance(node["Fn::Sub"], str):
            return re.sub(r"\$\{([^}]+)\}", r"<\1>", node["Fn::Sub"])
    raise ValueError(f"cannot spell {node!r} as a cdk-nag resource")


def acknowledge_wildcard_resource(scope: IConstruct, resource: str, reason: str) -> None:
    """Acknowledge AwsSolutions-IAM5 for one wildcard resource ARN on `scope`'s policies."""
    if not NAG_CHECKING.get():
        return
    acknowledge(scope, f"AwsSolutions-IAM5[Resource::{nag_resource(scope, resource)}]", reason)
