"""A stand-in CloudFormation client for the states moto cannot reach (ROLLBACK_COMPLETE, failed
resources with reasons), and a stand-in CDK CLI that "deploys" by writing events into it."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from openclaw_deploy.services.cdk_cli import CdkRun

_ids = itertools.count(1)


@dataclass
class FakeStack:
    name: str
    status: str
    outputs: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    """Newest first, as CloudFormation returns them."""
    template: dict[str, Any] = field(default_factory=lambda: {"Resources": {}})

    @property
    def stack_id(self) -> str:
        return f"arn:aws:cloudformation:us-east-1:123456789012:stack/{self.name}/0001"


class _Pages:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self._pages = pages

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        return self._pages


class FakeCloudFormation:
    def __init__(self) -> None:
        self.stacks: dict[str, FakeStack] = {}
        self.calls: list[str] = []
        self.clock = datetime.now(UTC)

    # -- test helpers ---------------------------------------------------------------------

    def add(self, name: str, status: str, **kwargs: Any) -> FakeStack:
        self.stacks[name] = FakeStack(name=name, status=status, **kwargs)
        return self.stacks[name]

    def event(
        self,
        stack: str,
        logical_id: str,
        status: str,
        reason: str | None = None,
        resource_type: str = "AWS::DynamoDB::Table",
    ) -> None:
        self.clock += timedelta(seconds=3)
        entry: dict[str, Any] = {
            "EventId": f"e{next(_ids)}",
            "Timestamp": self.clock,
            "LogicalResourceId": logical_id,
            "ResourceType": resource_type,
            "ResourceStatus": status,
            "PhysicalResourceId": self.stacks[stack].stack_id
            if logical_id == stack
            else logical_id,
        }
        if reason:
            entry["ResourceStatusReason"] = reason
        self.stacks[stack].events.insert(0, entry)

    # -- the boto3 surface used by openclaw_deploy.aws.cloudformation ----------------------

    def _missing(self, name: str) -> ClientError:
        return ClientError(
            {
                "Error": {
                    "Code": "ValidationError",
                    "Message": f"Stack with id {name} does not exist",
                }
            },
            "DescribeStacks",
        )

    def _find(self, name: str) -> FakeStack:
        for stack in self.stacks.values():
            if name in (stack.name, stack.stack_id):
                return stack
        raise self._missing(name)

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        self.calls.append(f"describe_stacks {StackName}")
        stack = self._find(StackName)
        return {
            "Stacks": [
                {
                    "StackName": stack.name,
                    "StackId": stack.stack_id,
                    "StackStatus": stack.status,
                    "Outputs": [
                        {"OutputKey": k, "OutputValue": v} for k, v in stack.outputs.items()
                    ],
                }
            ]
        }

    def get_template(self, StackName: str, TemplateStage: str) -> dict[str, Any]:  # noqa: N803
        return {"TemplateBody": self._find(StackName).template}

    def delete_stack(self, StackName: str) -> None:  # noqa: N803
        self.calls.append(f"delete_stack {StackName}")
        stack = self._find(StackName)
        self.event(
            stack.name,
            stack.name,
            "DELETE_IN_PROGRESS",
            "User Initiated",
            "AWS::CloudFormation::Stack",
        )
        self.event(stack.name, "Table", "DELETE_COMPLETE")
        self.event(stack.name, stack.name, "DELETE_COMPLETE", None, "AWS::CloudFormation::Stack")
        stack.status = "DELETE_COMPLETE"

    def get_paginator(self, operation: str) -> _Pages:
        if operation == "describe_stack_events":

            def pages(**kwargs: Any) -> list[dict[str, Any]]:
                return [{"StackEvents": list(self._find(kwargs["StackName"]).events)}]

            pager = _Pages([])
            pager.paginate = pages  # type: ignore[method-assign]
            return pager
        if operation == "list_stack_resources":
            return _Pages([{"StackResourceSummaries": []}])
        raise NotImplementedError(operation)


def deployed_image_tag(template: dict[str, Any]) -> str | None:
    """The image tag the template's task definition runs."""
    for resource in (template.get("Resources") or {}).values():
        if resource.get("Type") == "AWS::ECS::TaskDefinition":
            image = json.dumps(resource["Properties"]["ContainerDefinitions"][0]["Image"])
            return image.rsplit(":", 1)[-1].strip('"]} ')
    return None


@dataclass(frozen=True)
class Deployed:
    """What one `cdk deploy` put in place."""

    image_tag: str | None
    owner: bool
    """The owner's Cognito user (whose creation emails the invitation) is in the template."""


@dataclass
class FakeCdk:
    """Plays the CDK CLI: `outcome(cfn)` writes the stack's events and sets its status."""

    cfn: FakeCloudFormation
    log_dir: Path
    failures: list[tuple[str, str]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    deployed: list[Deployed] = field(default_factory=list)
    on_deploy: Callable[[Deployed], None] | None = None
    """Called with what each deploy puts in place, before it is in place."""

    def _run(self, name: str, returncode: int, text: str) -> CdkRun:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        log.write_text(text)
        return CdkRun(returncode=returncode, log_file=log)

    def bootstrap(self, account: str, region: str, **_: Any) -> CdkRun:
        self.calls.append(f"bootstrap {account} {region}")
        return self._run("bootstrap", 0, "bootstrapped")

    def deploy(
        self,
        assembly: Path,
        stack: str,
        *,
        import_existing: bool = False,
        while_running: Any = None,
    ) -> CdkRun:
        self.calls.append(f"deploy {stack} import={import_existing}")
        template_file = assembly / f"{stack}.template.json"
        if template_file.exists():
            template = json.loads(template_file.read_text())
            deployed = Deployed(
                image_tag=deployed_image_tag(template),
                owner=any(
                    r.get("Type") == "AWS::Cognito::UserPoolUser"
                    for r in template.get("Resources", {}).values()
                ),
            )
            if self.on_deploy is not None:
                self.on_deploy(deployed)
            self.deployed.append(deployed)
        cfn = self.cfn
        current = cfn.stacks.get(stack)
        if current is not None and current.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            cfn.event(
                stack, stack, "UPDATE_IN_PROGRESS", "User Initiated", "AWS::CloudFormation::Stack"
            )
            cfn.event(stack, stack, "UPDATE_COMPLETE", None, "AWS::CloudFormation::Stack")
            current.status = "UPDATE_COMPLETE"
            return self._run("deploy", 0, "updated")
        if current is not None and current.status != "DELETE_COMPLETE":
            raise AssertionError("deploy ran before the failed stack was deleted")
        cfn.add(stack, "CREATE_IN_PROGRESS")
        cfn.event(
            stack, stack, "CREATE_IN_PROGRESS", "User Initiated", "AWS::CloudFormation::Stack"
        )
        if not self.failures:
            cfn.event(stack, "DataConversations41BA6FE0", "CREATE_IN_PROGRESS")
            cfn.event(stack, "DataConversations41BA6FE0", "CREATE_COMPLETE")
            cfn.stacks[stack].status = "CREATE_COMPLETE"
            return self._run("deploy", 0, "ok")
        for logical_id, reason in self.failures:
            cfn.event(stack, logical_id, "CREATE_IN_PROGRESS")
            cfn.event(stack, logical_id, "CREATE_FAILED", reason)
        cfn.event(stack, "DataSettingsFC28C4CC", "CREATE_FAILED", "Resource creation cancelled")
        cfn.event(
            stack,
            stack,
            "ROLLBACK_IN_PROGRESS",
            "The following resource(s) failed to create",
            "AWS::CloudFormation::Stack",
        )
        cfn.event(stack, stack, "ROLLBACK_COMPLETE", None, "AWS::CloudFormation::Stack")
        cfn.stacks[stack].status = "ROLLBACK_COMPLETE"
        return self._run("deploy", 1, "❌ deployment failed: see the events")
