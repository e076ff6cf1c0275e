#!/usr/bin/env bash
# make bench-create-cpu: what one durable create costs, in figures that do not swing with the machine.
#   (1) CPU per create from /proc: a release incident-server with make run's default config on a fresh database,
#       loaded by `incidentctl bench` (64 callers, 4 connections, the severity mix critical 1%, high 4%,
#       medium 15%, low 40%, info 40%); server utime+stime / creates written, Postgres utime+stime (postmaster and
#       every backend) / creates written, thread switches per create (all threads' voluntary and involuntary
#       switches); then the same load against the C++ reference server (in memory, same C core): its CPU per call.
#   (2) instructions per create: the same server under callgrind, collection switched on only around a fixed
#       batch of creates (fixed_batch.py), total instructions / creates written.
#
#   run-create-cpu.sh BIN_DIR REFERENCE_SERVER DATABASE_URL OUT_DIR PYTHON
#
# Environment: CPU_SECONDS (measured seconds, 15), CPU_CONCURRENCY (64), CPU_CONNECTIONS (4),
# CALLGRIND_CREATES (400; 0 skips the callgrind part), CALLGRIND_WORKERS (8).
set -euo pipefail
bin=${1:?BIN_DIR}; reference=${2:?REFERENCE_SERVER}; admin_url=${3:?DATABASE_URL}; out=${4:?OUT_DIR}
python=${5:?PYTHON}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
seconds=${CPU_SECONDS:-15}; concurrency=${CPU_CONCURRENCY:-64}; connections=${CPU_CONNECTIONS:-4}
cg_creates=${CALLGRIND_CREATES:-400}; cg_workers=${CALLGRIND_WORKERS:-8}
mix=critical=1,high=4,medium=15,low=40,info=40

mkdir -p "$out"
work=$(mktemp -d /tmp/incident-create-cpu.XXXXXX)
pki=$work/pki
bash "$root/Tests/IncidentServerTests/Fixtures/make-service-pki.sh" "$pki" >/dev/null
database="im_cpu_$(date +%s)_$$"
psql "$admin_url" -q -c "CREATE DATABASE $database"
db_url=$("$python" -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1])
print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$admin_url" "$database")
server_pid=
cleanup() {
    [ -n "$server_pid" ] && { kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
    psql "$admin_url" -q -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
hz=$(getconf CLK_TCK)

# ---- readings -------------------------------------------------------------------
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/{n += $2} END {print n + 0}'; }
postmaster=$(head -1 "$(psql "$db_url" -Atc 'SHOW data_directory')/postmaster.pid")
postgres_ticks() { # the postmaster and every process it started (backends, writers, WAL)
    local total=0 pid
    for pid in $postmaster $(pgrep -P "$postmaster"); do total=$((total + $(ticks "$pid" 2>/dev/null || echo 0))); done
    echo "$total"
}
incidents() { psql "$db_url" -Atc 'SELECT count(*) FROM incidents'; }
per() { awk -v a="$1" -v b="$2" -v scale="$3" 'BEGIN { if (b > 0) printf "%.1f", a * scale / b; else print "-" }'; }

wait_for_port() { # LOG PID: the port from "serving IncidentService on HOST:PORT" (or "PORT n")
    local port
    for _ in $(seq 1 1200); do
        port=$(sed -n 's/.*serving IncidentService on 127.0.0.1:\([0-9]*\).*/\1/p; s/^PORT \([0-9]*\)$/\1/p' "$1" | head -1)
        [ -n "$port" ] && { echo "$port"; return 0; }
        kill -0 "$2" 2>/dev/null || break
        sleep 0.1
    done
    echo "server did not start:" >&2; cat "$1" >&2; return 1
}
load() { # PORT SECONDS WARMUP
    "$bin/incidentctl" bench --server "127.0.0.1:$1" --ca "$pki/ca.pem" --cert "$pki/llm-shield.pem" \
        --key "$pki/llm-shield.key" --json --method create --concurrency "$concurrency" \
        --connections "$connections" --duration "$2" --warmup "$3" --severity-mix "$mix" --duplicates 0 \
        --source llm-shield
}

# ---- (1) CPU per create ---------------------------------------------------------------
echo "(1) CPU per create: $concurrency callers over $connections connections for $seconds s, mix $mix"
DATABASE_URL="$db_url" GRPC_VERBOSITY=ERROR "$bin/incident-server" --listen 127.0.0.1:0 \
    --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --client-ca "$pki/ca.pem" > "$out/server.log" 2>&1 &
server_pid=$!
port=$(wait_for_port "$out/server.log" "$server_pid")
load "$port" 3 0 > "$out/warmup.json"
s0=$(ticks "$server_pid"); p0=$(postgres_ticks); c0=$(switches "$server_pid"); n0=$(incidents); t0=$(date +%s.%N)
load "$port" "$seconds" 0 > "$out/ours.json"
s1=$(ticks "$server_pid"); p1=$(postgres_ticks); c1=$(switches "$server_pid"); n1=$(incidents); t1=$(date +%s.%N)
kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
creates=$((n1 - n0))
us=$((1000000 / hz))
server_us=$(per $((s1 - s0)) "$creates" "$us"); postgres_us=$(per $((p1 - p0)) "$creates" "$us")
switches_per=$(per $((c1 - c0)) "$creates" 1)
rate=$(awk -v n="$creates" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
ours_p99=$("$python" -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["latency_us"].get("p99", 0) / 1000, 1))' "$out/ours.json")

"$reference" 127.0.0.1:0 "$pki/server.pem" "$pki/server.key" "$pki/ca.pem" > "$out/reference.log" 2>&1 &
server_pid=$!
port=$(wait_for_port "$out/reference.log" "$server_pid")
load "$port" 3 0 > /dev/null
r0=$(ticks "$server_pid")
load "$port" "$seconds" 0 > "$out/reference.json"
r1=$(ticks "$server_pid")
kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
ref_calls=$("$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["calls_ok"])' "$out/reference.json")
ref_us=$(per $((r1 - r0)) "$ref_calls" "$us")
ref_rate=$("$python" -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["calls_per_s"]))' "$out/reference.json")

echo "  ours: $rate creates/s, p99 $ours_p99 ms; server $server_us µs, Postgres $postgres_us µs, $switches_per switches per create"
echo "  C++ reference: $ref_rate calls/s, $ref_us µs per call"

# ---- (2) instructions per create --------------------------------------------------------
ir_per="-"; cg_done=0
if [ "$cg_creates" -gt 0 ]; then
    echo "(2) instructions per create: $cg_creates creates under callgrind ($cg_workers callers)"
    # valgrind 3.19 cannot read the DWARF 5 the Swift toolchain writes: count on a copy without debug info (the
    # instructions are the same).
    objcopy --strip-debug "$bin/incident-server" "$work/incident-server"
    DATABASE_URL="$db_url" GRPC_VERBOSITY=ERROR valgrind --tool=callgrind --instr-atstart=no \
        --callgrind-out-file="$work/callgrind.out" "$work/incident-server" --listen 127.0.0.1:0 \
        --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --client-ca "$pki/ca.pem" \
        > "$out/callgrind-server.log" 2>&1 &
    server_pid=$!
    port=$(wait_for_port "$out/callgrind-server.log" "$server_pid")
    # A first small batch warms the caches, prepared statements and connections before counting starts.
    "$python" "$here/fixed_batch.py" "127.0.0.1:$port" "$pki/ca.pem" "$pki/llm-shield.pem" "$pki/llm-shield.key" \
        20 "$cg_workers" > /dev/null
    sleep 1
    n0=$(incidents)
    callgrind_control --instr=on "$server_pid" > /dev/null
    "$python" "$here/fixed_batch.py" "127.0.0.1:$port" "$pki/ca.pem" "$pki/llm-shield.pem" "$pki/llm-shield.key" \
        "$cg_creates" "$cg_workers" | tee "$out/callgrind-batch.txt"
    # Jobs the creates started (notices, timers) run after the answers: give them a moment inside the window.
    sleep 2
    callgrind_control --instr=off "$server_pid" > /dev/null
    cg_done=$(( $(incidents) - n0 ))
    callgrind_control --dump "$server_pid" > /dev/null
    kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
    total=$(cat "$work"/callgrind.out* | awk '/^(summary|totals):/{ if ($2 > best) best = $2 } END { print best + 0 }')
    ir_per=$(per "$total" "$cg_done" 1)
fi

{
    echo "# CPU per durable create ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores)"
    echo
    echo "Load: incidentctl bench, $concurrency callers over $connections mTLS connections, $seconds s, mix $mix;"
    echo "make run's default config (jobs on, integrations in mock mode)."
    echo
    echo "| figure | ours | C++ in-memory reference |"
    echo "|---|---|---|"
    echo "| creates/s | $rate | $ref_rate calls/s |"
    echo "| p99 (ms) | $ours_p99 | |"
    echo "| server CPU per create (µs, utime+stime) | $server_us | $ref_us per call |"
    echo "| Postgres CPU per create (µs, all its processes) | $postgres_us | |"
    echo "| server thread switches per create | $switches_per | |"
    echo "| server instructions per create (callgrind, $cg_done creates) | $ir_per | |"
} > "$out/create-cpu.md"
cat "$out/create-cpu.md"
