#!/usr/bin/env bash
# npm run test:chaos: the chaos suite on the local provider (see test/chaos/run-chaos.ts). Arguments go to
# the runner: --list, --only <regex> (or CHAOS_ONLY=<regex>). Needs root, like the local provider.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
needs_setup() {
  [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ] ||
    [ ! -x .tools/venv/bin/temporal ] || [ ! -x /usr/sbin/sshd ] || ! command -v mpirun.openmpi > /dev/null ||
    ! id ubuntu > /dev/null 2>&1
}
if needs_setup; then bash scripts/setup.sh; fi
npx tsc -p tsconfig.json
npx tsc -p tsconfig.test.json
exec node build-test/test/chaos/run-chaos.js "$@"
