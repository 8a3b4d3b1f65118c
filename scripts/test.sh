#!/usr/bin/env bash
# npm test: set up what is missing, start a Temporal dev server if none answers, run the Python recipe
# tests, then the node:test suite (whose summary is the last thing printed).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
npx tsc -p tsconfig.test.json
bash scripts/temporal-dev.sh start
echo "== recipe tests (pytest)"
.tools/recipe-venv/bin/python -m pytest -q -p no:cacheprovider recipes/tests
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  # The chaos scenarios that matter most (the whole suite: npm run test:chaos); its own dev server.
  echo "== chaos scenarios (test/chaos)"
  node build-test/test/chaos/run-chaos.js --only '^(temporal-killed@distributed-train|worker-killed@(launchWorkers|teardown)|cancel@provisionMaster)$'
  files=(build-test/test/*.test.js)
fi
echo "== tuneforge tests (node:test)"
node --test --test-concurrency=1 "${files[@]}"
