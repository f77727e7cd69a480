"""The web chat's controls in the template: the page may post attachments to and show images from
the state bucket (its CSP names the bucket), and the HTTP API's role may rename and delete
conversations (write the conversations table)."""

from __future__ import annotations

import json
from typing import Any

from tests.infra.conftest import Synthesized


def _csp(synth: Synthesized) -> str:
    [policy] = synth.of_type("AWS::CloudFront::ResponseHeadersPolicy").values()
    config = policy["Properties"]["ResponseHeadersPolicyConfig"]
    value: Any = config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    return json.dumps(value)


def test_the_page_may_reach_the_state_bucket_for_files_and_nothing_else_new(
    synthesized: Synthesized,
) -> None:
    csp = _csp(synthesized)
    [bucket_id] = [
        logical_id
        for logical_id, bucket in synthesized.of_type("AWS::S3::Bucket").items()
        if "-state-" in json.dumps(bucket["Properties"].get("BucketName"))
    ]
    connect = csp.split("connect-src", 1)[1].split(";", 1)[0]
    images = csp.split("img-src", 1)[1].split(";", 1)[0]
    assert bucket_id in connect and ".s3." in connect
    assert bucket_id in images and ".s3." in images
    assert "*" not in connect and "*" not in images


def test_the_api_role_may_delete_history_rows(
    synthesized: Synthesized,
) -> None:
    [table_id] = [
        logical_id
        for logical_id, table in synthesized.of_type("AWS::DynamoDB::Table").items()
        if "conversations" in json.dumps(table["Properties"].get("TableName"))
    ]
    writers = {
        logical_id
        for logical_id, actions, target in synthesized.policy_statements()
        if table_id in target and "dynamodb:BatchWriteItem" in actions
    }
    assert any(writer.startswith("FunctionsApi") for writer in writers), writers
