#!/usr/bin/env bash
# npm test: set up what is missing, start a Temporal dev server if none answers, run the Python recipe
# tests, the chaos scenarios, then the node:test suite (whose summary is the last thing printed). Every
# suite runs even when an earlier one failed; the exit status is non-zero if any failed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
npx tsc -p tsconfig.test.json
# The bench is compiled (and one quick row run below) so a change that breaks it fails here, not at the next bench run.
npx tsc -p bench/tsconfig.json
bash scripts/temporal-dev.sh start
# The operator step: tests that spawn the production worker need the search attributes (it only checks them).
node build-test/src/client/main.js setup-namespace
# A test that sets no timeout of its own gets this one: a hang fails as that test instead of stalling CI.
TEST_TIMEOUT_MS=${TUNEFORGE_TEST_TIMEOUT_MS:-900000}
failed=()
echo "== recipe tests (pytest)"
.tools/recipe-venv/bin/python -m pytest -q -p no:cacheprovider recipes/tests || failed+=(pytest)
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  # The chaos scenarios that matter most (the whole suite: npm run test:chaos); its own dev server.
  echo "== chaos scenarios (test/chaos)"
  node build-test/test/chaos/run-chaos.js --only '^(temporal-killed@distributed-train|worker-killed@(launchWorkers|teardown)|cancel@provisionMaster)$' \
    || failed+=(chaos)
  echo "== bench smoke (one quick row: 5 runs on in-memory fake nodes)"
  BENCH_ONLY=scale BENCH_SCALE_RUNS=5 node build-bench/bench/run-bench.js > .state/bench-smoke.log 2>&1 \
    && grep -E 'fake nodes\): 5 concurrent runs, completed +5/5' .state/bench-smoke.log || { tail -20 .state/bench-smoke.log; failed+=(bench-smoke); }
  files=(build-test/test/*.test.js)
fi
if [ ${#failed[@]} -gt 0 ]; then echo "== failed so far: ${failed[*]} (node:test runs anyway)"; else echo "== pytest, chaos and the bench smoke passed"; fi
echo "== tuneforge tests (node:test)"
node --test --test-concurrency=1 --test-timeout="$TEST_TIMEOUT_MS" "${files[@]}" || failed+=(node:test)
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed suites: ${failed[*]}" >&2
  exit 1
fi
