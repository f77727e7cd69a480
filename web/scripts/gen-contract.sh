#!/bin/sh
# Regenerate src/generated/contract.json from the Python contract (the one definition).
# tests/web/test_contract_sync.py fails when the committed file differs from describe().
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-"$root/.venv/bin/python"}
[ -x "$python" ] || python=python3
PYTHONPATH="$root/src" "$python" -c "import json; from openclaw_deploy.runtime.contract import describe; print(json.dumps(describe(), indent=2))" \
  > "$root/web/src/generated/contract.json"
echo "wrote web/src/generated/contract.json"
