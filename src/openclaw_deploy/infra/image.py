"""The agent image: an ECR repository and a CodeBuild project that builds it in the cloud.

No local Docker is needed: the build context (see `staging`) is an ordinary file asset the CDK
CLI uploads to the bootstrap bucket; `deploy` then starts this project when the repository
lacks the image for the context's hash (the tag), and waits for it. With `--local-docker` the
CLI builds and pushes the same tag itself. Unchanged sources mean no build on re-deploy.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from openclaw_deploy.infra.common import acknowledge, acknowledge_wildcard_resource, log_group
from openclaw_deploy.infra.spec import InfraSpec, image_build_log_group
from openclaw_deploy.infra.staging import DOCKERFILE

BUILD_TIMEOUT = cdk.Duration.minutes(30)
IMAGES_KEPT = 3


def _buildspec() -> codebuild.BuildSpec:
    registry = "${REPOSITORY_URI%%/*}"
    return codebuild.BuildSpec.from_object(
        {
            "version": "0.2",
            "env": {"shell": "bash"},
            "phases": {
                "pre_build": {
                    "commands": [
                        "aws ecr get-login-password --region $AWS_DEFAULT_REGION"
                        f" | docker login --username AWS --password-stdin {registry}",
                    ]
                },
                "build": {
                    "commands": [
                        "docker build --platform linux/arm64"
                        f" -f {DOCKERFILE} -t $REPOSITORY_URI:$IMAGE_TAG .",
                        "docker push $REPOSITORY_URI:$IMAGE_TAG",
                    ]
                },
            },
        }
    )


class AgentImage(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, spec: InfraSpec, context_dir: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.repository = ecr.Repository(
            self,
            "Repository",
            repository_name=f"{spec.prefix}/agent",
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.MUTABLE,
            empty_on_delete=True,
            removal_policy=cdk.RemovalPolicy.DESTROY,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    description="Keep the last few images (storage is billed per GB).",
                    max_image_count=IMAGES_KEPT,
                    tag_status=ecr.TagStatus.ANY,
                )
            ],
        )
        self.context = s3_assets.Asset(self, "BuildContext", path=context_dir)
        # The tag names the sources, so an unchanged context is never rebuilt.
        self.tag = f"src-{self.context.asset_hash[:32]}"

        logs = log_group(self, "BuildLogs", image_build_log_group(spec.name))
        self.project = codebuild.Project(
            self,
            "Build",
            project_name=f"{spec.prefix}-image",
            description=f"Builds the OpenClaw agent image of {spec.name} (started by deploy).",
            source=codebuild.Source.s3(bucket=self.context.bucket, path=self.context.s3_object_key),
            environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0,
                compute_type=codebuild.ComputeType.SMALL,
                privileged=True,  # docker build needs the Docker daemon
            ),
            environment_variables={
                "REPOSITORY_URI": codebuild.BuildEnvironmentVariable(
                    value=self.repository.repository_uri
                ),
                "IMAGE_TAG": codebuild.BuildEnvironmentVariable(value=self.tag),
            },
            build_spec=_buildspec(),
            timeout=BUILD_TIMEOUT,
            grant_report_group_permissions=False,
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=logs)
            ),
        )
        self.repository.grant_pull_push(self.project)
        self.context.grant_read(self.project)
        self.log_group = logs
        role = self.project.role
        assert role is not None
        for action in ("s3:GetObject*", "s3:GetBucket*", "s3:List*"):
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Action::{action}]",
                "CDK's read grant on the build-context asset: the build reads its own zip.",
            )
        acknowledge_wildcard_resource(
            role,
            self.context.bucket.arn_for_objects("*"),
            "CDK's read grant on the bootstrap asset bucket for the build-context zip; the key "
            "changes with every context.",
        )
        acknowledge_wildcard_resource(
            role,
            cdk.Stack.of(self).format_arn(
                service="logs",
                resource="log-group",
                resource_name=f"/aws/codebuild/{self.project.project_name}:*",
                arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
            ),
            "CodeBuild's default log group permission, added by CDK; the build writes to the "
            "explicit log group above.",
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken (docker login) has no resource to name; pushes are "
            "limited to the agent's repository.",
        )
        acknowledge(
            self.project,
            "AwsSolutions-CB3",
            "Privileged mode is how CodeBuild runs docker build; the project only builds our "
            "own Dockerfile from our own sources.",
        )
        acknowledge(
            self.project,
            "AwsSolutions-CB4",
            "Build artifacts are the image in ECR (encrypted at rest by ECR); a customer "
            "managed KMS key would add $1/month for no gain here.",
        )
