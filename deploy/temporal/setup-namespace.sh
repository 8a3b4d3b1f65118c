#!/bin/sh
# One-shot setup of tuneforge's namespace on the compose deployment's Temporal server; run by the
# `temporal-setup` service (temporalio/admin-tools image) after `temporal` is healthy, on every `up`.
# Idempotent: it sets the retention and registers only the search attributes that are missing.
# `tuneforge setup-namespace` (the tuneforge-setup service, after this one) registers them too; the worker only checks;
# this makes them exist before the first worker or CLI call, and shows them in this service's log.
#
# Environment: TEMPORAL_ADDRESS (temporal:7233), TEMPORAL_NAMESPACE (default),
# TEMPORAL_RETENTION (how long closed runs are kept, e.g. 720h; empty leaves it unchanged).
set -eu

NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
RETENTION="${TEMPORAL_RETENTION:-}"

# Keep in step with src/common/search-attributes.ts (scripts/check-compose.sh compares the two).
SEARCH_ATTRIBUTES="
TuneforgeStage=Keyword
TuneforgeProvider=Keyword
TuneforgeRecipe=Keyword
TuneforgeRunName=Keyword
TuneforgeArtifacts=Keyword
TuneforgeModel=Keyword
TuneforgeNodes=Int
TuneforgeRecoveries=Int
TuneforgeCostUsd=Double
TuneforgeF1=Double
TuneforgeExactMatch=Double
TuneforgePromoted=Bool
"

echo "tuneforge setup: waiting for the Temporal server at ${TEMPORAL_ADDRESS:-?}"
tries=0
until temporal operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 120 ]; then
    echo "tuneforge setup: the Temporal server did not answer within 120 s" >&2
    exit 1
  fi
  sleep 1
done

# The server image creates no namespace (auto-setup did): create it once, with the retention asked for.
if ! temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  temporal operator namespace create --namespace "$NAMESPACE" --retention "${RETENTION:-720h}"
  echo "tuneforge setup: created namespace ${NAMESPACE}"
fi
tries=0
until temporal operator search-attribute list --namespace "$NAMESPACE" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "tuneforge setup: namespace ${NAMESPACE} not usable after 60 s" >&2
    exit 1
  fi
  sleep 1
done

if [ -n "$RETENTION" ]; then
  if temporal operator namespace update --namespace "$NAMESPACE" --retention "$RETENTION" >/dev/null; then
    echo "tuneforge setup: retention of ${NAMESPACE} is ${RETENTION}"
  else
    echo "tuneforge setup: could not set the retention of ${NAMESPACE} to ${RETENTION}; left as it was" >&2
  fi
fi

existing="$(temporal operator search-attribute list --namespace "$NAMESPACE")"
for entry in $SEARCH_ATTRIBUTES; do
  name="${entry%%=*}"
  type="${entry#*=}"
  if printf '%s\n' "$existing" | grep -qw "$name"; then
    echo "tuneforge setup: search attribute ${name} (${type}) already registered"
  elif temporal operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type"; then
    echo "tuneforge setup: registered search attribute ${name} (${type})"
  elif temporal operator search-attribute list --namespace "$NAMESPACE" | grep -qw "$name"; then
    # A worker starting at the same time registered it first.
    echo "tuneforge setup: search attribute ${name} (${type}) registered meanwhile"
  else
    echo "tuneforge setup: could not register search attribute ${name} (${type})" >&2
    exit 1
  fi
done
echo "tuneforge setup: done"
