#!/usr/bin/env bash
# Runs p0-flood-bench against a fresh release incident-server on a fresh database of the checkout's private
# Postgres. Called by `make bench-p0`:
#   run-p0-bench.sh BIN_DIR PG_BIN DB_URL [p0-flood-bench flags, from P0_BENCH_FLAGS]
# With DATABASE_URL in the environment that database is used as it is (the caller made it fresh).
set -euo pipefail
bin=$1; pg_bin=$2; url=$3; shift 3
if [ -z "${DATABASE_URL:-}" ]; then
  # A fresh database every run: an earlier run's incidents and job backlog must not be measured.
  hostport=${url#*@}; hostport=${hostport%%/*}
  host=${hostport%:*}; port=${hostport##*:}
  db=incident_p0_bench
  "$pg_bin/dropdb" -h "$host" -p "$port" -U incident --if-exists "$db"
  "$pg_bin/createdb" -h "$host" -p "$port" -U incident "$db"
  url="postgresql://incident@$host:$port/$db"
fi
mkdir -p bench-results
echo "p0-flood-bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin/p0-flood-bench" --server "$bin/incident-server" --certs "$(pwd)/certs" \
  --database-url "$url" --out bench-results/p0-flood.md "$@"
