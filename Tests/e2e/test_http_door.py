"""The HTTP door from clients we did not write against the real incident-server over real TLS: curl for REST reads
and updates in proto3 JSON, the HTML page, health, client-certificate and bearer identities, the guide's Sentinel
example and config block verbatim, and every refusal as a JSON error body (400 naming the position or field, 401,
403, 404, 409, 413, 429 with Retry-After); Debian's real Alertmanager delivering firing and resolved alerts.
Incidents are also made over gRPC, so the links the gRPC answer carries are followed verbatim."""
import concurrent.futures
import datetime
import hashlib
import json
import pathlib
import secrets
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
import uuid

import pytest

from conftest import RunningServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
SENTINEL_EVENT = ROOT / "Protos" / "examples" / "sentinel-event.json"
SENTINEL_CONFIG = ROOT / "Protos" / "examples" / "sentinel-config.yaml"
API_KEY = "im-http-" + secrets.token_hex(16)
LIMITED_KEY = "im-http-limited-" + secrets.token_hex(16)
SENTINEL_KEY = "im-sentinel-" + secrets.token_hex(16)
SLOW_KEY = "im-slow-" + secrets.token_hex(16)
ALERTMANAGER_KEY = "im-am-" + secrets.token_hex(16)
SIEM_KEY = "im-siem-" + secrets.token_hex(16)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(pki, database_url, tmp_path_factory):
    directory = tmp_path_factory.mktemp("http-door")
    port = free_port()
    config = directory / "config.yaml"
    config.write_text(f"""
server:
  public_url: https://127.0.0.1:{port}
identities:
  llm-shield: {{permissions: [event:create]}}
  secops: {{permissions: [event:create, incident:read, incident:read_payload, incident:update, incident:stream],
            sources: ["*"]}}
  viewer: {{permissions: [incident:read, incident:stream]}}
  ci-bot: {{permissions: [incident:read, incident:update]}}
  limited-bot: {{permissions: [incident:read], rate_limit: {{requests_per_minute: 1, burst: 2}}}}
tokens:
  api_keys:
    - identity: ci-bot
      sha256: {hashlib.sha256(API_KEY.encode()).hexdigest()}
    - identity: limited-bot
      sha256: {hashlib.sha256(LIMITED_KEY.encode()).hexdigest()}
""" + SENTINEL_CONFIG.read_text() + f"""
  slow-detector:
    authentication:
      type: api_key
      api_keys:
        - key_id: slow-1
          key_hash: {hashlib.sha256(SLOW_KEY.encode()).hexdigest()}
          permissions: ["event:create"]
    rate_limit:
      requests_per_minute: 1
      burst: 2
  prometheus:
    authentication:
      type: api_key
      api_keys:
        - key_id: alertmanager
          key_hash: {hashlib.sha256(ALERTMANAGER_KEY.encode()).hexdigest()}
          permissions: ["event:create", "incident:update"]
    alert_severity_mapping: {{critical: P0, warning: low, default: info}}
    routing: {{default_team: sre, escalation_policy: sre-oncall, auto_page: false}}
  siem:
    authentication:
      type: api_key
      api_keys:
        - key_id: siem-1
          key_hash: {hashlib.sha256(SIEM_KEY.encode()).hexdigest()}
    field_mapping:
      event_id: /alert/id
      title: /alert/rule/name
      severity: /alert/level
      description: /alert/details/0
      category: /kind
      tags.host: /alert/asset/host
      tags.a/b: /odd~1key
""")
    running = RunningServer(pki, database_url, directory / "server.log", config=config,
                            http_listen=f"127.0.0.1:{port}",
                            extra_env={"INCIDENT_HTTP_MAX_BODY": "4096",
                                       "SENTINEL_API_KEY_HASH": hashlib.sha256(SENTINEL_KEY.encode()).hexdigest()})
    assert running.http_port == port
    yield running
    assert running.stop() == 0
    log = (directory / "server.log").read_text()
    for key in (API_KEY, LIMITED_KEY, SENTINEL_KEY, SLOW_KEY, ALERTMANAGER_KEY, SIEM_KEY):
        assert key not in log, "an API key reached the log"
    assert "isolation_forest" not in log, "the opaque payload reached the log"


class Answer:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


def curl(pki: pathlib.Path, url: str, identity: str = None, method: str = "GET", data: bytes = None,
         headers: dict = None, extra: list = None) -> Answer:
    """One request with the real curl; verifies the server against the test CA, presents `identity`'s cert."""
    args = ["curl", "-sS", "--max-time", "30", "--cacert", str(pki / "ca.pem"), "-X", method, "-D", "-",
            "-o", "/dev/stdout"]
    if identity:
        args += ["--cert", str(pki / f"{identity}.pem"), "--key", str(pki / f"{identity}.key")]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    if data is not None:
        args += ["--data-binary", "@-"]
    args += (extra or []) + [url]
    result = subprocess.run(args, input=data, capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr.decode()
    raw = result.stdout
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    parsed = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return Answer(status, parsed, body)


def base(server) -> str:
    return f"https://127.0.0.1:{server.http_port}"


def create(api, channel_for, title="Prompt Injection Detected", severity="high", category=None, identity="llm-shield",
           source="llm-shield"):
    pb2, pb2_grpc = api
    request = pb2.CreateIncidentRequest(
        event_id="http-" + uuid.uuid4().hex, source=source, title=title, severity=severity,
        category=category or "security", event_type="violation", description="seen by the e2e test")
    return pb2_grpc.IncidentServiceStub(channel_for(identity)).CreateIncident(request, timeout=30)


def assert_error(answer: Answer, status: int, code: str):
    assert answer.status == status, answer.body
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    return error["message"]


def test_health_answers_without_a_client_certificate(server, pki):
    answer = curl(pki, base(server) + "/api/v1/health")
    assert answer.status == 200
    assert answer.json() == {"status": "SERVING"}
    # The guide's troubleshooting check, `curl -I …/api/v1/health -H "X-API-Key: …"`: HEAD answers as GET does.
    head = curl(pki, base(server) + "/api/v1/health", method="HEAD", headers={"X-API-Key": API_KEY}, extra=["-I"])
    assert head.status == 200 and head.headers["content-type"] == "application/json"
    assert curl(pki, base(server) + "/api/v1/nothing", method="HEAD", extra=["-I"]).status == 404


def test_links_of_a_grpc_create_open_the_incident(server, pki, api, channel_for):
    created = create(api, channel_for)
    assert created.links["api"] == f"{base(server)}/api/v1/incidents/{created.incident_id}"
    answer = curl(pki, created.links["api"], identity="secops")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json"
    incident = answer.json()
    # proto3 JSON as grpcurl prints it: lowerCamelCase names, 64-bit integers as strings.
    assert incident["id"] == created.incident_id
    assert incident["title"] == "Prompt Injection Detected"
    assert incident["status"] == "NEW"
    assert incident["severity"] == "P1" and incident["eventSeverity"] == "high"
    assert incident["version"] == str(created.version)
    assert any(entry["kind"] == "created" for entry in incident["timeline"]), incident["timeline"]

    page = curl(pki, created.links["incident"], identity="viewer")
    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    assert created.incident_id.encode() in page.body and b"Prompt Injection Detected" in page.body


def test_html_page_escapes_what_the_event_said(server, pki, api, channel_for):
    created = create(api, channel_for, title="<script>alert('x')</script> & \"quoted\"")
    page = curl(pki, created.links["incident"], identity="viewer")
    assert page.status == 200
    assert b"<script" not in page.body.lower()
    assert b"&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;" in page.body
    assert "script-src" not in page.headers["content-security-policy"]
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_callers_are_identified_like_on_grpc(server, pki, api, channel_for):
    created = create(api, channel_for)
    url = created.links["api"]
    message = assert_error(curl(pki, url), 401, "unauthenticated")
    assert "client certificate" in message
    assert "not a known identity" in assert_error(curl(pki, url, identity="stranger"), 403, "permission_denied")
    assert "incident:read" in assert_error(curl(pki, url, identity="llm-shield"), 403, "permission_denied")
    assert_error(curl(pki, url, headers={"Authorization": "Bearer not-a-key"}), 401, "unauthenticated")
    by_key = curl(pki, url, headers={"Authorization": f"Bearer {API_KEY}"})
    assert by_key.status == 200 and by_key.json()["id"] == created.incident_id


def test_an_untrusted_client_certificate_fails_the_handshake(server, pki, tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(tmp_path / "rogue.key"),
                    "-out", str(tmp_path / "rogue.pem"), "-days", "1", "-subj", "/CN=secops"],
                   check=True, capture_output=True)
    result = subprocess.run(["curl", "-sS", "--max-time", "30", "--cacert", str(pki / "ca.pem"),
                             "--cert", str(tmp_path / "rogue.pem"), "--key", str(tmp_path / "rogue.key"),
                             base(server) + "/api/v1/health"], capture_output=True)
    assert result.returncode != 0, "a certificate the client CA did not sign was accepted"


def test_unknown_incident_route_and_malformed_id(server, pki):
    assert_error(curl(pki, base(server) + "/api/v1/incidents/INC-20250101-99999", identity="secops"), 404, "not_found")
    assert_error(curl(pki, base(server) + "/api/v1/incidents/not-an-id", identity="secops"), 400, "invalid_argument")
    assert_error(curl(pki, base(server) + "/api/v1/nothing-here", identity="secops"), 404, "not_found")


def test_list_filters_and_pages(server, pki, api, channel_for):
    category = "http-list-" + uuid.uuid4().hex[:8]
    ids = {create(api, channel_for, severity="critical", category=category).incident_id for _ in range(3)}
    create(api, channel_for, severity="low", category=category)
    seen, token = [], ""
    for _ in range(10):
        answer = curl(pki, f"{base(server)}/api/v1/incidents?severity=P0&status=NEW&category={category}"
                           f"&page_size=2&page_token={urllib.parse.quote(token, safe='')}", identity="viewer")
        assert answer.status == 200, answer.body
        page = answer.json()
        assert len(page.get("incidents", [])) <= 2
        seen += [incident["id"] for incident in page.get("incidents", [])]
        token = page.get("nextPageToken", "")
        if not token:
            break
    assert sorted(seen) == sorted(ids)
    assert "page_token" in assert_error(
        curl(pki, f"{base(server)}/api/v1/incidents?page_token=bogus", identity="viewer"), 400, "invalid_argument")
    assert "severty" in assert_error(
        curl(pki, f"{base(server)}/api/v1/incidents?severty=P0", identity="viewer"), 400, "invalid_argument")
    assert "severity" in assert_error(
        curl(pki, f"{base(server)}/api/v1/incidents?severity=P9", identity="viewer"), 400, "invalid_argument")


def test_patch_follows_update_incident_rules(server, pki, api, channel_for):
    created = create(api, channel_for)
    url = created.links["api"]
    acked = curl(pki, url, identity="secops", method="PATCH", headers={"Content-Type": "application/json"},
                 data=json.dumps({"status": "ACKNOWLEDGED", "note": "looking", "expected_version": created.version})
                 .encode())
    assert acked.status == 200, acked.body
    assert acked.json()["status"] == "ACKNOWLEDGED"
    # The same expected version again: the incident moved on, as UpdateIncident answers ABORTED.
    stale = curl(pki, url, identity="secops", method="PATCH",
                 data=json.dumps({"status": "IN_PROGRESS", "expected_version": created.version}).encode())
    assert "version" in assert_error(stale, 409, "aborted")
    # A move the status machine does not allow.
    back = curl(pki, url, identity="secops", method="PATCH", data=b'{"status": "NEW"}')
    assert back.status in (400, 412), back.body
    malformed = curl(pki, url, identity="secops", method="PATCH", data=b'{"status": "RESOLVED",, }')
    assert "byte" in assert_error(malformed, 400, "invalid_argument")
    unknown = curl(pki, url, identity="secops", method="PATCH", data=b'{"statuss": "RESOLVED"}')
    assert "statuss" in assert_error(unknown, 400, "invalid_argument")
    assert_error(curl(pki, url, identity="viewer", method="PATCH", data=b'{"note": "hi"}'), 403, "permission_denied")
    too_big = curl(pki, url, identity="secops", method="PATCH",
                   data=json.dumps({"note": "x" * 10000}).encode())
    assert_error(too_big, 413, "payload_too_large")
    by_key = curl(pki, url, method="PATCH", headers={"Authorization": f"Bearer {API_KEY}"},
                  data=b'{"note": "noted by the bot"}')
    assert by_key.status == 200, by_key.body
    timeline = curl(pki, url, identity="secops").json()["timeline"]
    assert any(entry["actor"] == "ci-bot" for entry in timeline), timeline


def test_rate_limit_answers_429_with_retry_after(server, pki, api, channel_for):
    created = create(api, channel_for)
    statuses = []
    for _ in range(4):
        answer = curl(pki, created.links["api"], headers={"Authorization": f"Bearer {LIMITED_KEY}"})
        statuses.append(answer.status)
        if answer.status == 429:
            assert_error(answer, 429, "resource_exhausted")
            assert int(answer.headers["retry-after"]) >= 1
            break
    assert statuses[0] == 200 and statuses[-1] == 429, statuses


def sentinel_event(**changes):
    event = json.loads(SENTINEL_EVENT.read_text())
    event.update(changes)
    return event


def post_event(server, pki, event, key=SENTINEL_KEY, path="sentinel", raw: bytes = None):
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["X-API-Key"] = key
    return curl(pki, f"{base(server)}/api/v1/events/{path}", method="POST", headers=headers,
                data=raw if raw is not None else json.dumps(event).encode())


def test_the_guides_sentinel_example_verbatim(server, pki):
    """The guide's request body byte for byte, with the guide's config block: 202 and the guide's answer; a replay
    answers the same incident; changed content under the used event_id is 409."""
    answer = curl(pki, f"{base(server)}/api/v1/events/sentinel", method="POST",
                  headers={"Content-Type": "application/json", "X-API-Key": SENTINEL_KEY},
                  data=SENTINEL_EVENT.read_bytes())
    assert answer.status == 202, answer.body
    body = answer.json()
    incident_id = body["incident_id"]
    assert body == {
        "status": "accepted", "event_id": "sent-2025-001234", "incident_id": incident_id,
        "message": "Event received and queued for processing", "correlated": False,
        "links": {"incident": f"{base(server)}/incidents/{incident_id}",
                  "api": f"{base(server)}/api/v1/incidents/{incident_id}"},
    }
    incident = curl(pki, body["links"]["api"], identity="secops").json()
    # The guide's mapping (high: P1) and its routing (platform-team, sentinel-escalation), not llm-shield's.
    assert (incident["severity"], incident["eventSeverity"]) == ("P1", "high")
    assert incident["assignedTeam"] == "platform-team"
    assert incident["escalationPolicy"] == "sentinel-escalation"
    assert incident["source"] == "llm-sentinel"
    assert incident["resource"]["metadata"]["model"] == "gpt-4"
    assert incident["metrics"]["p95_latency_ms"] == 5400
    assert incident["tags"]["tenant_id"] == "tenant-123"
    payload = json.loads(__import__("base64").b64decode(incident["encryptedPayload"]))
    assert payload["detection_algorithm"] == "isolation_forest"
    assert "encryptedPayload" not in curl(pki, body["links"]["api"], identity="viewer").json()
    assert any(entry["actor"] == "llm-sentinel/sentinel-prod-001" for entry in incident["timeline"])

    replay = curl(pki, f"{base(server)}/api/v1/events/sentinel", method="POST",
                  headers={"X-API-Key": SENTINEL_KEY}, data=SENTINEL_EVENT.read_bytes())
    assert replay.status == 202 and replay.json()["incident_id"] == incident_id
    changed = post_event(server, pki, sentinel_event(title="Latency Spike Detected again"))
    assert "event_id" in assert_error(changed, 409, "already_exists")


def test_sentinel_refusals(server, pki):
    fresh = lambda **changes: sentinel_event(event_id="sent-" + uuid.uuid4().hex, **changes)  # noqa: E731
    assert_error(post_event(server, pki, fresh(), key=None), 401, "unauthenticated")
    message = assert_error(post_event(server, pki, fresh(), key="wrong-" + SENTINEL_KEY), 401, "unauthenticated")
    assert SENTINEL_KEY not in message
    # A Sentinel key may not speak for llm-shield.
    assert "source" in assert_error(post_event(server, pki, fresh(source="llm-shield")), 403, "permission_denied")
    assert "title" in assert_error(post_event(server, pki, fresh(title="")), 400, "invalid_argument")
    assert "byte" in assert_error(post_event(server, pki, None, raw=b'{"event_id": "x",'), 400, "invalid_argument")
    assert "colour" in assert_error(post_event(server, pki, fresh(colour="red")), 400, "invalid_argument")
    assert_error(post_event(server, pki, fresh(description="x" * 8000)), 413, "payload_too_large")
    assert_error(post_event(server, pki, fresh(), path="nobody"), 404, "not_found")
    # Another source with the same block shape, posting under its own name, over its rate limit.
    statuses = []
    for _ in range(4):
        answer = post_event(server, pki, fresh(source="slow-detector"), key=SLOW_KEY, path="slow-detector")
        statuses.append(answer.status)
        if answer.status == 429:
            assert_error(answer, 429, "resource_exhausted")
            assert int(answer.headers["retry-after"]) >= 1
            break
    assert statuses[0] == 202 and statuses[-1] == 429, statuses


@pytest.fixture(scope="module")
def alertmanager(server, pki, tmp_path_factory):
    """Debian's real Alertmanager on loopback, delivering to the HTTP door over TLS (our CA): bearer auth to the
    prometheus path, basic auth to the alias for alerts labelled via=basic."""
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        pytest.fail("prometheus-alertmanager is not installed: `make deps` installs it")
    directory = tmp_path_factory.mktemp("alertmanager")
    port = free_port()
    webhook = f"{base(server)}/api/v1/tickets/webhook/prometheus"
    alias = f"{base(server)}/api/v1/webhooks/alertmanager"
    (directory / "am.yml").write_text(f"""
route:
  receiver: bearer
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['via="basic"']
      receiver: basic
receivers:
  - name: bearer
    webhook_configs:
      - url: {webhook}
        send_resolved: true
        http_config:
          authorization: {{type: Bearer, credentials: "{ALERTMANAGER_KEY}"}}
          tls_config: {{ca_file: "{pki / 'ca.pem'}"}}
  - name: basic
    webhook_configs:
      - url: {alias}
        send_resolved: true
        http_config:
          basic_auth: {{username: alertmanager, password: "{ALERTMANAGER_KEY}"}}
          tls_config: {{ca_file: "{pki / 'ca.pem'}"}}
""")
    log = open(directory / "alertmanager.log", "w")
    process = subprocess.Popen(
        [binary, f"--config.file={directory / 'am.yml'}", f"--storage.path={directory / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/-/ready", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail("alertmanager did not start:\n" + (directory / "alertmanager.log").read_text())
        time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=30)
    log.close()


def post_alerts(alertmanager_url, alerts):
    request = urllib.request.Request(alertmanager_url + "/api/v2/alerts", data=json.dumps(alerts).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def incident_titled(server, pki, title, deadline_seconds=60, status=None):
    """Polls the REST list for the monitoring incident with `title` (and `status`, when given)."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        page = curl(pki, f"{base(server)}/api/v1/incidents?category=monitoring&page_size=100",
                    identity="secops").json()
        for incident in page.get("incidents", []):
            if incident["title"] == title and (status is None or incident["status"] == status):
                return incident
        time.sleep(0.5)
    pytest.fail(f"no incident titled {title!r} with status {status} appeared")


def test_real_alertmanager_delivers_firing_and_resolved_alerts(server, pki, alertmanager):
    run = uuid.uuid4().hex[:8]
    now = datetime.datetime.now(datetime.timezone.utc)
    starts = now.isoformat().replace("+00:00", "Z")
    alerts = [
        {"labels": {"alertname": f"HighLatency{run}", "severity": "critical", "run": run},
         "annotations": {"summary": f"p95 latency over 2s ({run})", "description": "checkout is slow"},
         "startsAt": starts},
        {"labels": {"alertname": f"DiskFilling{run}", "severity": "warning", "via": "basic", "run": run},
         "annotations": {}, "startsAt": starts},
    ]
    post_alerts(alertmanager, alerts)
    latency = incident_titled(server, pki, f"p95 latency over 2s ({run})")
    disk = incident_titled(server, pki, f"DiskFilling{run}")  # no summary: the alertname is the title
    assert (latency["severity"], latency["source"], latency["status"]) == ("P0", "prometheus", "NEW")
    assert latency["assignedTeam"] == "sre" and latency["escalationPolicy"] == "sre-oncall"
    assert latency["tags"]["run"] == run and latency["tags"]["alertname"] == f"HighLatency{run}"
    assert latency["description"] == "checkout is slow"
    assert (disk["severity"], disk["eventSeverity"]) == ("P3", "low")
    assert any(entry["actor"] == "prometheus/alertmanager" for entry in latency["timeline"])

    # Alertmanager repeats firing alerts; one firing is one incident.
    post_alerts(alertmanager, alerts)
    time.sleep(3)
    page = curl(pki, f"{base(server)}/api/v1/incidents?category=monitoring&page_size=100", identity="secops").json()
    assert [i["title"] for i in page["incidents"]].count(f"p95 latency over 2s ({run})") == 1

    ended = (now + datetime.timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    for alert in alerts:
        alert["endsAt"] = ended
    post_alerts(alertmanager, alerts)
    resolved = incident_titled(server, pki, f"p95 latency over 2s ({run})", status="RESOLVED")
    assert resolved["id"] == latency["id"]
    change = [entry for entry in resolved["timeline"] if entry["kind"] == "status_changed"][-1]
    assert change["message"] == "NEW → RESOLVED (resolved at the source)"
    assert change["actor"] == "prometheus/alertmanager"
    assert incident_titled(server, pki, f"DiskFilling{run}", status="RESOLVED")["id"] == disk["id"]


def test_alertmanager_webhook_refusals(server, pki):
    url = f"{base(server)}/api/v1/tickets/webhook/prometheus"
    body = json.dumps({"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "X"}, "annotations": {}, "startsAt": "2026-01-01T00:00:00Z",
         "fingerprint": "abc123"}]}).encode()
    assert_error(curl(pki, url, method="POST", data=body), 401, "unauthenticated")
    assert_error(curl(pki, url, method="POST", data=body, headers={"Authorization": "Bearer wrong"}),
                 401, "unauthenticated")
    # A key of another source is not this source's.
    assert_error(curl(pki, url, method="POST", data=body, headers={"X-API-Key": SENTINEL_KEY}), 401, "unauthenticated")
    bad = json.dumps({"alerts": [{"status": "firing", "labels": {}, "startsAt": "2026-01-01T00:00:00Z"}]}).encode()
    assert "fingerprint" in assert_error(
        curl(pki, url, method="POST", data=bad, headers={"Authorization": f"Bearer {ALERTMANAGER_KEY}"}),
        400, "invalid_argument")
    assert "alerts" in assert_error(
        curl(pki, url, method="POST", data=b"{}", headers={"Authorization": f"Bearer {ALERTMANAGER_KEY}"}),
        400, "invalid_argument")


def test_generic_webhook_maps_fields_by_json_pointer(server, pki):
    run = uuid.uuid4().hex[:8]
    body = {"kind": "intrusion", "odd/key": "slashed",
            "alert": {"id": f"siem-{run}", "level": "critical", "rule": {"name": f"Brute force {run}"},
                      "details": ["200 failed logins", "second line"], "asset": {"host": "db-1"}}}
    url = f"{base(server)}/api/v1/tickets/webhook/siem"
    answer = curl(pki, url, method="POST", headers={"X-API-Key": SIEM_KEY}, data=json.dumps(body).encode())
    assert answer.status == 202, answer.body
    created = answer.json()
    assert created["event_id"] == f"siem-{run}" and created["duplicate"] is False
    incident = curl(pki, created["links"]["api"], identity="secops").json()
    assert (incident["title"], incident["severity"], incident["category"]) == (f"Brute force {run}", "P0", "intrusion")
    assert incident["description"] == "200 failed logins"
    assert incident["tags"] == {"host": "db-1", "a/b": "slashed"}
    assert incident["source"] == "siem"
    again = curl(pki, url, method="POST", headers={"X-API-Key": SIEM_KEY}, data=json.dumps(body).encode())
    assert again.status == 202 and again.json()["duplicate"] is True
    assert again.json()["incident_id"] == created["incident_id"]
    # A body the mapping finds no title in: the validator names the field.
    del body["alert"]["rule"]
    body["alert"]["id"] = f"siem-{run}-2"
    assert "title" in assert_error(curl(pki, url, method="POST", headers={"X-API-Key": SIEM_KEY},
                                        data=json.dumps(body).encode()), 400, "invalid_argument")
    assert_error(curl(pki, f"{base(server)}/api/v1/tickets/webhook/nobody", method="POST",
                      headers={"X-API-Key": SIEM_KEY}, data=b"{}"), 404, "not_found")
    assert_error(curl(pki, url, method="POST", data=json.dumps(body).encode()), 401, "unauthenticated")


CSV_HEADER = "title,description,severity,environment,service,source\n"


def upload_csv(server, pki, text: str, identity="secops", multipart=None):
    """The CSV as a text/csv body, or (multipart: a directory) as curl -F's file part."""
    url = f"{base(server)}/api/v1/tickets/upload-csv"
    if multipart:
        path = multipart / "tickets.csv"
        path.write_text(text)
        return curl(pki, url, identity=identity, method="POST", extra=["-F", f"file=@{path};type=text/csv"])
    return curl(pki, url, identity=identity, method="POST", headers={"Content-Type": "text/csv"},
                data=text.encode())


def test_csv_upload_imports_good_rows_and_reports_bad_ones(server, pki, tmp_path):
    run = uuid.uuid4().hex[:8]
    text = (CSV_HEADER
            + f"Disk full {run},\"/var at 99%, \"\"db-1\"\"\",high,production,db,secops\n"
            + f"Bad severity {run},x,urgent,production,db,secops\n"
            + f"Too few fields {run},x,high\n"
            + f"\"Multi\nline {run}\",second,low,staging,web,secops\n"
            + f"Other source {run},x,low,staging,web,someone-else\n")
    answer = upload_csv(server, pki, text)
    assert answer.status == 200, answer.body
    result = answer.json()
    rows = {row["line"]: row for row in result["rows"]}
    assert (result["created"], result["duplicate"], result["rejected"]) == (3, 0, 2), result
    assert rows[3]["status"] == "rejected" and "severity" in rows[3]["reason"]
    assert rows[4]["status"] == "rejected" and "fields" in rows[4]["reason"]
    # The quoted title spans lines 5 and 6, so the next row is line 7 (secops may report any source).
    assert [rows[line]["status"] for line in (2, 5, 7)] == ["created"] * 3 and sorted(rows) == [2, 3, 4, 5, 7]
    incident = curl(pki, f"{base(server)}/api/v1/incidents/{rows[2]['incident_id']}", identity="secops").json()
    assert incident["title"] == f"Disk full {run}" and incident["description"] == '/var at 99%, "db-1"'
    assert incident["tags"] == {"environment": "production", "service": "db"}
    # The same file again, as a multipart form this time: nothing new.
    again = upload_csv(server, pki, text, multipart=tmp_path).json()
    assert (again["created"], again["duplicate"], again["rejected"]) == (0, 3, 2), again
    assert {row["incident_id"] for row in again["rows"] if row["status"] == "duplicate"} == \
        {rows[line]["incident_id"] for line in (2, 5, 7)}
    assert "header" in assert_error(upload_csv(server, pki, "a,b\n1,2\n"), 400, "invalid_argument")
    assert "line 2" in assert_error(upload_csv(server, pki, CSV_HEADER + '"open,x,high,p,s,secops\n'),
                                    400, "invalid_argument")
    assert_error(upload_csv(server, pki, text, identity="viewer"), 403, "permission_denied")


def test_http_creates_are_shed_by_priority_and_p0_never(pki, database_url, tmp_path):
    """With INCIDENT_ADMISSION_LIMIT 4, info (P4) creates are refused from one create in flight: a burst of them
    over HTTP gets 429 with Retry-After for some (never a 5xx, never a lost answer), while criticals sent in the
    middle of the burst are all accepted."""
    config = tmp_path / "config.yaml"
    # The guide's block with room in its rate limit, so every 429 here is load shedding.
    config.write_text(SENTINEL_CONFIG.read_text().replace("requests_per_minute: 1000", "requests_per_minute: 100000")
                      .replace("burst: 100", "burst: 10000"))
    shed = RunningServer(pki, database_url, tmp_path / "server.log", config=config, http_listen="127.0.0.1:0",
                         extra_env={"INCIDENT_ADMISSION_LIMIT": "4",
                                    "SENTINEL_API_KEY_HASH": hashlib.sha256(SENTINEL_KEY.encode()).hexdigest()})
    try:
        def post(severity):
            event = sentinel_event(event_id=f"shed-{severity}-{secrets.token_hex(8)}", severity=severity)
            return severity, post_event(shed, pki, event)

        refused = []
        for _ in range(3):  # overlap is what is being tested; a burst that happened to run one at a time is retried
            with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
                severities = ["info"] * 10 + ["critical"] * 4 + ["info"] * 26
                answers = list(pool.map(post, severities))
            assert {answer.status for _, answer in answers} <= {202, 429}, [a.body for _, a in answers]
            assert all(answer.status == 202 for severity, answer in answers if severity == "critical")
            refused = [answer for severity, answer in answers if answer.status == 429]
            if refused:
                break
        assert refused, "no info create was shed while others were in flight"
        for answer in refused:
            assert "P4" in assert_error(answer, 429, "resource_exhausted")
            assert int(answer.headers["retry-after"]) >= 1
    finally:
        assert shed.stop() == 0
