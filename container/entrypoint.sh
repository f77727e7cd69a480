#!/bin/sh
# The agent container's entrypoint: run the bridge (which restores state, starts OpenClaw and
# serves the queue). In the image tini runs this script as PID 1's child; `exec` makes the
# bridge that child, so SIGTERM (Spot reclaim, StopTask) reaches it directly.
#
# It also runs as a plain process outside any container (the local target does that): it finds
# the bridge and the shared runtime package next to itself, and OPENCLAW_BRIDGE_PYTHON names
# the interpreter that has the bridge's dependencies (default: python3 on PATH).
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
PYTHONPATH="$here/bridge:$here/../src${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH
export PYTHONUNBUFFERED=1

exec "${OPENCLAW_BRIDGE_PYTHON:-python3}" -m openclaw_bridge "$@"
