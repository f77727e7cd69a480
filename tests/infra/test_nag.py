"""cdk-nag AwsSolutions: the app passes (the session fixtures synthesize with the pack on, and a
finding makes synthesis fail), and every acknowledgement is specific and has a written reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.infra.conftest import Synthesized


def _acknowledgements(synth: Synthesized) -> dict[str, dict[str, str]]:
    """Construct path → {rule id: reason} for every acknowledged rule."""
    found: dict[str, dict[str, str]] = {}
    for path, entries in synth.metadata().items():
        for entry in entries:
            if entry["type"] == "aws:cdk:acknowledged-rules":
                found.setdefault(path, {}).update(entry["data"])
    return found


@pytest.mark.parametrize("which", ["synthesized", "variant", "bedrock"])
def test_every_acknowledgement_has_a_reason(which: str, request: pytest.FixtureRequest) -> None:
    synth: Synthesized = request.getfixturevalue(which)
    acknowledgements = _acknowledgements(synth)
    ours = {
        (path, rule): reason
        for path, rules in acknowledgements.items()
        for rule, reason in rules.items()
        if rule.startswith("AwsSolutions::")
    }
    assert len(ours) >= 20
    for (path, rule), reason in ours.items():
        assert len(reason.split()) >= 8, (path, rule, reason)  # a sentence, not a shrug
        # IAM5 is acknowledged per finding (one action or resource), never wholesale.
        if "IAM5" in rule:
            assert "[" in rule, (path, rule)
    report = json.loads((synth.assembly.directory / "validation-report.json").read_text())
    assert all(p.get("conclusion") != "failure" for p in report.get("pluginReports", []))


def test_an_unacknowledged_finding_fails_synthesis(tmp_path: Path) -> None:
    """The gate is real: the same plugin set-up rejects a bucket with no reasons given."""
    import aws_cdk as cdk
    from aws_cdk import aws_s3 as s3
    from cdk_nag import AwsSolutionsChecks

    app = cdk.App(outdir=str(tmp_path), builtin_cloud_formation_validation=False)
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = cdk.Stack(app, "nag-probe")
    s3.Bucket(stack, "Plain")
    with pytest.raises(RuntimeError, match="AwsSolutions-S1"):
        app.synth()
