"""Keeping a local deployment's user data across `destroy` and `init`, as AWS keeps retained data.

On AWS, `destroy` keeps the user's tables and the backup bucket unless `--purge`. The local cloud
lives in memory, so the same promise is kept by saving those resources to files when the local
cloud stops and loading them when it starts again.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from openclaw_deploy.runtime import resources


def export_user_data(
    dynamodb: Any, s3: Any, target: Path, *, deployment: str, account: str, region: str
) -> dict[str, int]:
    """Write the user-data tables and the state bucket under `target`; returns counts."""
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "tables").mkdir(parents=True)
    counts: dict[str, int] = {}
    for table in resources.TABLES:
        if not table.user_data:
            continue
        items: list[dict[str, Any]] = []
        paginator = dynamodb.get_paginator("scan")
        for page in paginator.paginate(TableName=table.physical_name(deployment)):
            items.extend(page.get("Items", []))
        with (staging / "tables" / f"{table.key}.jsonl").open("w", encoding="utf-8") as stream:
            for item in items:
                stream.write(json.dumps(item) + "\n")
        counts[f"table:{table.key}"] = len(items)
    for bucket in resources.BUCKETS:
        name = bucket.physical_name(deployment, account, region)
        folder = staging / "buckets" / bucket.key
        folder.mkdir(parents=True)
        count = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for obj in page.get("Contents", []):
                destination = folder / obj["Key"]
                destination.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(name, obj["Key"], str(destination))
                count += 1
        counts[f"bucket:{bucket.key}"] = count
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return counts


def import_user_data(
    dynamodb: Any, s3: Any, source: Path, *, deployment: str, account: str, region: str
) -> dict[str, int]:
    """Load what `export_user_data` saved into freshly provisioned resources."""
    counts: dict[str, int] = {}
    if not source.is_dir():
        return counts
    for table in resources.TABLES:
        path = source / "tables" / f"{table.key}.jsonl"
        if not path.is_file():
            continue
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for line in lines:
            dynamodb.put_item(TableName=table.physical_name(deployment), Item=json.loads(line))
        counts[f"table:{table.key}"] = len(lines)
    for bucket in resources.BUCKETS:
        folder = source / "buckets" / bucket.key
        if not folder.is_dir():
            continue
        name = bucket.physical_name(deployment, account, region)
        files = [p for p in folder.rglob("*") if p.is_file()]
        for path in files:
            s3.upload_file(str(path), name, path.relative_to(folder).as_posix())
        counts[f"bucket:{bucket.key}"] = len(files)
    return counts
