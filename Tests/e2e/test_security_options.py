"""The spec's security options end to end from Python grpcio against the real incident-server with its defaults
(redact_pii and include_request_hash on): PII masked before storage, the request's SHA-256 kept on the incident,
encrypted_payload shown only to identities holding incident:read_payload, and none of it in the server's log."""
import hashlib
import uuid

import grpc
import pytest

EMAIL = "alice.smith@example.com"
PHONE = "+1 415 555 0142"
CARD = "4111 1111 1111 1111"
IP = "203.0.113.77"
API_KEY = "sk-live-" + "9f3KqLmN2pRt7vWx4yZa8bCd"
PAYLOAD = b"\x8a\x01secret-ciphertext-" + uuid.uuid4().bytes


def test_pii_is_masked_before_storage_and_never_logged(api, channel_for, server):
    pb2, pb2_grpc = api
    shield = pb2_grpc.IncidentServiceStub(channel_for("llm-shield"))
    request = pb2.CreateIncidentRequest(
        event_id="pii-" + uuid.uuid4().hex, source="llm-shield", severity="high", category="privacy",
        title=f"Data leak: {EMAIL} in a completion",
        description=f"The model printed card {CARD}, phone {PHONE}, client {IP} and key {API_KEY}.",
        tags={"reporter": EMAIL, "environment": "production"},
        encrypted_payload=PAYLOAD,
    )
    created = shield.CreateIncident(request, timeout=30)

    secops = pb2_grpc.IncidentServiceStub(channel_for("secops"))
    incident = secops.GetIncident(pb2.GetIncidentRequest(incident_id=created.incident_id), timeout=30)
    stored = " ".join([incident.title, incident.description, *incident.tags.values()])
    for secret in (EMAIL, PHONE, CARD, IP, API_KEY, "4111111111111111"):
        assert secret not in stored, secret
    # Masked, not dropped: the rest of the text is still there for the analyst.
    assert incident.title.startswith("Data leak: ") and incident.title.endswith(" in a completion")
    assert "The model printed card " in incident.description
    assert incident.tags["environment"] == "production"

    # The payload is kept as given, and only secops (incident:read_payload) sees it.
    assert incident.encrypted_payload == PAYLOAD
    viewer = pb2_grpc.IncidentServiceStub(channel_for("viewer"))
    assert viewer.GetIncident(pb2.GetIncidentRequest(incident_id=created.incident_id), timeout=30) \
        .encrypted_payload == b""

    log = server.log_path.read_text(errors="replace")
    for secret in (EMAIL, PHONE, CARD, IP, API_KEY):
        assert secret not in log, f"{secret!r} reached the server log"
    assert PAYLOAD.hex() not in log and "secret-ciphertext" not in log


def test_the_request_hash_is_the_sha256_of_the_request_bytes(api, channel_for):
    pb2, pb2_grpc = api
    # No map fields: protobuf leaves map order to the encoder, everything else has one canonical encoding.
    request = pb2.CreateIncidentRequest(
        event_id="hash-" + uuid.uuid4().hex, source="llm-shield", severity="low", title="hashed event",
        event_type="policy_violation", timestamp="2026-12-03T10:00:00Z")
    shield = pb2_grpc.IncidentServiceStub(channel_for("llm-shield"))
    created = shield.CreateIncident(request, timeout=30)
    secops = pb2_grpc.IncidentServiceStub(channel_for("secops"))
    incident = secops.GetIncident(pb2.GetIncidentRequest(incident_id=created.incident_id), timeout=30)
    assert incident.request_sha256 == hashlib.sha256(request.SerializeToString()).hexdigest()


def test_an_event_id_reused_with_other_content_is_already_exists(api, channel_for):
    pb2, pb2_grpc = api
    shield = pb2_grpc.IncidentServiceStub(channel_for("llm-shield"))
    event_id = "conflict-" + uuid.uuid4().hex
    first = shield.CreateIncident(pb2.CreateIncidentRequest(
        event_id=event_id, source="llm-shield", severity="medium", title="first"), timeout=30)
    with pytest.raises(grpc.RpcError) as refused:
        shield.CreateIncident(pb2.CreateIncidentRequest(
            event_id=event_id, source="llm-shield", severity="medium", title="other content"), timeout=30)
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert first.incident_id in refused.value.details()
