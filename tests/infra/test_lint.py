"""cfn-lint on every synthesized template: nothing but W3005 (CDK's redundant DependsOn) and,
where real availability zones were passed in, W3010 (literal AZs) may be ignored."""

from __future__ import annotations

import pytest
from cfnlint.api import ManualArgs, lint_file

from tests.infra.conftest import Synthesized


def _lint(synth: Synthesized) -> list[str]:
    ignore = ["W3005"] + (["W3010"] if synth.spec.availability_zones else [])
    matches = lint_file(
        synth.assembly.template_file,
        config=ManualArgs(ignore_checks=ignore, regions=[synth.spec.region]),
    )
    return [f"{m.rule.id} {m.message} ({m.filename}:{m.linenumber})" for m in matches]


@pytest.mark.parametrize("which", ["synthesized", "variant", "bedrock"])
def test_template_passes_cfn_lint(which: str, request: pytest.FixtureRequest) -> None:
    synth: Synthesized = request.getfixturevalue(which)
    assert _lint(synth) == []


def test_lint_would_catch_a_broken_template(
    synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory
) -> None:
    import json

    broken = json.loads(synthesized.assembly.template_file.read_text())
    table = next(r for r in broken["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table")
    table["Properties"]["BillingMode"] = "FREE_OF_CHARGE"
    path = tmp_path_factory.mktemp("broken") / "broken.template.json"
    path.write_text(json.dumps(broken))
    matches = lint_file(path, config=ManualArgs(ignore_checks=["W3005", "W3010"]))
    assert any(m.rule.id.startswith("E") for m in matches)
