#!/usr/bin/env bash
# npm run demo: set up what is missing, start (or reuse) a Temporal dev server, start a worker, run one
# fine-tune on the local provider and print its summary. The dev server keeps running afterwards.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
spec=${1:-examples/local-tiny.yaml}

bash scripts/setup.sh
bash scripts/temporal-dev.sh start
# The operator step (the worker only checks the search attributes); idempotent.
node lib/client/main.js setup-namespace
mkdir -p .state
node lib/worker/main.js > .state/demo-worker.log 2>&1 &
worker=$!
trap 'kill "$worker" 2> /dev/null || true; wait "$worker" 2> /dev/null || true' EXIT
for _ in $(seq 1 120); do
  grep -q 'worker polling task queue' .state/demo-worker.log && break
  kill -0 "$worker" 2> /dev/null || { cat .state/demo-worker.log; exit 1; }
  sleep 0.5
done

status=0
id="demo-$(date -u +%Y%m%d-%H%M%S)"
# The plan says what the run trains (task, preset, validation file, sequence settings): the ending follows it.
node lib/client/main.js plan "$spec" --json > .state/demo-plan.json
node lib/client/main.js start "$spec" --id "$id" --follow || status=$?
if [ "$status" = 0 ]; then
  # The product: pull the model out of the artifact store and let transformers do the run's task with it.
  echo
  model=.state/demo-model
  rm -rf "$model"
  node lib/client/main.js pull "$id" "$model"
  bash scripts/demo-try-model.sh .state/demo-plan.json "$model" || status=$?
fi
echo
echo "Worker log: .state/demo-worker.log"
echo "The Temporal dev server keeps running so the Web UI link works; stop it with: npm run temporal:stop"
exit "$status"
