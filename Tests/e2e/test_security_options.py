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


def test_pii_in_action_parameters_and_the_resource_is_masked_for_every_reader(api, approvals_channel_for):
    """The approvals config plans a block_user action for P0s: its user_id parameter copies the tag, and the
    resource names the user and a host. Get, List and Stream all show them masked."""
    pb2, pb2_grpc = api
    shield = pb2_grpc.IncidentServiceStub(approvals_channel_for("llm-shield"))
    created = shield.CreateIncident(pb2.CreateIncidentRequest(
        event_id="pii-res-" + uuid.uuid4().hex, source="llm-shield", severity="critical", category="privacy",
        title="Account abuse", tags={"user_id": EMAIL, "environment": "production"},
        resource={"type": "account", "id": f"user:{EMAIL}", "name": f"session from {IP}",
                  "metadata": {"owner_phone": PHONE, "region": "eu-west-1"}},
    ), timeout=30)
    secops = pb2_grpc.IncidentServiceStub(approvals_channel_for("secops"))
    got = secops.GetIncident(pb2.GetIncidentRequest(incident_id=created.incident_id), timeout=30)
    listed = [i for i in secops.ListIncidents(pb2.ListIncidentsRequest(page_size=100), timeout=30).incidents
              if i.id == created.incident_id]
    stream = secops.StreamIncidents(pb2.StreamIncidentsRequest(since_position=max(0, got.position - 1)), timeout=30)
    streamed = next(i for i in stream if i.id == created.incident_id)
    stream.cancel()
    assert len(listed) == 1
    for incident in (got, listed[0], streamed):
        assert incident.actions and incident.actions[0].type == "block_user"
        assert incident.actions[0].parameters["user_id"] == "[REDACTED:email]"
        assert incident.resource.id == "user:[REDACTED:email]"
        assert incident.resource.name == "session from [REDACTED:ip]"
        assert incident.resource.metadata["region"] == "eu-west-1"
        wire = incident.SerializeToString()
        for secret in (EMAIL, PHONE, IP):
            assert secret.encode() not in wire, secret


def test_a_list_page_of_large_payloads_fits_one_message_and_pages_on(api, channel_for):
    """Five incidents with 900 KiB payloads are 4.5 MiB: one page of them would pass gRPC's 4 MiB message limit.
    The page stops at its byte budget instead; every incident is listed once, each with its payload."""
    pb2, pb2_grpc = api
    shield = pb2_grpc.IncidentServiceStub(channel_for("llm-shield"))
    category = "bulk" + uuid.uuid4().hex[:12]
    created = []
    for n in range(5):
        payload = bytes([n]) * (900 * 1024)
        created.append(shield.CreateIncident(pb2.CreateIncidentRequest(
            event_id=f"big-{uuid.uuid4().hex}", source="llm-shield", severity="low", title=f"big {n}",
            category=category, encrypted_payload=payload), timeout=30).incident_id)
    secops = pb2_grpc.IncidentServiceStub(channel_for("secops"))
    seen, token, pages = [], "", 0
    while True:
        page = secops.ListIncidents(pb2.ListIncidentsRequest(page_size=100, categories=[category], page_token=token),
                                    timeout=30)
        pages += 1
        assert page.ByteSize() < 4 * 1024 * 1024
        for incident in page.incidents:
            assert len(incident.encrypted_payload) == 900 * 1024
            seen.append(incident.id)
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(created) and len(seen) == len(set(seen))
    assert pages >= 2
    # Callers without incident:read_payload get every incident on one page, without payloads.
    viewer = pb2_grpc.IncidentServiceStub(channel_for("viewer"))
    light = viewer.ListIncidents(pb2.ListIncidentsRequest(page_size=100, categories=[category]), timeout=30)
    assert len(light.incidents) == 5 and not light.next_page_token
    assert all(i.encrypted_payload == b"" and i.request_sha256 == "" for i in light.incidents)
