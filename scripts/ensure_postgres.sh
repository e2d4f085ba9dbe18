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
wait_ready() {
    for _ in $(seq 1 30); do
        su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
}
wait_ready
# A real buffer cache where the machine has RAM for it: Debian's default shared_buffers (128MB)
# is sized for small machines, and at 10M metric rows it cost bench/master_scale.py ~8% of its
# PostgreSQL ingest rate and a third more read latency. Set once; a restart applies it.
mem_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo)
buffers=$(su postgres -c "psql -qtAc 'show shared_buffers'")
if [ "$mem_kb" -ge 16000000 ] && [ "$buffers" != "2GB" ]; then
    su postgres -c "psql -qc \"alter system set shared_buffers = '2GB'\""
    cluster=$(pg_lsclusters -h | awk '$4 == "online" {print $1" "$2; exit}')
    # shellcheck disable=SC2086
    pg_ctlcluster $cluster restart
    wait_ready
fi
su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname='trainyard'\"" | grep -q 1 ||
    su postgres -c "psql -qc \"create role trainyard login superuser password 'trainyard'\""
su postgres -c "psql -qtAc \"select 1 from pg_database where datname='trainyard_test'\"" | grep -q 1 ||
    su postgres -c "psql -qc 'create database trainyard_test owner trainyard'"
echo "postgres: ready"
