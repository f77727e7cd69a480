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
from aws_cdk import aws_iam as iam
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


_PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
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
            # A tag names one build for ever (the tag is the sources' hash): a task definition
            # revision always runs the image it was registered with.
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
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
        # CDK's Project grants itself broad defaults (the whole asset bucket, the
        # /aws/codebuild/* log groups); this role takes none of them, only `policy` below.
        role = iam.Role(
            self,
            "BuildRole",
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            description=f"Builds the agent image of {spec.name}",
        )
        self.project = codebuild.Project(
            self,
            "Build",
            project_name=f"{spec.prefix}-image",
            description=f"Builds the OpenClaw agent image of {spec.name} (started by deploy).",
            role=role.without_policy_updates(),
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
        self.log_group = logs
        self.build_role = role
        policy = iam.Policy(
            self,
            "BuildPolicy",
            roles=[role],
            statements=[
                iam.PolicyStatement(
                    actions=["s3:GetObject", "s3:GetObjectVersion"],
                    resources=[self.context.bucket.arn_for_objects(self.context.s3_object_key)],
                ),
                iam.PolicyStatement(
                    actions=["s3:GetBucketAcl", "s3:GetBucketLocation"],
                    resources=[self.context.bucket.bucket_arn],
                ),
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[logs.log_group_arn],
                ),
                iam.PolicyStatement(
                    actions=list(_PUSH_ACTIONS), resources=[self.repository.repository_arn]
                ),
                iam.PolicyStatement(actions=["ecr:GetAuthorizationToken"], resources=["*"]),
            ],
        )
        # The first build must find its permissions in place.
        self.project.node.add_dependency(policy)
        acknowledge_wildcard_resource(
            policy,
            logs.log_group_arn,
            "The build writes one log stream per build, named by CodeBuild, in its own log "
            "group only.",
        )
        acknowledge(
            policy,
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
