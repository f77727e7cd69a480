"""The owner's skills in the synthesized template: only the HTTP API's role reaches `skills/` in
the state bucket (read, write, delete, nothing else there), and the task role reads them."""

from __future__ import annotations

from tests.infra.conftest import Synthesized


def _statements_on(synth: Synthesized, suffix: str) -> dict[str, list[list[str]]]:
    found: dict[str, list[list[str]]] = {}
    for logical_id, actions, target in synth.policy_statements():
        if target.endswith(f'"{suffix}"]]}}'):
            found.setdefault(logical_id, []).append(actions)
    return found


def test_only_the_api_manages_skills_and_only_under_their_prefix(
    synthesized: Synthesized,
) -> None:
    found = _statements_on(synthesized, "/skills/*")
    [(policy_id, statements)] = found.items()
    assert "Api" in policy_id
    assert statements == [["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]]


def test_the_task_role_reads_the_skills_and_writes_its_report(synthesized: Synthesized) -> None:
    # The bridge's grant on the whole bucket (its backups) covers skills/ too.
    found = _statements_on(synthesized, "/*")
    agent = [
        actions
        for logical_id, lists in found.items()
        if logical_id.startswith("Agent")
        for actions in lists
    ]
    assert any({"s3:GetObject", "s3:PutObject"} <= set(actions) for actions in agent), agent
