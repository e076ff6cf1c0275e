"""UpdateIncident's severity change, ListIncidents' filters and paging, event_id, and bearer tokens (an API key
and RS256/ES256 JWTs signed by the openssl CLI) from Python grpcio and grpcurl against the real incident-server
over mTLS. The server here runs with a config file that adds a ci-bot identity and the token keys."""
import base64
import datetime
import hashlib
import json
import pathlib
import secrets
import subprocess
import sys
import time
import uuid

import grpc
import pytest

from conftest import RunningServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
API_KEY = "im-e2e-" + secrets.token_hex(16)
HS256_SECRET = secrets.token_hex(32)


@pytest.fixture(scope="module")
def server(pki, database_url, tmp_path_factory):
    """incident-server with a config naming the API key's hash, the JWT public keys and the HS256 variable."""
    directory = tmp_path_factory.mktemp("tokens-server")
    config = directory / "config.yaml"
    config.write_text(f"""
identities:
  llm-shield: {{permissions: [event:create]}}
  secops: {{permissions: [event:create, incident:read, incident:read_payload, incident:update, incident:stream]}}
  viewer: {{permissions: [incident:read, incident:stream]}}
  ci-bot: {{permissions: [incident:read, incident:update]}}
severity_mapping:
  medium: P1
tokens:
  api_keys:
    - identity: ci-bot
      sha256: {hashlib.sha256(API_KEY.encode()).hexdigest()}
  jwt:
    issuer: https://issuer.e2e
    audience: incident-manager
    leeway: 30s
    keys:
      - {{algorithm: RS256, public_key_file: "{pki / 'jwt-rs256.pub.pem'}"}}
      - {{algorithm: ES256, public_key_file: "{pki / 'jwt-es256.pub.pem'}"}}
      - {{algorithm: HS256, secret_env: IM_E2E_HS256}}
""")
    running = RunningServer(pki, database_url, directory / "server.log", config=config,
                            extra_env={"IM_E2E_HS256": HS256_SECRET})
    yield running
    assert running.stop() == 0
    log = (directory / "server.log").read_text()
    assert API_KEY not in log and HS256_SECRET not in log, "a token or secret reached the log"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der_to_raw(der: bytes) -> bytes:
    """ECDSA-Sig-Value (SEQUENCE of two INTEGERs) to JWS's r||s."""
    index = 2 + (der[1] & 0x7F if der[1] & 0x80 else 0)
    out = b""
    for _ in range(2):
        assert der[index] == 0x02
        length = der[index + 1]
        out += der[index + 2:index + 2 + length].lstrip(b"\x00").rjust(32, b"\x00")
        index += 2 + length
    return out


def jwt(alg: str, key: pathlib.Path, subject: str, expires_in: int = 600, issuer: str = "https://issuer.e2e") -> str:
    now = int(time.time())
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    claims = b64url(json.dumps({"sub": subject, "iss": issuer, "aud": "incident-manager", "iat": now,
                                "exp": now + expires_in}).encode())
    signing_input = f"{header}.{claims}".encode()
    signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key)], input=signing_input,
                               capture_output=True, check=True).stdout
    if alg == "ES256":
        signature = der_to_raw(signature)
    return f"{header}.{claims}.{b64url(signature)}"


def bearer(token: str):
    return (("authorization", f"Bearer {token}"),)


def event(pb2, severity="high", category="security"):
    return pb2.CreateIncidentRequest(
        event_id="e2e-" + uuid.uuid4().hex, source="llm-shield", title="Prompt Injection Detected",
        severity=severity, category=category, event_type="violation", encrypted_payload=b"\x01\x02")


def test_severity_change_remaps_priority(api, channel_for):
    pb2, pb2_grpc = api
    created = pb2_grpc.IncidentServiceStub(channel_for("llm-shield")).CreateIncident(event(pb2, "high"), timeout=30)
    assert created.priority == "P1"
    secops = pb2_grpc.IncidentServiceStub(channel_for("secops"))
    critical = secops.UpdateIncident(pb2.UpdateIncidentRequest(incident_id=created.incident_id, severity="Critical"),
                                     timeout=30)
    assert (critical.severity, critical.event_severity, critical.priority) == ("P0", "critical", "P0")
    change = [entry for entry in critical.timeline if entry.kind == "severity_changed"][-1]
    assert change.message == "high (P1) → critical (P0)"
    assert change.actor == "secops"
    medium = secops.UpdateIncident(pb2.UpdateIncidentRequest(incident_id=created.incident_id, severity="medium"),
                                   timeout=30)
    assert medium.priority == "P1", "the config maps medium to P1"

    with pytest.raises(grpc.RpcError) as refused:
        secops.UpdateIncident(pb2.UpdateIncidentRequest(incident_id=created.incident_id, severity="urgent"),
                              timeout=30)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details().startswith("severity:")


def test_list_filters_date_bounds_and_paging(api, channel_for):
    pb2, pb2_grpc = api
    shield = pb2_grpc.IncidentServiceStub(channel_for("llm-shield"))
    # Categories unique to this run keep other tests' incidents out of the results.
    run = uuid.uuid4().hex[:8]
    shapes = [("critical", "a"), ("high", "b"), ("low", "a"), ("info", "b"), ("high", "a"), ("medium", "c")]
    ids = []
    for severity, category in shapes:
        ids.append(shield.CreateIncident(event(pb2, severity, f"{category}-{run}"), timeout=30).incident_id)
        time.sleep(0.03)
    viewer = pb2_grpc.IncidentServiceStub(channel_for("viewer"))
    categories = [f"{c}-{run}" for c in "abc"]

    def pages(request, size=1):
        request.page_size = size
        seen = []
        for _ in range(20):
            page = viewer.ListIncidents(request, timeout=30)
            assert len(page.incidents) <= size
            seen += [incident.id for incident in page.incidents]
            if not page.next_page_token:
                return seen
            request.page_token = page.next_page_token
        raise AssertionError("paging did not end")

    assert pages(pb2.ListIncidentsRequest(categories=categories)) == ids[::-1]
    several = pb2.ListIncidentsRequest(categories=categories, severities=["high", "INFO"])
    assert pages(several) == [ids[4], ids[3], ids[1]]
    assert pages(pb2.ListIncidentsRequest(categories=[f"b-{run}", f"c-{run}"], statuses=["NEW", "acknowledged"]),
                 size=2) == [ids[5], ids[3], ids[1]]

    created = {i.id: i.created_at for i in viewer.ListIncidents(
        pb2.ListIncidentsRequest(categories=categories), timeout=30).incidents}

    def just_before(incident_id):
        moment = datetime.datetime.fromisoformat(created[incident_id].replace("Z", "+00:00"))
        return (moment - datetime.timedelta(milliseconds=10)).isoformat().replace("+00:00", "Z")

    window = pb2.ListIncidentsRequest(categories=categories, created_after=just_before(ids[1]),
                                      created_before=just_before(ids[4]))
    assert pages(window) == [ids[3], ids[2], ids[1]]

    for field in ("created_after", "created_before"):
        with pytest.raises(grpc.RpcError) as refused:
            viewer.ListIncidents(pb2.ListIncidentsRequest(**{field: "last tuesday"}), timeout=30)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert refused.value.details().startswith(field + ":")


def test_event_id_on_the_incident(api, channel_for):
    pb2, pb2_grpc = api
    request = event(pb2)
    created = pb2_grpc.IncidentServiceStub(channel_for("llm-shield")).CreateIncident(request, timeout=30)
    incident = pb2_grpc.IncidentServiceStub(channel_for("viewer")).GetIncident(
        pb2.GetIncidentRequest(incident_id=created.incident_id), timeout=30)
    assert incident.event_id == request.event_id
    assert incident.source == "llm-shield"


def test_api_key_and_jwts_act_as_their_identity(api, channel_for, pki):
    pb2, pb2_grpc = api
    created = pb2_grpc.IncidentServiceStub(channel_for("llm-shield")).CreateIncident(event(pb2), timeout=30)
    viewer = pb2_grpc.IncidentServiceStub(channel_for("viewer"))
    note = pb2.UpdateIncidentRequest(incident_id=created.incident_id, note="from ci")
    with pytest.raises(grpc.RpcError) as denied:
        viewer.UpdateIncident(note, timeout=30)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    updated = viewer.UpdateIncident(note, timeout=30, metadata=bearer(API_KEY))
    assert updated.timeline[-1].actor == "ci-bot"

    get = pb2.GetIncidentRequest(incident_id=created.incident_id)
    for alg, key in (("RS256", "jwt-rs256.key"), ("ES256", "jwt-es256.key")):
        as_secops = viewer.GetIncident(get, timeout=30, metadata=bearer(jwt(alg, pki / key, "secops")))
        assert as_secops.encrypted_payload == b"\x01\x02", alg


def test_expired_and_forged_tokens_are_unauthenticated(api, channel_for, pki):
    pb2, pb2_grpc = api
    created = pb2_grpc.IncidentServiceStub(channel_for("llm-shield")).CreateIncident(event(pb2), timeout=30)
    secops = pb2_grpc.IncidentServiceStub(channel_for("secops"))
    get = pb2.GetIncidentRequest(incident_id=created.incident_id)
    cases = {
        "expired": jwt("RS256", pki / "jwt-rs256.key", "secops", expires_in=-300),
        "signature": jwt("RS256", pki / "jwt-rogue-rs256.key", "secops"),
        "API key": "im-e2e-wrong-key",
    }
    for expected, token in cases.items():
        with pytest.raises(grpc.RpcError) as refused:
            secops.GetIncident(get, timeout=30, metadata=bearer(token))
        assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED, expected
        assert expected in refused.value.details()
        assert token not in refused.value.details()


def test_grpcurl_with_an_api_key(server, pki):
    # Reflection only (no .proto files): -H goes with the reflection calls too, which accept the token's identity.
    def grpcurl(identity, *args):
        command = [str(pathlib.Path(sys.executable).parent / "grpcurl"), "-cacert", str(pki / "ca.pem"),
                   "-cert", str(pki / f"{identity}.pem"), "-key", str(pki / f"{identity}.key"), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    target = f"127.0.0.1:{server.port}"
    created = grpcurl("llm-shield", "-d", json.dumps({"eventId": "grpcurl-" + uuid.uuid4().hex, "source": "llm-shield",
                                                      "title": "t", "severity": "low"}),
                      target, "incident_manager.IncidentService/CreateIncident")
    assert created.returncode == 0, created.stderr
    update = json.dumps({"incidentId": json.loads(created.stdout)["incidentId"], "severity": "high",
                         "note": "via grpcurl"})
    # viewer's certificate may not update; the API key makes the call ci-bot's, which may.
    with_key = grpcurl("viewer", "-H", f"authorization: Bearer {API_KEY}", "-d", update, target,
                       "incident_manager.IncidentService/UpdateIncident")
    assert with_key.returncode == 0, with_key.stderr
    answer = json.loads(with_key.stdout)
    assert (answer["severity"], answer["eventSeverity"], answer["priority"]) == ("P1", "high", "P1")
    assert answer["timeline"][-1]["actor"] == "ci-bot"
    wrong = grpcurl("viewer", "-H", "authorization: Bearer not-a-key", "-d", update, target,
                    "incident_manager.IncidentService/UpdateIncident")
    assert wrong.returncode != 0
    assert "Unauthenticated" in wrong.stderr
