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


def _id_token(api_url: str, email: str, password: str) -> str | None:
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
    if answer.status_code != 200:
        return None
    return str(answer.json()["AuthenticationResult"]["IdToken"])


def _signs_in(api_url: str, email: str, password: str) -> bool:
    return _id_token(api_url, email, password) is not None


def test_port_and_password_stay_until_asked_and_logs_outlive_destroy(tmp_path: Path) -> None:
    first = _json(cli(tmp_path, "init", "--target", "local", "--yes", "--json"))["local"]
    password = first["owner_password"]
    assert password and first["password_kept"] is False
    try:
        again = _json(cli(tmp_path, "deploy", "--target", "local", "--yes", "--json"))
        assert again["web_url"] == first["web_url"]  # a bookmark still works
        assert again["owner_password"] is None and again["password_kept"] is True
        assert _signs_in(again["api_url"], first["owner_email"], password)  # a saved password too

        # Every request the handlers answer leaves one line in the gateway's log.
        token = _id_token(again["api_url"], first["owner_email"], password)
        answer = httpx.get(
            f"{again['api_url']}/api/conversations",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        gateway = cli(tmp_path, "logs", "--component", "gateway", "--filter", "/api/")
        assert gateway.returncode == 0, gateway.stderr
        assert "GET /api/conversations 200" in gateway.stdout

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


def test_ctrl_c_in_init_after_the_local_cloud_started_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    import io
    import os
    import sys

    import pexpect

    from openclaw_deploy.local import service
    from openclaw_deploy.local.paths import LocalPaths

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OPENCLAW_", "CI"))}
    env.update(TERM="xterm", OPENCLAW_DEPLOY_CACHE=cli_cache())
    child = pexpect.spawn(
        sys.executable,
        ["-m", "openclaw_deploy", "init", "--target", "local", "--name", "agent"],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=120,
        dimensions=(40, 120),
    )
    child.logfile_read = io.StringIO()
    child.expect("LLM provider")
    child.send("\r")  # the offline demo model, the default
    child.expect("Model")
    child.send("\r")
    child.expect("Owner email")  # asked after the local cloud started
    paths = LocalPaths.for_deployment(tmp_path / "openclaw-deploy.yaml", "agent")
    running = service.read_state(paths)
    assert running is not None
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    child.close()
    output = child.logfile_read.getvalue()
    assert child.exitstatus == 130, output
    assert "Stopping the local cloud this init started" in output
    assert service.read_state(paths) is None
    with pytest.raises(ProcessLookupError):
        os.kill(running.pid, 0)
    assert not (tmp_path / "openclaw-deploy.yaml").exists()


def cli_cache() -> str:
    import os

    from tests.e2e.local import REPO

    return os.environ.get("OPENCLAW_DEPLOY_CACHE", str(REPO / ".cache" / "openclaw-deploy"))
