#!/usr/bin/env bash
# Starts a local PostgreSQL for the DB tests (installing Debian's server where missing) and makes
# sure the role and database in scripts/test_env.sh exist. Safe to run many times.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1 && [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
if ! pg_lsclusters -h 2>/dev/null | grep -q online; then
    cluster=$(pg_lsclusters -h | awk 'NR==1 {print $1" "$2}')
    if [ -z "$cluster" ]; then pg_createcluster 15 main >/dev/null; cluster="15 main"; fi
    # shellcheck disable=SC2086
    pg_ctlcluster $cluster start
fi
for _ in $(seq 1 30); do
    su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
    sleep 0.5
done
su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname='trainyard'\"" | grep -q 1 ||
    su postgres -c "psql -qc \"create role trainyard login superuser password 'trainyard'\""
su postgres -c "psql -qtAc \"select 1 from pg_database where datname='trainyard_test'\"" | grep -q 1 ||
    su postgres -c "psql -qc 'create database trainyard_test owner trainyard'"
echo "postgres: ready"
