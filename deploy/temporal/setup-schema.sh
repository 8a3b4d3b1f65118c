#!/bin/sh
# One-shot database setup for the compose deployment's Temporal server (the `temporal-schema` service,
# temporalio/admin-tools image), run before the server starts on every `up`: creates Temporal's two
# PostgreSQL databases when missing and brings their schemas to the versions this image ships. Idempotent:
# an existing database is kept, and update-schema applies only the versions not applied yet. This is what
# the deprecated temporalio/auto-setup image did inside the server container; here the server only serves.
#
# Environment: POSTGRES_USER, POSTGRES_PASSWORD (required), POSTGRES_HOST (postgresql), POSTGRES_PORT (5432).
set -eu

export SQL_PLUGIN=postgres12
export SQL_HOST="${POSTGRES_HOST:-postgresql}"
export SQL_PORT="${POSTGRES_PORT:-5432}"
export SQL_USER="${POSTGRES_USER:?POSTGRES_USER is required}"
export SQL_PASSWORD="${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required}"
SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12

for pair in temporal:temporal temporal_visibility:visibility; do
  db="${pair%%:*}"
  dir="${SCHEMA_ROOT}/${pair#*:}/versioned"
  if temporal-sql-tool --db "$db" create-database > /dev/null 2>&1; then
    echo "tuneforge schema: created database ${db}"
  else
    echo "tuneforge schema: database ${db} exists"
  fi
  # Version 0.0 only creates the schema_version bookkeeping where it is missing; update-schema does the rest.
  temporal-sql-tool --db "$db" setup-schema -v 0.0
  temporal-sql-tool --db "$db" update-schema -d "$dir"
  echo "tuneforge schema: ${db} is up to date (${dir})"
done
