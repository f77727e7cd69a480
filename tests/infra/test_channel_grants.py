"""Each chat channel's secrets are readable by the roles that need them and no other: the Slack
function reads Slack's two, the Discord function the Discord application, the agent task only
the Slack bot token (to post answers); the Discord bot token (commands) stays with the CLI. The
grants name the parameters even though `channels add` stores them after the deploy."""

from __future__ import annotations

import json

from openclaw_deploy.runtime import resources
from tests.infra.conftest import Synthesized


def _readers(synthesized: Synthesized) -> dict[str, set[str]]:
    """Parameter key → the policies that may read it (ssm:GetParameter on its ARN)."""
    readers: dict[str, set[str]] = {s.key: set() for s in resources.CHANNEL_SECRETS}
    for logical_id, policy in synthesized.of_type("AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if "ssm:GetParameter" not in actions:
                continue
            arns = json.dumps(statement.get("Resource"))
            for secret in resources.CHANNEL_SECRETS:
                name = secret.parameter_name(synthesized.spec.name)
                if f'{name}"' in arns:
                    readers[secret.key].add(logical_id.split("Role")[0])
    return readers


def test_channel_secrets_are_read_only_by_their_own_components(synthesized: Synthesized) -> None:
    readers = _readers(synthesized)
    assert readers == {
        resources.SLACK_BOT_TOKEN.key: {"FunctionsSlack", "AgentTask"},
        resources.SLACK_SIGNING_SECRET.key: {"FunctionsSlack"},
        resources.DISCORD_APP.key: {"FunctionsDiscord"},
        resources.DISCORD_BOT_TOKEN.key: set(),
    }
