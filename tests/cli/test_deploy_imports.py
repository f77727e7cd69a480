"""`aws_cdk` (and jsii, cdk-nag, boto3) load only on the paths that synthesize or call AWS:
help for every command, and importing the CLI app, stay light."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("aws_cdk", "jsii", "cdk_nag", "constructs", "boto3", "botocore")


def _modules_after(code: str) -> list[str]:
    probe = (
        "import sys, io, contextlib\n"
        f"{code}\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return list(eval(out.stdout.strip().splitlines()[-1]))  # noqa: S307 - our own printed list


def test_importing_the_cli_and_helping_load_no_cdk() -> None:
    code = (
        "from openclaw_deploy.cli.app import main, app\n"
        "helps = (['--help'], ['deploy', '--help'], ['destroy', '--help'], ['synth', '--help'])\n"
        "for args in helps:\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            main(args)\n"
        "        except SystemExit:\n"
        "            pass\n"
    )
    assert _modules_after(code) == []


def test_the_services_load_no_cdk_until_they_synthesize() -> None:
    code = (
        "import openclaw_deploy.services.deploy, openclaw_deploy.services.destroy\n"
        "import openclaw_deploy.services.synth, openclaw_deploy.infra.spec\n"
    )
    assert "aws_cdk" not in _modules_after(code)
    # ... and the synth path does load it (the probe can see a module when it is there).
    assert "aws_cdk" in _modules_after("import openclaw_deploy.infra.stack")
