#!/usr/bin/env bash
# Validates the team deployment (docker-compose.yml) without a Docker engine: `docker-compose config`
# with Debian's docker-compose (installed here if missing), with the defaults and with
# deploy/env.example, plus checks that config cannot do (mounted files exist, search attributes in
# step with the code, no key material in the deployment files). Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "check-compose: $*"; }
fail() {
  echo "check-compose: FAILED: $*" >&2
  exit 1
}

if ! command -v docker-compose > /dev/null 2>&1; then
  say "installing Debian's docker-compose (no engine)"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  log="$(mktemp)"
  # No recommends: they would bring the whole Docker engine (docker.io, containerd) along.
  if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose; } > "$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    fail "could not install docker-compose with apt-get"
  fi
  rm -f "$log"
fi
version="$(docker-compose version --short 2> /dev/null || docker-compose --version)"

# Only the file's own defaults and deploy/env.example count here, not a developer's .env.
[ ! -e .env ] || say "note: ./.env exists; docker-compose reads it for the default check below"

# The database password has no default: without it (no .env, nothing in the shell) config must refuse.
no_env="$(mktemp)"
if env -u POSTGRES_PASSWORD docker-compose --env-file "$no_env" -f docker-compose.yml config -q > /dev/null 2>&1; then
  rm -f "$no_env"
  fail "docker-compose.yml accepts a missing POSTGRES_PASSWORD (it must be \${POSTGRES_PASSWORD:?...})"
fi
rm -f "$no_env"
export POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-check-compose-only}"
docker-compose -f docker-compose.yml config -q || fail "docker-compose.yml is invalid (docker-compose $version)"
docker-compose --env-file deploy/env.example -f docker-compose.yml config -q \
  || fail "docker-compose.yml is invalid with deploy/env.example (docker-compose $version)"
services="$(docker-compose -f docker-compose.yml config --services | tr '\n' ' ')"
say "docker-compose $version: docker-compose.yml is valid; services: $services"

for service in postgresql temporal-schema temporal temporal-setup tuneforge-setup temporal-ui tuneforge-worker; do
  [[ " $services " == *" $service "* ]] || fail "service $service is missing"
done
for file in Dockerfile deploy/temporal/dynamicconfig.yaml deploy/temporal/setup-namespace.sh deploy/temporal/setup-schema.sh; do
  [ -f "$file" ] || fail "$file is missing (docker-compose.yml uses it)"
done

# The one-shot setup registers the same search attributes as the worker's code defines.
code_attributes="$(sed -n "s/.*defineSearchAttributeKey('\([A-Za-z0-9_]*\)', SearchAttributeType\.\([A-Z]*\)).*/\1=\2/p" \
  src/common/search-attributes.ts | sed 's/=KEYWORD$/=Keyword/; s/=INT$/=Int/; s/=DOUBLE$/=Double/; s/=BOOL$/=Bool/; s/=DATETIME$/=Datetime/; s/=TEXT$/=Text/' | sort)"
setup_attributes="$(grep -E '^Tuneforge[A-Za-z0-9_]*=[A-Za-z]+$' deploy/temporal/setup-namespace.sh | sort)"
[ -n "$code_attributes" ] || fail "no search attributes found in src/common/search-attributes.ts"
[ "$code_attributes" = "$setup_attributes" ] \
  || fail "search attributes differ between src/common/search-attributes.ts and deploy/temporal/setup-namespace.sh:
$(diff <(echo "$code_attributes") <(echo "$setup_attributes") || true)"
say "search attributes in step with the code: $(echo "$code_attributes" | tr '\n' ' ')"

# The worker only checks the search attributes: the operator step must run before it.
# (Into a variable first: with pipefail, grep -q closing the pipe early would fail docker-compose.)
rendered="$(docker-compose -f docker-compose.yml config)"
grep -q -- '- setup-namespace$' <<< "$rendered" \
  || fail "no service runs tuneforge setup-namespace (node lib/client/main.js setup-namespace)"

# The server image, not the deprecated auto-setup; a memory and CPU limit on every service (codec profile included).
grep -q 'image: temporalio/auto-setup' docker-compose.yml && fail "docker-compose.yml uses the deprecated temporalio/auto-setup image"
all_services="$(docker-compose -f docker-compose.yml --profile codec --profile tools config --services 2> /dev/null \
  || docker-compose -f docker-compose.yml config --services)"
for service in $all_services; do
  block="$(awk -v s="  $service:" '$0 == s {on=1; next} on && /^  [a-z]/ {on=0} on' docker-compose.yml)"
  grep -q 'mem_limit:' <<< "$block" || [ "$service" = temporal-admin-tools ] || fail "service $service has no mem_limit"
  grep -q 'cpus:' <<< "$block" || [ "$service" = temporal-admin-tools ] || fail "service $service has no cpus limit"
done
say "server image without auto-setup; limits on: $(echo $all_services | tr '\n' ' ')"

# Credentials are variables or mounts, never literals in the deployment files.
if grep -nE 'PRIVATE KEY|AKIA[0-9A-Z]{16}|aws_secret_access_key' \
  docker-compose.yml Dockerfile .dockerignore deploy/env.example deploy/temporal/*; then
  fail "key material in the deployment files (lines above)"
fi
say "ok"
