# incident-manager: `make run` starts a ready server, `make test` proves it.
# Everything a target needs (system packages, certificates, a private Postgres, Python
# clients) is installed or started here, so a fresh Debian 12 machine needs nothing else.

SHELL        := /bin/bash
.SHELLFLAGS  := -eu -o pipefail -c
ROOT         := $(abspath .)
DEV          := $(ROOT)/.dev
SWIFT        ?= swift
CONFIG       ?= release
LISTEN       ?= 127.0.0.1:9090
HTTP_LISTEN  ?= 127.0.0.1:8443
METRICS_LISTEN ?= 127.0.0.1:9464

# ---- system packages -------------------------------------------------------
APT_PACKAGES := pkg-config openssl libssl-dev libgrpc-dev libgrpc++-dev libpq-dev \
                libprotobuf-c-dev libprotobuf-dev protobuf-compiler protobuf-c-compiler postgresql \
                python3 python3-venv g++ prometheus-alertmanager
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps
deps: $(DEV)/.apt-ok
$(DEV)/.apt-ok: Makefile
	@mkdir -p $(DEV)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing $$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	@touch $@

# ---- Python clients we did not write (grpcio, grpcurl) ---------------------
VENV := $(DEV)/venv
PY   := $(VENV)/bin/python
.PHONY: pyenv
pyenv: $(VENV)/.ok
$(VENV)/.ok: $(DEV)/.apt-ok Tests/requirements.txt
	@python3 -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check -r Tests/requirements.txt
	@touch $@

# ---- development certificates ----------------------------------------------
.PHONY: certs
certs: $(DEV)/.apt-ok
	@bash certs/make-dev-certs.sh

# ---- private Postgres for this checkout ------------------------------------
# initdb refuses root: as root the cluster runs as the packaged `postgres` user.
PG_BIN   := $(shell ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PG_DATA  := $(DEV)/pg/data
PG_SOCK  := $(DEV)/pg/sock
PG_PORT_FILE := $(DEV)/pg/port
AS_PG    := $(shell [ "$$(id -u)" = 0 ] && echo "runuser -u postgres --")
# A DATABASE_URL in the environment names an existing database: then no private cluster is started.
DB_URL = $${DATABASE_URL:-postgresql://incident@127.0.0.1:$$(cat $(PG_PORT_FILE))/incidents}

.PHONY: db-start db-stop db-url
db-start: $(DEV)/.apt-ok
	@if [ -n "$${DATABASE_URL:-}" ]; then echo "db: using DATABASE_URL from the environment"; exit 0; fi; \
	pg_bin=$$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1); \
	mkdir -p $(DEV)/pg $(PG_SOCK); \
	if [ "$$(id -u)" = 0 ]; then chown postgres $(DEV)/pg $(PG_SOCK); fi; \
	if [ ! -f $(PG_DATA)/PG_VERSION ]; then \
	  $(AS_PG) $$pg_bin/initdb -D $(PG_DATA) -U incident --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null; \
	fi; \
	if ! $(AS_PG) $$pg_bin/pg_ctl -D $(PG_DATA) status >/dev/null 2>&1; then \
	  port=$$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'); \
	  echo $$port > $(PG_PORT_FILE); \
	  $(AS_PG) $$pg_bin/pg_ctl -D $(PG_DATA) -l $(DEV)/pg/log -w -t 60 start \
	    -o "-p $$port -k $(PG_SOCK) -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on" >/dev/null; \
	  $$pg_bin/createdb -h 127.0.0.1 -p $$port -U incident incidents 2>/dev/null || true; \
	fi; \
	echo "db: postgresql://incident@127.0.0.1:$$(cat $(PG_PORT_FILE))/incidents"

db-stop:
	@if [ -n "$${DATABASE_URL:-}" ]; then exit 0; fi; \
	pg_bin=$$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1); \
	if [ -f $(PG_DATA)/PG_VERSION ]; then $(AS_PG) $$pg_bin/pg_ctl -D $(PG_DATA) -m fast stop >/dev/null 2>&1 || true; fi

db-url:
	@echo "$(DB_URL)"

# ---- build, run, test ------------------------------------------------------
.PHONY: build run test test-swift test-interop bench bench-store clean
build: deps
	$(SWIFT) build -c $(CONFIG)

# Only the server is built for `make run` (release); `swift run incidentctl` builds the CLI on first use.
run: deps certs pyenv db-start
	$(SWIFT) build -c $(CONFIG) --product incident-server
	@echo "incident-server on $(LISTEN) (mTLS, certs in certs/), HTTP on https://$(HTTP_LISTEN), metrics on http://$(METRICS_LISTEN)/metrics; Ctrl-C stops it"
	DATABASE_URL="$(DB_URL)" $$($(SWIFT) build -c $(CONFIG) --show-bin-path)/incident-server --listen $(LISTEN) --certs certs \
	  --http-listen $(HTTP_LISTEN) --metrics-listen $(METRICS_LISTEN)

# `make test` stops the Postgres it started, whatever the tests' outcome.
test: deps certs pyenv
	@$(MAKE) --no-print-directory db-start
	@status=0; \
	DATABASE_URL="$(DB_URL)" $(MAKE) --no-print-directory test-swift test-interop test-e2e test-faults-short \
	  || status=$$?; \
	$(MAKE) --no-print-directory db-stop; exit $$status

test-swift:
	$(SWIFT) build --build-tests
	INCIDENT_TEST_PYTHON=$(PY) $(SWIFT) test --skip-build

test-interop: test-interop-rpc

.PHONY: golden
# Rewrites the generator's golden files (Tests/ProtoSyntaxTests/Golden/*.swift.golden) from Protos/, after an
# intended change to the generator or the protos; review the diff before committing it.
golden:
	PROTO_GOLDEN_UPDATE=1 $(SWIFT) test --filter GeneratorGoldenTests

.PHONY: test-e2e
# incident-server end to end from Python grpcio over mTLS, on a private database of the Postgres `make test`
# started (alone: `make test-e2e` starts and stops it too).
test-e2e: pyenv
	@if [ -z "$${DATABASE_URL:-}" ]; then \
	  $(MAKE) --no-print-directory db-start >/dev/null; status=0; \
	  DATABASE_URL="$(DB_URL)" $(MAKE) --no-print-directory test-e2e || status=$$?; \
	  $(MAKE) --no-print-directory db-stop; exit $$status; \
	fi; \
	$(SWIFT) build --product incident-server; \
	$(SWIFT) build --product incidentctl; \
	INCIDENT_SERVER="$$($(SWIFT) build --show-bin-path)/incident-server" \
	INCIDENTCTL="$$($(SWIFT) build --show-bin-path)/incidentctl" $(PY) -m pytest -q Tests/e2e

.PHONY: test-faults test-faults-short
# Faults (kill -9, Postgres stopped, streams cut, SIGTERM under load) and abuse (fuzzed bodies, oversized messages,
# connection and handshake floods, unread streams) against incident-server from Python grpcio. The tests start a
# Postgres cluster of their own (they stop it on purpose). `make test` runs the short versions; `make test-faults`
# the long ones (about 7 minutes), sized by the FAULTS_*, FUZZ_* and ABUSE_* knobs listed in Tests/faults/harness.py.
test-faults-short: pyenv
	$(SWIFT) build --product incident-server
	INCIDENT_SERVER="$$($(SWIFT) build --show-bin-path)/incident-server" $(PY) -m pytest -q Tests/faults

test-faults: pyenv
	$(SWIFT) build --product incident-server
	FAULTS_LONG=1 INCIDENT_SERVER="$$($(SWIFT) build --show-bin-path)/incident-server" \
	  $(PY) -m pytest -q -s -rA Tests/faults

.PHONY: bench-rpc test-interop-rpc
# Unary calls/s, p50/p90/p99, server CPU and peak RSS: our Swift server vs a C++ server on the same core.
BENCH_SECONDS ?= 8
bench-rpc: deps $(DEV)/rpc-reference-server
	$(SWIFT) build -c release --product rpc-interop-server
	$(SWIFT) build -c release --product rpc-bench
	bash Tests/Benchmarks/RPCBench/run-bench.sh "$$($(SWIFT) build -c release --show-bin-path)" \
	  $(DEV)/rpc-reference-server $(BENCH_SECONDS)

# The RPC layer against Python grpcio (BoringSSL): mTLS unary and streaming calls, refused certificates,
# signals (SIGTERM/SIGINT drain, SIGHUP reload).
test-interop-rpc: pyenv
	$(SWIFT) build --product rpc-interop-server
	RPC_INTEROP_SERVER="$$($(SWIFT) build --show-bin-path)/rpc-interop-server" $(PY) -m pytest -q Tests/interop

# Group-commit inserts/s at 64 and 256 callers beside pgbench (one transaction per incident), same run; then
# correlation off against on with 10% of the events folded (each averaged over two alternated runs).
# BENCH_SECONDS and BENCH_CONCURRENCY (e.g. 64,256) tune it. Uses its own database on the private cluster.
bench-store: deps
	@$(MAKE) --no-print-directory db-start
	$(SWIFT) build -c release --product StoreBenchmark
	@url="$(DB_URL)"; \
	if [ -z "$${DATABASE_URL:-}" ]; then \
	  $(PG_BIN)/createdb -h 127.0.0.1 -p $$(cat $(PG_PORT_FILE)) -U incident incident_bench 2>/dev/null || true; \
	  url="postgresql://incident@127.0.0.1:$$(cat $(PG_PORT_FILE))/incident_bench"; \
	fi; \
	DATABASE_URL="$$url" PGBENCH=$(PG_BIN)/pgbench $$($(SWIFT) build -c release --show-bin-path)/StoreBenchmark

# The C++ reference server (Debian's libgrpc++, callback generic service) bench-rpc and bench-scenarios compare with.
$(DEV)/rpc-reference-server: Tests/Reference/rpc-reference-server.cc $(DEV)/.apt-ok
	g++ -O2 -std=c++17 -o $@ $< $$(pkg-config --cflags --libs grpc++ grpc)

# matplotlib draws bench-results/latency.png; only the benchmarks need it, so `make test` does not install it.
.PHONY: bench-pyenv bench-scenarios
bench-pyenv: $(VENV)/.bench-ok
$(VENV)/.bench-ok: $(VENV)/.ok
	@$(PY) -m pip install -q --disable-pip-version-check matplotlib
	@touch $@

# The scenarios of issue 7 (Tests/Benchmarks/Scenarios): `incidentctl bench` against a fresh release incident-server
# on a fresh database of the private Postgres, interleaved with the C++ reference; writes bench-results/RESULTS.md
# and bench-results/latency.png. BENCH_SECONDS (per run) and BENCH_SOAK_SECONDS (600) tune the length; the other
# BENCH_* knobs are listed at the top of run-scenarios.sh.
BENCH_SOAK_SECONDS ?= 600
bench-scenarios: deps certs pyenv bench-pyenv $(DEV)/rpc-reference-server
	$(SWIFT) build -c release --product incident-server
	$(SWIFT) build -c release --product incidentctl
	@$(MAKE) --no-print-directory db-start
	@status=0; BENCH_SECONDS=$(BENCH_SECONDS) BENCH_SOAK_SECONDS=$(BENCH_SOAK_SECONDS) \
	bash Tests/Benchmarks/Scenarios/run-scenarios.sh "$$($(SWIFT) build -c release --show-bin-path)" \
	  $(DEV)/rpc-reference-server "$(DB_URL)" $(ROOT)/bench-results $(PY) || status=$$?; \
	$(MAKE) --no-print-directory db-stop; exit $$status

# Every benchmark, one after the other (each reports beside its reference on the same machine).
bench: bench-scenarios bench-rpc bench-codec bench-store bench-p0 bench-create-cpu bench-http

.PHONY: bench-p0
# P0 create-to-page latency (p50/p99/max) alone and under an open-loop flood of low-severity creates at twice what
# the server writes, PagerDuty live toward a loopback receiver; table in bench-results/p0-flood.md.
# P0_BENCH_FLAGS passes flags to p0-flood-bench (e.g. --p0-events 100 --p0-rate 10 --flood-factor 2).
bench-p0: deps certs
	@$(MAKE) --no-print-directory db-start
	$(SWIFT) build -c release --product incident-server
	$(SWIFT) build -c release --product p0-flood-bench
	bash Tests/Benchmarks/P0FloodBench/run-p0-bench.sh "$$($(SWIFT) build -c release --show-bin-path)" \
	  $(PG_BIN) "$(DB_URL)" $(P0_BENCH_FLAGS)

.PHONY: bench-http
# Sentinel REST creates/s and p99 (wrk over HTTPS keep-alive) beside gRPC creates (incidentctl bench, mTLS) at
# BENCH_CONCURRENCY (64) against one release incident-server, interleaved for BENCH_ROUNDS (2) rounds of
# BENCH_SECONDS; goal REST >= 0.7x gRPC. Then WS_AGENTS (4) Edge Agents on the WebSocket sending batches of WS_BATCH
# (100) events. Table in bench-results/http-bench.md.
bench-http: deps certs pyenv
	@command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk >/dev/null
	$(SWIFT) build -c release --product incident-server
	$(SWIFT) build -c release --product incidentctl
	@$(MAKE) --no-print-directory db-start
	@status=0; BENCH_SECONDS=$(BENCH_SECONDS) bash Tests/Benchmarks/HTTPBench/run-http-bench.sh \
	  "$$($(SWIFT) build -c release --show-bin-path)" "$(DB_URL)" $(ROOT)/bench-results $(PY) || status=$$?; \
	$(MAKE) --no-print-directory db-stop; exit $$status

.PHONY: bench-create-cpu
# What one durable create costs: server and Postgres CPU per create (/proc, under incidentctl bench at 64 callers),
# server thread switches per create, and server instructions per create (callgrind around a fixed batch), beside
# the C++ reference's CPU per call; table in bench-results/create-cpu.md. CPU_SECONDS, CPU_CONCURRENCY,
# CALLGRIND_CREATES (0 skips callgrind) tune it (see Tests/Benchmarks/CreateCPU/run-create-cpu.sh).
bench-create-cpu: deps certs pyenv $(DEV)/rpc-reference-server
	@command -v valgrind >/dev/null || DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq valgrind >/dev/null
	$(SWIFT) build -c release --product incident-server
	$(SWIFT) build -c release --product incidentctl
	@$(MAKE) --no-print-directory db-start
	@status=0; bash Tests/Benchmarks/CreateCPU/run-create-cpu.sh "$$($(SWIFT) build -c release --show-bin-path)" \
	  $(DEV)/rpc-reference-server "$(DB_URL)" $(ROOT)/bench-results $(PY) || status=$$?; \
	$(MAKE) --no-print-directory db-stop; exit $$status

# ---- protobuf codec: benchmark beside libprotobuf-c, fuzzing ---------------
CODEC_WORK := $(ROOT)/.build-codec-tools
CODEC_C_PROTOS := incident_manager.proto incident_types.proto

# protoc-c 1.4 rejects proto3 `optional`; a copy without it has the same wire format.
$(CODEC_WORK)/c/incident_manager.pb-c.c: $(addprefix Protos/,$(CODEC_C_PROTOS)) $(DEV)/.apt-ok
	@mkdir -p $(CODEC_WORK)/c
	@for p in $(CODEC_C_PROTOS); do sed 's/^  optional /  /' Protos/$$p > $(CODEC_WORK)/c/$$p; done
	protoc-c -I $(CODEC_WORK)/c --c_out=$(CODEC_WORK)/c $(CODEC_C_PROTOS)

.PHONY: bench-redact
# CPU µs of PII redaction per 16 KiB for the once-quadratic inputs and an ordinary description (figures only).
bench-redact: deps
	$(SWIFT) build -c release --product redact-bench
	$$($(SWIFT) build -c release --show-bin-path)/redact-bench $${BENCH_SECONDS_PER_INPUT:-0.5}

.PHONY: bench-codec fuzz-codec
bench-codec: deps $(CODEC_WORK)/c/incident_manager.pb-c.c
	cc -O2 -I $(CODEC_WORK)/c -o $(CODEC_WORK)/codec_bench_c Tests/Benchmarks/CodecBenchmarkC/codec_bench.c \
	  $(CODEC_WORK)/c/incident_manager.pb-c.c $(CODEC_WORK)/c/incident_types.pb-c.c -lprotobuf-c
	$(SWIFT) build -c release --product codec-bench
	@# BENCH_RUNS interleaved rounds; each side keeps its best round, so a burst of load from other work on the
	@# machine during one round does not decide the ratio.
	@bin=$$($(SWIFT) build -c release --show-bin-path); : > $(CODEC_WORK)/bench.txt; \
	for run in $$(seq $${BENCH_RUNS:-5}); do \
	  $(CODEC_WORK)/codec_bench_c $${BENCH_ITERATIONS:-300000}; $$bin/codec-bench $${BENCH_ITERATIONS:-300000}; \
	done | tee $(CODEC_WORK)/bench.txt
	@awk '/ns\/msg/ { k = $$1" "$$2; if (!(k in ns) || $$5 < ns[k]) ns[k] = $$5 } END { \
	  printf "best of %d rounds, ns/msg: protobuf-c encode %s decode %s, swift encode %s decode %s\n", \
	    '"$${BENCH_RUNS:-5}"', ns["protobuf-c encode"], ns["protobuf-c decode"], ns["swift encode"], ns["swift decode"]; \
	  printf "swift/protobuf-c speed: encode %.0f%%, decode %.0f%% (goal >= 70%%)\n", \
	    100 * ns["protobuf-c encode"] / ns["swift encode"], 100 * ns["protobuf-c decode"] / ns["swift decode"] }' \
	  $(CODEC_WORK)/bench.txt

# libFuzzer over every IncidentAPI message decoder (binary and JSON). Not part of `make test`.
# FUZZ_SECONDS bounds the run; crashes land in $(CODEC_WORK)/fuzz/.
fuzz-codec: deps
	$(SWIFT) build --product proto-codegen
	@rm -rf $(CODEC_WORK)/fuzz/gen && mkdir -p $(CODEC_WORK)/fuzz/gen $(CODEC_WORK)/fuzz/corpus
	@bin=$$($(SWIFT) build --show-bin-path); protos=$$(cd Protos && find . -name '*.proto' | sed 's|^\./||' | sort); \
	for p in $$protos; do \
	  $$bin/proto-codegen --proto-path Protos --no-services --output $(CODEC_WORK)/fuzz/gen/$$(echo $${p%.proto} | tr / _).pb.swift $$p $$protos; \
	done; \
	$$bin/proto-codegen --proto-path Protos --no-services --output $(CODEC_WORK)/fuzz/gen/ProtoFileIndex.pb.swift --index $$protos; \
	sed -i '/^public import ProtoWire$$/d' $(CODEC_WORK)/fuzz/gen/*.swift
	$(SWIFT)c -O -sanitize=fuzzer,address -parse-as-library -module-name CodecFuzz -o $(CODEC_WORK)/fuzz/codec-fuzz \
	  $$(find Sources/ProtoWire -name '*.swift') $(CODEC_WORK)/fuzz/gen/*.swift Tests/Benchmarks/CodecFuzz/FuzzEntry.swift
	cd $(CODEC_WORK)/fuzz && ./codec-fuzz -max_total_time=$${FUZZ_SECONDS:-60} -max_len=4096 corpus

clean: db-stop
	rm -rf .build $(DEV) $(CODEC_WORK)
