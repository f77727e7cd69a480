"""Messaging and data: the tables, the inbound FIFO queue and the state bucket.

Built by looping over `runtime.resources` — the one description the local target provisions
from too — so a table added there appears here with the same name, keys and TTL. The user's own
data (history, settings, pairings, the state bucket) has point-in-time recovery or versioning and
is retained when the stack is deleted; `destroy --purge` removes it by name afterwards.
Construct ids come from the resource keys and must never change: a new id replaces the table.
"""

from __future__ import annotations

from typing import Final

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from openclaw_deploy.infra.common import acknowledge
from openclaw_deploy.infra.spec import (
    STATE_NONCURRENT_DAYS,
    STATE_NONCURRENT_VERSIONS_KEPT,
    InfraSpec,
)
from openclaw_deploy.runtime import resources

DLQ_RETENTION = cdk.Duration.days(14)
RETAIN_USER_DATA = cdk.RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
"""CloudFormation's RetainExceptOnCreate: kept when the stack is deleted or the resource is
replaced, but removed when the deploy that created it rolls back, so a failed first deploy
leaves nothing behind that would block the next one."""
INCOMPLETE_UPLOAD_DAYS: Final = 1


def construct_id(key: str) -> str:
    """`task-state` → `TaskState`: the stable construct id of a resource key."""
    return "".join(part.capitalize() for part in key.split("-"))


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class Data(Construct):
    def __init__(self, scope: Construct, construct_id_: str, *, spec: InfraSpec) -> None:
        super().__init__(scope, construct_id_)
        self.tables: dict[str, dynamodb.Table] = {}
        for table in resources.TABLES:
            self.tables[table.key] = self._table(spec, table)

        self.queues: dict[str, sqs.Queue] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        for queue in resources.QUEUES:
            self._queue(spec, queue)

        self.buckets: dict[str, s3.Bucket] = {}
        for bucket in resources.BUCKETS:
            self.buckets[bucket.key] = self._bucket(spec, bucket)

    def _table(self, spec: InfraSpec, table: resources.Table) -> dynamodb.Table:
        keep = table.user_data
        built = dynamodb.Table(
            self,
            construct_id(table.key),
            table_name=table.physical_name(spec.name),
            partition_key=_string(resources.PARTITION_KEY),
            sort_key=_string(resources.SORT_KEY) if table.sort_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=resources.TTL_ATTRIBUTE if table.ttl else None,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            )
            if keep
            else None,
            removal_policy=RETAIN_USER_DATA if keep else cdk.RemovalPolicy.DESTROY,
        )
        if not keep:
            acknowledge(
                built,
                "AwsSolutions-DDB3",
                f"The {table.key} table holds transient state ({table.description}); it is "
                "rebuilt by use, so point-in-time recovery would only add cost.",
            )
        return built

    def _queue(self, spec: InfraSpec, queue: resources.Queue) -> None:
        key_id = construct_id(queue.key)
        dead = sqs.Queue(
            self,
            f"{key_id}DeadLetters",
            queue_name=queue.dead_letter_name(spec.name),
            fifo=True,
            retention_period=DLQ_RETENTION,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        acknowledge(
            dead,
            "AwsSolutions-SQS3",
            "This is the dead-letter queue; messages that land here are kept for inspection.",
        )
        main = sqs.Queue(
            self,
            key_id,
            queue_name=queue.physical_name(spec.name),
            fifo=True,
            # Senders set MessageDeduplicationId to the channel's own message id.
            content_based_deduplication=False,
            visibility_timeout=cdk.Duration.seconds(queue.visibility_timeout_seconds),
            retention_period=cdk.Duration.seconds(queue.retention_seconds),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dead, max_receive_count=queue.max_receive_count
            ),
        )
        self.queues[queue.key] = main
        self.dead_letter_queues[queue.key] = dead

    def _bucket(self, spec: InfraSpec, bucket: resources.Bucket) -> s3.Bucket:
        # Bucket names are global: with a concrete account they are spelled out; an
        # environment-agnostic synth lets CloudFormation fill in account and region.
        account = spec.account or cdk.Aws.ACCOUNT_ID
        region = spec.region if spec.account else cdk.Aws.REGION
        built = s3.Bucket(
            self,
            construct_id(bucket.key),
            bucket_name=bucket.physical_name(spec.name, account, region),
            versioned=bucket.versioned,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=RETAIN_USER_DATA,
            # The web chat posts attachments straight here and downloads the agent's files with
            # presigned URLs; the signature is the authorization, CORS only lets the page read
            # the answer.
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.POST, s3.HttpMethods.GET],
                    allowed_origins=["*"],
                    allowed_headers=["*"],
                    max_age=3000,
                )
            ],
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="bounded-history",
                    # Backups are written every few minutes while the agent runs: without a
                    # bound on the count, a busy month keeps thousands of old versions.
                    # An old version expires once it is older than STATE_NONCURRENT_DAYS *and*
                    # STATE_NONCURRENT_VERSIONS_KEPT newer old versions exist (services.cost
                    # counts what that keeps).
                    noncurrent_version_expiration=cdk.Duration.days(STATE_NONCURRENT_DAYS),
                    noncurrent_versions_to_retain=STATE_NONCURRENT_VERSIONS_KEPT,
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(
                        INCOMPLETE_UPLOAD_DAYS
                    ),
                )
            ],
        )
        acknowledge(
            built,
            "AwsSolutions-S1",
            "No server access logs: only the agent's own role reads and writes this bucket, and "
            "a log bucket would cost more than the backups it records.",
        )
        return built
