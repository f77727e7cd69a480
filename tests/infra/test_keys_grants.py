"""Who may touch the API keys: the agent's task role reads them (nothing else in SSM's keys/),
the HTTP API's role lists, sets and removes them for the settings page, no other role has them."""

from __future__ import annotations

from openclaw_deploy.runtime import resources
from tests.infra.conftest import NAME, Synthesized


def _keys_statements(synth: Synthesized) -> dict[str, list[tuple[list[str], str]]]:
    """Policy logical id -> (actions, resource) of each statement that names the keys path."""
    path = resources.keys_path(NAME).lstrip("/")
    found: dict[str, list[tuple[list[str], str]]] = {}
    for logical_id, actions, target in synth.policy_statements():
        if path in target:
            found.setdefault(logical_id, []).append((actions, target))
    return found


def test_only_the_task_and_the_api_reach_the_keys_and_each_only_as_it_needs(
    synthesized: Synthesized,
) -> None:
    found = _keys_statements(synthesized)
    owners = {logical_id.split("Role")[0] for logical_id in found}
    assert len(found) == 2, found
    task = next(v for k, v in found.items() if k.startswith("AgentTaskRole"))
    api = next(v for k, v in found.items() if "Api" in k and not k.startswith("AgentTaskRole"))
    assert task == [(["ssm:GetParameter"], task[0][1])]
    assert task[0][1].endswith('keys/*"]]}') or "keys/*" in task[0][1]
    actions = {action for listed, _ in api for action in listed}
    assert actions == {
        "ssm:GetParameter",
        "ssm:PutParameter",
        "ssm:DeleteParameter",
        "ssm:GetParametersByPath",
    }
    by_path = [text for listed, text in api if listed == ["ssm:GetParametersByPath"]]
    assert by_path and all("keys/*" not in text for text in by_path), "the folder, not its keys"
    assert owners
