"""Summarise the local target's IAM audit files (`logs/iam-audit.jsonl`): which (role, action,
resource) triples were exercised, and which were refused.

Resources that carry a per-run id (an ECS task, a WebSocket connection) are also counted with
the id replaced by `{id}`, so two runs of the same suite give the same figure.

    .venv/bin/python bench/iam_audit_summary.py AUDIT.jsonl [AUDIT.jsonl ...]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

_IDS = (
    (re.compile(r"(:task/[^/]+/)[0-9a-f-]{16,}$"), r"\1{id}"),
    (re.compile(r"(/@connections/).+$"), r"\1{id}"),
)


def normalise(resource: str) -> str:
    for pattern, replacement in _IDS:
        resource = pattern.sub(replacement, resource)
    return resource


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("audits", nargs="+", type=Path)
    arguments = parser.parse_args()
    decisions = Counter[str]()
    triples: dict[tuple[str, str, str], set[str]] = {}
    refusals_without_check: Counter[str] = Counter()
    for path in arguments.audits:
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = json.loads(line)
            decisions[entry["decision"]] += 1
            if "action" not in entry:
                refusals_without_check[f"{entry.get('component')}: {entry.get('reason')}"] += 1
                continue
            key = (entry["component"], entry["action"], normalise(entry["resource"]))
            triples.setdefault(key, set()).add(entry["decision"])
    refused = {k: v for k, v in triples.items() if v != {"Allowed"}}
    print(f"decisions: {sum(decisions.values())} ({dict(decisions)})")
    print(f"distinct (role, action, resource) triples: {len(triples)}")
    print(f"refused triples: {len(refused)}")
    for (component, action, resource), seen in sorted(refused.items()):
        print(f"  REFUSED {component:9s} {action:32s} {resource}  {sorted(seen)}")
    for reason, count in refusals_without_check.items():
        print(f"  REFUSED (no check) x{count}: {reason}")
    print("\nexercised:")
    for component, action, resource in sorted(triples):
        print(f"  {component:9s} {action:32s} {resource}")


if __name__ == "__main__":
    main()
