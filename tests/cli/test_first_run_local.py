"""A newcomer's first run on the local target, through the real CLI in a subprocess: the web
URL and the owner's password stay put across init/deploy/destroy, and the logs outlive a destroy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.local import cli

pytestmark = [pytest.mark.slow]


def _json(result: Any) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def _signs_in(api_url: str, email: str, password: str) -> bool:
    config = httpx.get(f"{api_url}/config.json", timeout=10).json()
    answer = httpx.post(
        config["cognito"]["endpoint"],
        content=json.dumps(
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": config["cognito"]["clientId"],
                "AuthParameters": {"USERNAME": email, "PASSWORD": password},
            }
        ),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
        timeout=10,
    )
    return answer.status_code == 200 and "AuthenticationResult" in answer.json()


def test_port_and_password_stay_until_asked_and_logs_outlive_destroy(tmp_path: Path) -> None:
    first = _json(cli(tmp_path, "init", "--target", "local", "--yes", "--json"))["local"]
    password = first["owner_password"]
    assert password and first["password_kept"] is False
    try:
        again = _json(cli(tmp_path, "deploy", "--target", "local", "--yes", "--json"))
        assert again["web_url"] == first["web_url"]  # a bookmark still works
        assert again["owner_password"] is None and again["password_kept"] is True
        assert _signs_in(again["api_url"], first["owner_email"], password)  # a saved password too

        destroyed = cli(tmp_path, "destroy", "--target", "local", "--yes")
        assert destroyed.returncode == 0, destroyed.stderr
        logs = Path(first["logs"])
        assert any(path.stat().st_size for path in logs.glob("*.log")), "logs kept to read"
        assert "kept" in destroyed.stdout and str(logs) in destroyed.stdout

        back = _json(cli(tmp_path, "init", "--target", "local", "--yes", "--json"))["local"]
        assert back["web_url"] == first["web_url"] and back["password_kept"] is True

        fresh = _json(cli(tmp_path, "deploy", "--yes", "--new-password", "--json"))
        assert fresh["owner_password"] and fresh["owner_password"] != password
        assert fresh["web_url"] == first["web_url"]
        assert _signs_in(fresh["api_url"], first["owner_email"], fresh["owner_password"])
        assert not _signs_in(fresh["api_url"], first["owner_email"], password)
    finally:
        purged = cli(tmp_path, "destroy", "--target", "local", "--yes", "--purge")
    assert purged.returncode == 0, purged.stderr
    assert not (tmp_path / ".openclaw-deploy" / "local" / "agent").exists()
