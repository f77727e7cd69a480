"""The web client's copy of the message contract must be exactly what the Python side describes."""

from __future__ import annotations

import json
from pathlib import Path

from openclaw_deploy.runtime.contract import describe

CONTRACT_JSON = Path(__file__).resolve().parents[2] / "web" / "src" / "generated" / "contract.json"


def test_web_contract_json_matches_describe() -> None:
    committed = json.loads(CONTRACT_JSON.read_text(encoding="utf-8"))
    assert committed == describe(), (
        "web/src/generated/contract.json is stale: run `sh web/scripts/gen-contract.sh` "
        "and update the web client for what changed"
    )


def test_web_contract_json_is_in_generator_format() -> None:
    # Byte-for-byte what the generator writes, so regenerating never shows a spurious diff.
    expected = json.dumps(describe(), indent=2) + "\n"
    assert CONTRACT_JSON.read_text(encoding="utf-8") == expected
