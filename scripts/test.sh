#!/usr/bin/env bash
# The whole test suite: installs what it needs, typechecks, then runs unit and
# integration tests with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
if ! command -v kubectl >/dev/null 2>&1 && [ ! -x /usr/bin/kubectl ]; then
  echo "skiff: kubectl 1.32 is needed for the integration tests (expected at /usr/bin/kubectl)" >&2
  exit 1
fi
npx tsc --noEmit
# Node 20's test runner takes no globs: list the files ourselves.
mapfile -t files < <(find src test -name '*.test.ts' | sort)
node --import tsx --test --test-concurrency=2 --test-timeout=300000 "${files[@]}"
