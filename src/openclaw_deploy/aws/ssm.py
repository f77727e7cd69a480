"""Secrets in SSM Parameter Store: SecureString, AWS-managed key, one prefix per deployment."""

from __future__ import annotations

from typing import Any

from openclaw_deploy.aws.errors import translate_boto_errors


class SecretStore:
    def __init__(self, ssm: Any, deployment: str) -> None:
        self._ssm = ssm
        self._deployment = deployment

    @property
    def client(self) -> Any:
        """The SSM client (for stores of their own layout, such as `runtime.keys.KeyStore`)."""
        return self._ssm

    def exists(self, name: str) -> bool:
        with translate_boto_errors(f"look up the SSM parameter {name}"):
            try:
                self._ssm.describe_parameters(
                    ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}]
                )["Parameters"][0]
            except IndexError:
                return False
        return True

    def put(self, name: str, value: str, *, description: str) -> None:
        """Store (or replace) a SecureString. No KeyId: the free AWS-managed key is used."""
        with translate_boto_errors(f"store the SSM parameter {name}"):
            self._ssm.put_parameter(
                Name=name,
                Value=value,
                Type="SecureString",
                Overwrite=True,
                Description=description,
            )
            self._ssm.add_tags_to_resource(
                ResourceType="Parameter",
                ResourceId=name,
                Tags=[
                    {"Key": "openclaw-deploy:deployment", "Value": self._deployment},
                    {"Key": "managed-by", "Value": "openclaw-deploy"},
                ],
            )

    def get(self, name: str) -> str:
        with translate_boto_errors(f"read the SSM parameter {name}"):
            answer = self._ssm.get_parameter(Name=name, WithDecryption=True)
        return str(answer["Parameter"]["Value"])

    def names_under(self, prefix: str) -> list[str]:
        names: list[str] = []
        with translate_boto_errors(f"list the SSM parameters under {prefix}"):
            paginator = self._ssm.get_paginator("get_parameters_by_path")
            for page in paginator.paginate(Path=prefix, Recursive=True, WithDecryption=False):
                names.extend(str(p["Name"]) for p in page["Parameters"])
        return names

    def delete(self, names: list[str]) -> None:
        with translate_boto_errors("delete the deployment's SSM parameters"):
            for start in range(0, len(names), 10):
                self._ssm.delete_parameters(Names=names[start : start + 10])
