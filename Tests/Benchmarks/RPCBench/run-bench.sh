#!/usr/bin/env bash
# make bench-rpc: the same Swift load generator (rpc-bench) against our Swift server and against the
# C++ reference server on the same C core, at 64 and 256 concurrent unary calls over mTLS.
# Reports calls/s, p50/p90/p99, errors, and each server's CPU (utime+stime from /proc/<pid>/stat over
# the run) and peak RSS (VmHWM).
#   run-bench.sh BIN_DIR REFERENCE_SERVER [SECONDS] [CONNECTIONS]
set -euo pipefail
bin=${1:?BIN_DIR}; reference=${2:?REFERENCE_SERVER}; seconds=${3:-8}; connections=${4:-2}
here=$(cd "$(dirname "$0")" && pwd)
pki=$(mktemp -d /tmp/rpc-bench-pki.XXXXXX)
trap 'rm -rf "$pki"' EXIT
bash "$here/../../RPCTests/Fixtures/make-test-pki.sh" "$pki"
ticks=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start_server() { # label command... ; sets PID_<label> and PORT_<label>
    local label=$1; shift
    local out="$pki/$label.out"
    "$@" > "$out" &
    local pid=$!
    for _ in $(seq 1 100); do grep -q '^PORT ' "$out" && break; sleep 0.1; done
    local port; port=$(awk '/^PORT /{print $2}' "$out")
    [ -n "$port" ] || { echo "$label server did not start"; kill "$pid"; exit 1; }
    eval "PID_$label=$pid PORT_$label=$port"
}

measure() { # label concurrency
    local label=$1 concurrency=$2
    local pid port; eval "pid=\$PID_$label port=\$PORT_$label"
    local before start end after result
    before=$(cpu_ticks "$pid"); start=$(date +%s.%N)
    result=$("$bin/rpc-bench" --target "127.0.0.1:$port" --ca "$pki/ca.pem" --cert "$pki/client.pem" \
        --key "$pki/client.key" --concurrency "$concurrency" --duration "$seconds" --warmup 2 \
        --connections "$connections")
    end=$(date +%s.%N); after=$(cpu_ticks "$pid")
    # Server CPU over the whole run (warm-up included, same load); calls per server CPU-second is the
    # figure least disturbed by other work on a shared machine.
    local cpu rate
    cpu=$(awk -v t="$((after - before))" -v hz="$ticks" -v s="$start" -v e="$end" \
        'BEGIN { printf "%.0f", 100 * t / hz / (e - s) }')
    rate=$(sed -E 's/.*calls_per_s=([0-9]+).*/\1/' <<< "$result")
    echo "$label $result server_cpu_pct=$cpu server_calls_per_cpu_s=$(( cpu > 0 ? rate * 100 / cpu : 0 ))"
}

start_server swift "$bin/rpc-interop-server" --listen 127.0.0.1:0 --cert "$pki/server.pem" \
    --key "$pki/server.key" --client-ca "$pki/ca.pem"
start_server cpp "$reference" 127.0.0.1:0 "$pki/server.pem" "$pki/server.key" "$pki/ca.pem"
trap 'kill -TERM $PID_swift $PID_cpp 2>/dev/null || true; rm -rf "$pki"' EXIT

# Interleaved, so a change in the machine's other load hits both servers alike.
for concurrency in 64 256; do
    measure swift "$concurrency"
    measure cpp "$concurrency"
done
for label in swift cpp; do
    eval "pid=\$PID_$label"
    echo "$label server_peak_rss_kb=$(awk '/VmHWM/{print $2}' "/proc/$pid/status")"
done
kill -TERM "$PID_swift" "$PID_cpp"
wait "$PID_swift" "$PID_cpp" || true
