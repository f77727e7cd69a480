"""Who may sign attachment URLs: the HTTP API's role may put objects under `uploads/` only (the
presigned POST acts with its grants) and read `uploads/` and `outbound/` (presigned GETs); no
other function's role reaches the state bucket. The bucket answers the web page's CORS check."""

from __future__ import annotations

import json

from tests.infra.conftest import Synthesized


def _state_bucket_statements(synth: Synthesized) -> dict[str, list[tuple[list[str], str]]]:
    """Policy logical id -> (actions, resource) of each statement on the state bucket's objects."""
    [bucket_id] = [
        logical_id
        for logical_id, bucket in synth.of_type("AWS::S3::Bucket").items()
        if "-state-" in json.dumps(bucket["Properties"].get("BucketName"))
    ]
    found: dict[str, list[tuple[list[str], str]]] = {}
    for logical_id, actions, target in synth.policy_statements():
        if bucket_id in target:
            found.setdefault(logical_id, []).append((actions, target))
    return found


def test_only_the_api_signs_uploads_and_only_under_its_prefixes(
    synthesized: Synthesized,
) -> None:
    found = _state_bucket_statements(synthesized)
    functions = {k: v for k, v in found.items() if not k.startswith("Agent")}
    [(api_id, api)] = functions.items()
    assert "Api" in api_id
    # The owner's skills have their own prefix and grant (tests/infra/test_skills_grants.py).
    api = [(listed, text) for listed, text in api if "/skills/*" not in text]
    puts = [text for listed, text in api if "s3:PutObject" in listed]
    gets = [text for listed, text in api if "s3:GetObject" in listed]
    assert puts and all("/uploads/*" in text for text in puts), puts
    assert {"/uploads/*", "/outbound/*"} == {
        prefix for prefix in ("/uploads/*", "/outbound/*") if any(prefix in t for t in gets)
    }
    assert all("/uploads/*" in t or "/outbound/*" in t for t in gets), gets
    actions = {action for listed, _ in api for action in listed}
    assert actions == {"s3:PutObject", "s3:GetObject"}


def test_the_state_bucket_lets_the_web_page_post_and_read(synthesized: Synthesized) -> None:
    [bucket] = [
        b
        for b in synthesized.of_type("AWS::S3::Bucket").values()
        if "-state-" in json.dumps(b["Properties"].get("BucketName"))
    ]
    [rule] = bucket["Properties"]["CorsConfiguration"]["CorsRules"]
    assert set(rule["AllowedMethods"]) == {"POST", "GET"}
