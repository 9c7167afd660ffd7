#!/usr/bin/env bash
# The whole test suite: unit tests and integration tests against real berthd daemons (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
npm test
