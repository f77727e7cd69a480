"""Who the credentials belong to: STS GetCallerIdentity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openclaw_deploy.aws.errors import translate_boto_errors


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    region: str


def caller_identity(sts: Any, region: str) -> Identity:
    with translate_boto_errors("check your AWS credentials"):
        answer = sts.get_caller_identity()
    return Identity(account=str(answer["Account"]), arn=str(answer["Arn"]), region=region)
