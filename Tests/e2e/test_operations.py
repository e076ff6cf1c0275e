"""Operating the real incident-server: Prometheus metrics scraped over HTTP (parsed with prometheus-client's
exposition parser) after calls from Python grpcio over mTLS, and the JSON log lines: each parses, carries the call's
request id and the incident id, and holds no token, secret, payload or PII."""
import base64
import hashlib
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import RunningServer

API_KEY = "im-ops-" + secrets.token_hex(16)
EMAIL = f"victim.{secrets.token_hex(4)}@example.com"
PHONE = "+1 415 555 0199"
PAYLOAD = b"OPS-PAYLOAD-" + secrets.token_hex(8).encode()
SERVICE = "incident_manager.IncidentService"


@pytest.fixture(scope="module")
def ops_server(pki, database_url, tmp_path_factory):
    """incident-server with metrics on a free port and JSON logs, and an API key identity."""
    directory = tmp_path_factory.mktemp("ops-server")
    config = directory / "config.yaml"
    config.write_text(f"""
identities:
  llm-shield: {{permissions: [event:create]}}
  secops: {{permissions: [event:create, incident:read, incident:read_payload, incident:update, incident:stream]}}
  viewer: {{permissions: [incident:read, incident:stream]}}
  ci-bot: {{permissions: [event:create, incident:read], sources: [llm-shield]}}  # files events for llm-shield
tokens:
  api_keys:
    - identity: ci-bot
      sha256: {hashlib.sha256(API_KEY.encode()).hexdigest()}
""")
    running = RunningServer(pki, database_url, directory / "server.log", config=config,
                            extra_env={"INCIDENT_METRICS_LISTEN": "127.0.0.1:0", "INCIDENT_LOG_FORMAT": "json",
                                       "INCIDENT_LOG_LEVEL": "info"})
    log = (directory / "server.log").read_text()
    found = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", log)
    assert found, f"no metrics line in the log:\n{log}"
    running.metrics_url = f"http://127.0.0.1:{found.group(1)}/metrics"
    yield running
    assert running.stop() == 0


@pytest.fixture
def stub(ops_server, pki, api):
    pb2, pb2_grpc = api
    opened = []

    def open_stub(identity):
        credentials = grpc.ssl_channel_credentials(
            root_certificates=(pki / "ca.pem").read_bytes(),
            private_key=(pki / f"{identity}.key").read_bytes(),
            certificate_chain=(pki / f"{identity}.pem").read_bytes())
        channel = grpc.secure_channel(f"127.0.0.1:{ops_server.port}", credentials)
        opened.append(channel)
        return pb2_grpc.IncidentServiceStub(channel)

    yield open_stub
    for channel in opened:
        channel.close()


def event(pb2, severity="high", **fields):
    return pb2.CreateIncidentRequest(
        event_id="ops-" + uuid.uuid4().hex, source="llm-shield", title="Prompt Injection Detected",
        severity=severity, category="security", event_type="violation", encrypted_payload=b"\x01", **fields)


def scrape(url):
    """name -> list of (labels, value) for every sample in the exposition."""
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def value(samples, name, **labels):
    matching = [v for found, v in samples.get(name, []) if all(found.get(k) == want for k, want in labels.items())]
    return sum(matching) if matching else None


def test_call_counters_and_latency_histograms(api, stub, ops_server):
    pb2, _ = api
    shield, viewer = stub("llm-shield"), stub("viewer")
    before = scrape(ops_server.metrics_url)
    ok_before = value(before, "incident_rpc_calls_total", service=SERVICE, method="CreateIncident", code="OK") or 0
    for _ in range(3):
        shield.CreateIncident(event(pb2), timeout=30)
    with pytest.raises(grpc.RpcError) as denied:
        viewer.CreateIncident(event(pb2), timeout=30)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED

    after = scrape(ops_server.metrics_url)
    assert value(after, "incident_rpc_calls_total", service=SERVICE, method="CreateIncident", code="OK") \
        == ok_before + 3
    assert value(after, "incident_rpc_calls_total", method="CreateIncident", code="PERMISSION_DENIED") >= 1

    count = value(after, "incident_rpc_duration_seconds_count", service=SERVICE, method="CreateIncident")
    assert count is not None and count >= 4, "each finished CreateIncident is timed, whatever its status"
    buckets = sorted(((float(labels["le"]), v) for labels, v in after["incident_rpc_duration_seconds_bucket"]
                      if labels.get("method") == "CreateIncident"), key=lambda pair: pair[0])
    assert len(buckets) > 5 and buckets[-1][0] == float("inf") and buckets[-1][1] == count
    assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), "cumulative buckets never decrease"
    assert value(after, "incident_rpc_duration_seconds_sum", method="CreateIncident") > 0


def test_queue_pool_and_job_gauges_are_exposed(api, stub, ops_server):
    pb2, _ = api
    stub("llm-shield").CreateIncident(event(pb2, severity="critical"), timeout=30)
    deadline = time.monotonic() + 20
    while True:
        samples = scrape(ops_server.metrics_url)
        if value(samples, "incident_jobs_total") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    for priority in ("P0", "P1", "P2", "P3", "P4"):
        assert value(samples, "incident_admission_queue_depth", priority=priority) is not None, priority
        assert value(samples, "incident_admission_refusals_total", priority=priority) is not None, priority
        for state in ("ready", "running"):
            assert value(samples, "incident_job_queue_depth", priority=priority, state=state) is not None
    assert value(samples, "incident_db_pool_connections") >= 1
    assert value(samples, "incident_db_pool_connections_busy") is not None
    assert value(samples, "incident_jobs_total", outcome="done"), "the critical incident's jobs ran and are counted"


def test_stream_subscriber_gauge_follows_open_streams(api, stub, ops_server):
    pb2, _ = api
    secops = stub("secops")
    stub("llm-shield").CreateIncident(event(pb2), timeout=30)
    assert value(scrape(ops_server.metrics_url), "incident_stream_subscribers") == 0
    call = secops.StreamIncidents(pb2.StreamIncidentsRequest(since_position=0), timeout=60)
    next(call)  # the stream is open; it joins the live hub once its replay of the log is done
    deadline = time.monotonic() + 15
    while value(scrape(ops_server.metrics_url), "incident_stream_subscribers") != 1:
        assert time.monotonic() < deadline, "the subscriber gauge did not count the open stream"
        time.sleep(0.1)
    call.cancel()
    deadline = time.monotonic() + 15
    while value(scrape(ops_server.metrics_url), "incident_stream_subscribers") != 0:
        assert time.monotonic() < deadline, "the subscriber gauge did not drop after the stream was cancelled"
        time.sleep(0.2)
    samples = scrape(ops_server.metrics_url)
    assert value(samples, "incident_rpc_calls_total", method="StreamIncidents", code="CANCELLED") >= 1


def test_other_paths_are_not_found(ops_server):
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(ops_server.metrics_url.replace("/metrics", "/other"), timeout=10)
    assert missing.value.code == 404


def test_json_log_lines_carry_ids_and_no_secrets(api, stub, ops_server):
    pb2, _ = api
    request_id = "ops-e2e-" + uuid.uuid4().hex
    request = event(pb2, severity="high")
    request.title = f"Prompt injection by {EMAIL}"
    request.description = f"user {EMAIL} phoned from {PHONE}; api key {API_KEY}"
    request.encrypted_payload = PAYLOAD
    created, call = stub("llm-shield").CreateIncident.with_call(
        request, timeout=30, metadata=(("x-request-id", request_id), ("authorization", f"Bearer {API_KEY}")))
    assert dict(call.initial_metadata())["x-request-id"] == request_id
    _, generated = stub("llm-shield").CreateIncident.with_call(event(pb2), timeout=30)
    assert re.fullmatch(r"[0-9a-f]{32}", dict(generated.initial_metadata())["x-request-id"])
    # A request id that could forge log structure is replaced, not echoed.
    _, forged = stub("llm-shield").CreateIncident.with_call(
        event(pb2), timeout=30, metadata=(("x-request-id", 'x","level":"error'),))
    assert re.fullmatch(r"[0-9a-f]{32}", dict(forged.initial_metadata())["x-request-id"])

    time.sleep(0.5)
    lines = ops_server.log_path.read_text().splitlines()
    records = []
    for line in lines:
        if not line.startswith("{"):
            continue  # the gRPC core's own diagnostics, if any
        record = json.loads(line)
        assert {"ts", "level", "msg", "logger"} <= record.keys(), line
        records.append(record)
    assert len(records) >= 3 and len(records) >= len(lines) - 2, "the server's lines are JSON"
    mine = [r for r in records if r.get("request_id") == request_id]
    assert mine, "the create's log line carries the client's request id"
    # The call carried ci-bot's API key over llm-shield's certificate: its lines name the identity it acted as.
    assert any(r.get("incident_id") == created.incident_id and r.get("method") == f"{SERVICE}/CreateIncident"
               and r.get("identity") == "ci-bot via token (certificate llm-shield)" for r in mine), mine
    text = "\n".join(lines)
    for secret in (API_KEY, EMAIL, PHONE, PAYLOAD.decode(), base64.b64encode(PAYLOAD).decode(), "victim."):
        assert secret not in text, f"{secret!r} reached the log"


def test_p0_preempts_a_flood_batch_and_nothing_acknowledged_is_lost(api, stub, ops_server):
    """grpcio callers keep the group-commit writer busy with low-severity batches while P0 events arrive: the P0s
    preempt batches in flight (the counter moves), no caller sees anything but OK, and every acknowledged incident
    is in the store, once."""
    pb2, _ = api
    before = value(scrape(ops_server.metrics_url), "incident_write_batches_preempted_total") or 0
    flood_stubs = [stub("llm-shield") for _ in range(4)]
    acknowledged, failures = [], []
    lock = threading.Lock()
    stop = threading.Event()

    def flood(shield):
        while not stop.is_set():
            try:
                response = shield.CreateIncident(event(pb2, severity="low"), timeout=30)
                with lock:
                    acknowledged.append(response.incident_id)
            except grpc.RpcError as error:
                with lock:
                    failures.append((error.code(), error.details()))

    threads = [threading.Thread(target=flood, args=(flood_stubs[i % 4],)) for i in range(12)]
    for thread in threads:
        thread.start()
    p0_shield = stub("llm-shield")
    p0_ids = []
    try:
        time.sleep(0.5)
        for _ in range(40):
            p0_ids.append(p0_shield.CreateIncident(event(pb2, severity="critical"), timeout=30).incident_id)
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not failures, f"flood calls failed: {failures[:5]}"
    assert len(acknowledged) > 100, "the flood did not keep the writer busy"
    preempted = value(scrape(ops_server.metrics_url), "incident_write_batches_preempted_total") - before
    assert preempted > 0, "no P0 preempted a batch in flight"

    listed, token = [], ""
    secops = stub("secops")
    while True:
        page = secops.ListIncidents(pb2.ListIncidentsRequest(page_size=500, page_token=token), timeout=30)
        listed.extend(incident.id for incident in page.incidents)
        token = page.next_page_token
        if not token:
            break
    missing = set(acknowledged + p0_ids) - set(listed)
    assert not missing, f"{len(missing)} acknowledged incidents are not in the store"
    assert len(listed) == len(set(listed)), "an incident was listed twice"
