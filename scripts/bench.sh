#!/usr/bin/env bash
# npm run bench: set up what is missing, build tuneforge and the bench, start a Temporal dev server if
# none answers, then measure tuneforge's performance goals on the local provider (docs/bench.md).
# Prints one table and writes artifacts/bench.json (and artifacts/bench.md, the block docs/benchmarks.md shows).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
npx tsc -p tsconfig.json && npx tsc -p bench/tsconfig.json
if ! .tools/venv/bin/temporal operator cluster health --address "${TEMPORAL_ADDRESS:-localhost:7233}" > /dev/null 2>&1; then
  bash scripts/temporal-dev.sh start
fi
node build-bench/bench/run-bench.js "$@"
