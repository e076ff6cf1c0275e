"""incident-server end to end from Python grpcio: the spec's LLM-Shield event created over mTLS, read back,
and refused to an identity without the permission. Run by `make test-e2e`."""
import base64
import json
import pathlib

import grpc
import pytest
from google.protobuf import json_format

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "Protos" / "examples" / "shield-event.json"


def shield_event(pb2, event_id=None):
    request = json_format.Parse(EXAMPLE.read_text(), pb2.CreateIncidentRequest())
    if event_id:
        request.event_id = event_id
    return request


def test_create_then_get_over_mtls(api, channel_for, server):
    pb2, pb2_grpc = api
    shield = pb2_grpc.IncidentServiceStub(channel_for("llm-shield"))
    created = shield.CreateIncident(shield_event(pb2), timeout=30)
    assert created.status == "accepted"
    assert created.incident_id.startswith("INC-")
    assert created.priority == "P0"
    assert created.links["incident"].endswith("/incidents/" + created.incident_id)
    assert not created.duplicate

    replay = shield.CreateIncident(shield_event(pb2), timeout=30)
    assert replay.incident_id == created.incident_id
    assert replay.duplicate

    secops = pb2_grpc.IncidentServiceStub(channel_for("secops"))
    incident = secops.GetIncident(pb2.GetIncidentRequest(incident_id=created.incident_id), timeout=30)
    assert incident.title == "Prompt Injection Detected"
    assert (incident.severity, incident.event_severity, incident.priority) == ("P0", "critical", "P0")
    assert incident.status == "NEW"
    assert incident.resource.metadata["deployment_id"] == "dep-12345"
    assert incident.event_count == 2
    expected_payload = base64.b64decode(json.loads(EXAMPLE.read_text())["encryptedPayload"])
    assert incident.encrypted_payload == expected_payload

    viewer = pb2_grpc.IncidentServiceStub(channel_for("viewer"))
    seen_by_viewer = viewer.GetIncident(pb2.GetIncidentRequest(incident_id=created.incident_id), timeout=30)
    assert seen_by_viewer.encrypted_payload == b""


def test_refusals_carry_the_right_codes(api, channel_for):
    pb2, pb2_grpc = api
    viewer = pb2_grpc.IncidentServiceStub(channel_for("viewer"))
    with pytest.raises(grpc.RpcError) as denied:
        viewer.CreateIncident(shield_event(pb2, event_id="viewer-try"), timeout=30)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED

    with pytest.raises(grpc.RpcError) as missing:
        viewer.GetIncident(pb2.GetIncidentRequest(incident_id="INC-20260101-99999"), timeout=30)
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND

    shield = pb2_grpc.IncidentServiceStub(channel_for("llm-shield"))
    bad = shield_event(pb2, event_id="bad-severity")
    bad.severity = "apocalyptic"
    with pytest.raises(grpc.RpcError) as invalid:
        shield.CreateIncident(bad, timeout=30)
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert invalid.value.details().startswith("severity:")


def test_bad_config_fails_at_start_with_exit_78(tmp_path, pki):
    import subprocess
    from conftest import server_binary

    config = tmp_path / "bad.yaml"
    config.write_text("server:\n  listen: [\"127.0.0.1:0\"]\n  public_urll: https://typo\n")
    result = subprocess.run(
        [server_binary(), "--config", str(config), "--tls-cert", str(pki / "server.pem"),
         "--tls-key", str(pki / "server.key"), "--client-ca", str(pki / "ca.pem"), "--database-url", "postgresql://x"],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 78
    assert str(config) in result.stderr
    assert "public_urll" in result.stderr
