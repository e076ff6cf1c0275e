#!/usr/bin/env bash
# make bench-http: Sentinel REST creates (wrk, HTTPS keep-alive, POST /api/v1/events/sentinel) beside gRPC creates
# (incidentctl bench, mTLS) against the same release incident-server on a fresh database, at the same concurrency,
# interleaved round by round so load from other work on the machine hits both alike. Both send severity medium
# (P2: no page), unique event ids, and go through the same intake and group commit. Goal: REST >= 0.7x gRPC.
#
#   run-http-bench.sh BIN_DIR DATABASE_URL OUT_DIR PYTHON
#
# Environment: BENCH_SECONDS (10 per run), BENCH_CONCURRENCY (64), BENCH_ROUNDS (2), BENCH_CONNECTIONS (4, gRPC).
set -euo pipefail
bin=${1:?BIN_DIR}; admin_url=${2:?DATABASE_URL}; out=${3:?OUT_DIR}; python=${4:?PYTHON}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
seconds=${BENCH_SECONDS:-10}; concurrency=${BENCH_CONCURRENCY:-64}; rounds=${BENCH_ROUNDS:-2}
connections=${BENCH_CONNECTIONS:-4}

mkdir -p "$out"
work=$(mktemp -d /tmp/incident-http-bench.XXXXXX)
pki=$work/pki
bash "$root/Tests/IncidentServerTests/Fixtures/make-service-pki.sh" "$pki" >/dev/null
database="im_http_bench_$(date +%s)_$$"
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

# The guide's Sentinel block without its rate limit (the benchmark measures the door, not the limiter); an Edge
# Agent identity with a JWT key for the WebSocket run; llm-shield for the gRPC runs.
key="bench-$(openssl rand -hex 16)"
openssl genrsa -out "$work/jwt.key" 2048 2>/dev/null
openssl rsa -in "$work/jwt.key" -pubout -out "$work/jwt.pub.pem" 2>/dev/null
cat > "$work/config.yaml" <<YAML
identities:
  llm-shield: {permissions: [event:create]}
  edge-agent: {permissions: [event:create], sources: [llm-edge-agent]}
tokens:
  jwt:
    issuer: https://bench.issuer
    audience: incident-manager
    keys:
      - {algorithm: RS256, public_key_file: "$work/jwt.pub.pem"}
integrations:
  llm-sentinel:
    authentication:
      type: api_key
      api_keys:
        - {key_id: bench, key_hash: $(printf %s "$key" | sha256sum | cut -d' ' -f1), permissions: ["event:create"]}
YAML
DATABASE_URL="$db_url" GRPC_VERBOSITY=ERROR "$bin/incident-server" --config "$work/config.yaml" \
    --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" \
    --client-ca "$pki/ca.pem" > "$out/http-bench-server.log" 2>&1 &
server_pid=$!
grpc_port=; http_port=
for _ in $(seq 1 1200); do
    grpc_port=$(sed -n 's/.*serving IncidentService on 127.0.0.1:\([0-9]*\).*/\1/p' "$out/http-bench-server.log" | head -1)
    http_port=$(sed -n 's/.*serving HTTP on 127.0.0.1:\([0-9]*\).*/\1/p' "$out/http-bench-server.log" | head -1)
    [ -n "$grpc_port" ] && [ -n "$http_port" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$out/http-bench-server.log" >&2; exit 1; }
    sleep 0.1
done

export BENCH_API_KEY=$key
export BENCH_BODY_TEMPLATE=$("$python" -c 'import json, sys
event = json.load(open(sys.argv[1])); event["event_id"] = "EVENT_ID"; event["severity"] = "medium"
print(json.dumps(event, separators=(",", ":")))' "$root/Protos/examples/sentinel-event.json")
grpc() { # SECONDS WARMUP -> JSON
    "$bin/incidentctl" bench --server "127.0.0.1:$grpc_port" --ca "$pki/ca.pem" --cert "$pki/llm-shield.pem" \
        --key "$pki/llm-shield.key" --json --method create --concurrency "$concurrency" \
        --connections "$connections" --duration "$1" --warmup "$2" --severity-mix medium=1 --duplicates 0 \
        --source llm-shield
}
rest() { # SECONDS RUN -> wrk's report (threads: the two cores; connections: the concurrency)
    BENCH_RUN=$2 wrk -t2 -c"$concurrency" -d"${1}s" --latency --timeout 30s -s "$here/sentinel-post.lua" \
        "https://127.0.0.1:$http_port"
}
grpc 3 0 > /dev/null
rest 3 "warm-$$" > /dev/null
results=()
for round in $(seq 1 "$rounds"); do
    grpc "$seconds" 0 > "$out/grpc-$round.json"
    rest "$seconds" "r$round-$$" > "$out/rest-$round.txt"
    g_rate=$("$python" -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["calls_per_s"]))' "$out/grpc-$round.json")
    g_p99=$("$python" -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["latency_us"].get("p99", 0) / 1000, 1))' "$out/grpc-$round.json")
    g_errors=$("$python" -c 'import json,sys; d = json.load(open(sys.argv[1])); print(d.get("calls_failed", d.get("errors", 0)))' "$out/grpc-$round.json" 2>/dev/null || echo "?")
    r_rate=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out/rest-$round.txt")
    r_p99=$(awk '$1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us$/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v *= 1000}; printf "%.1f", v}' "$out/rest-$round.txt")
    r_bad=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$out/rest-$round.txt"); r_bad=${r_bad:-0}
    r_socket=$(awk '/Socket errors:/ {print $0}' "$out/rest-$round.txt")
    ratio=$(awk -v r="$r_rate" -v g="$g_rate" 'BEGIN { if (g > 0) printf "%.2f", r / g; else print "-" }')
    line="round $round: gRPC $g_rate creates/s p99 $g_p99 ms (failed: $g_errors) | REST $r_rate creates/s p99 $r_p99 ms (non-2xx: $r_bad${r_socket:+; $r_socket}) | REST/gRPC $ratio"
    echo "$line"
    results+=("$line")
done
# Edge Agents: WS_AGENTS connections sending batches of WS_BATCH events, each batch's acks awaited before the next.
token=$("$python" - "$work/jwt.key" <<'PY'
import base64, json, subprocess, sys, time
b64 = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()
now = int(time.time())
signing = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(
    {"sub": "edge-agent", "iss": "https://bench.issuer", "aud": "incident-manager", "iat": now,
     "exp": now + 3600}).encode())
signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", sys.argv[1]], input=signing.encode(),
                           capture_output=True, check=True).stdout
print(signing + "." + b64(signature))
PY
)
ws=$("$python" "$here/ws_batch_agent.py" "wss://127.0.0.1:$http_port/ws/events" "$pki/ca.pem" "$token" "$seconds" \
     "${WS_AGENTS:-4}" "${WS_BATCH:-100}" "ws-$$")
ws_line=$("$python" -c 'import json, sys; d = json.loads(sys.argv[1])
print("WebSocket: {agents} agents, batches of {batch_size}: {events_per_s} events/s, batch round trip p50 "
      "{batch_p50_ms} ms p99 {batch_p99_ms} ms ({batches} batches, errors: {errors} {first_error})".format(**d))' "$ws")
echo "$ws_line"
results+=("$ws_line")
created=$(psql "$db_url" -Atc "SELECT count(*) FROM incidents WHERE source = 'llm-sentinel'")
echo "Sentinel incidents written (warm-up and rounds): $created"
{
    echo "# make bench-http: $concurrency concurrent, $seconds s per run, severity medium, $(nproc) cores"
    printf '%s\n' "${results[@]}"
    echo "Sentinel incidents written (warm-up and rounds): $created"
} > "$out/http-bench.md"
