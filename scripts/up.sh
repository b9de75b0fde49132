#!/usr/bin/env bash
# Starts a single-node Skiff cluster on this machine, installing what it needs first.
# Flags are passed to `skiff server` (e.g. --data-dir DIR --https-listen-port 6443).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
exec node bin/skiff.js server "$@"
