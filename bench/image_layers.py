"""The agent image's layers as a task pulls them: gzip (what `docker push` sends today) against
zstd, side by side in one run.

On Fargate every task start downloads the whole image and unpacks each layer before the
container starts; AWS names the decompression as a cost zstd cuts ("Reducing AWS Fargate
startup times with zstd compressed container images", 2022: up to 27 % faster task starts).
This measures that part on our own image, built here from `container/Dockerfile`: each layer
pushed with both compressions (`buildah push --compression-format ...` from the local storage,
which keeps layers uncompressed, into an OCI layout), the compressed bytes a start would
download, and the single-core time to decompress every layer (`gzip -dc` / `zstd -dc` to
nowhere, best of `--rounds`).

    OPENCLAW_DEPLOY_CACHE=.cache/openclaw-deploy .venv/bin/python bench/image_layers.py \
        [--image localhost/openclaw-deploy/agent:latest] [--rounds 3]

The image must exist in the local target's image storage (`openclaw-deploy init --target local
--image`, or the image tests build it). It is the architecture of this machine; AWS runs ARM64,
where the layers hold the same files.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from openclaw_deploy.local.image import AGENT_IMAGE, Buildah, storage_home

FORMATS = {"gzip": ["gzip", "-dc"], "zstd": ["zstd", "-dcq"]}
MB = 1_000_000


def layers(layout: Path) -> list[Path]:
    """The layer blobs of the one image in an OCI layout, in order."""
    index = json.loads((layout / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":", 1)[1]
    manifest = json.loads((layout / "blobs" / "sha256" / digest).read_text())
    return [
        layout / "blobs" / "sha256" / layer["digest"].split(":", 1)[1]
        for layer in manifest["layers"]
    ]


def decompress_seconds(command: list[str], blobs: list[Path], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for blob in blobs:
            with blob.open("rb") as source:
                subprocess.run(command, stdin=source, stdout=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", default=AGENT_IMAGE, help="an image in the local storage")
    parser.add_argument("--rounds", type=int, default=3, help="decompressions per format (best)")
    args = parser.parse_args()
    for tool in ("gzip", "zstd", "buildah"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 2
    buildah = Buildah(storage_home())
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-layers-") as scratch:
        for name, command in FORMATS.items():
            layout = Path(scratch) / name
            started = time.perf_counter()
            buildah.run(
                "push",
                "--compression-format",
                name,
                "--quiet",
                args.image,
                f"oci:{layout}",
                timeout=1800,
            )
            pushed = time.perf_counter() - started
            blobs = layers(layout)
            compressed = sum(blob.stat().st_size for blob in blobs)
            seconds = decompress_seconds(command, blobs, args.rounds)
            rows.append((name, len(blobs), compressed, pushed, seconds))
    print(f"image {args.image}")
    print(f"{'':6} {'layers':>6} {'download (MB)':>14} {'compress (s)':>13} {'decompress (s)':>15}")
    for name, count, compressed, pushed, seconds in rows:
        print(f"{name:6} {count:>6} {compressed / MB:>14.1f} {pushed:>13.1f} {seconds:>15.2f}")
    (_, _, gz_bytes, _, gz_s), (_, _, zs_bytes, _, zs_s) = rows
    print(
        f"zstd/gzip: download {zs_bytes / gz_bytes:.2f}, decompression {zs_s / gz_s:.2f} "
        "(single core; Fargate's share of a start spent here is not measured)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
