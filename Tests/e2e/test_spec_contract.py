"""A client built from the integration guide, unchanged, against the real server: the guide's LLM-Shield event
(Protos/examples/shield-event.json) through grpcurl and grpcio reads `severity` as the level P0-P4, the event's word
in `event_severity`, `priority` as an alias, `links.api` under /api/v1; filters take levels and words; a custom
source may send "P2"; timeline entries carry positions and details; a compensated action has its own state.
Run by `make test-e2e`."""
import json
import pathlib
import subprocess
import sys
import uuid

import grpc
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "Protos" / "examples" / "shield-event.json"
GRPCURL = pathlib.Path(sys.executable).parent / "grpcurl"
SERVICE = "incident_manager.IncidentService"


@pytest.fixture
def grpcurl(server, pki):
    def run(identity, *arguments, data=None):
        command = [str(GRPCURL), "-cacert", str(pki / "ca.pem"), "-cert", str(pki / f"{identity}.pem"),
                   "-key", str(pki / f"{identity}.key")]
        if data is not None:
            command += ["-d", data]
        command += [f"127.0.0.1:{server.port}", *arguments]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"grpcurl failed ({result.returncode}): {result.stderr}"
        return result.stdout

    return run


def guide_event(category, severity="critical"):
    """The guide's LLM-Shield event with an event id and category of its own, so the test stands alone."""
    event = json.loads(EXAMPLE.read_text())
    event["eventId"] = f"{event['eventId']}-{uuid.uuid4().hex[:8]}"
    event["category"] = category
    event["severity"] = severity
    return event


def test_guide_event_reads_severity_as_the_level(grpcurl):
    category = "contract-" + uuid.uuid4().hex[:8]
    created = json.loads(grpcurl("llm-shield", f"{SERVICE}/CreateIncident", data=json.dumps(guide_event(category))))
    incident_id = created["incidentId"]
    # No config: the default public_url is the HTTP door's address; the paths are the guide's.
    assert created["links"]["api"] == f"https://127.0.0.1:8443/api/v1/incidents/{incident_id}"
    assert created["links"]["incident"] == f"https://127.0.0.1:8443/incidents/{incident_id}"
    incident = json.loads(grpcurl("viewer", f"{SERVICE}/GetIncident", data=json.dumps({"incidentId": incident_id})))
    assert (incident["severity"], incident["eventSeverity"], incident["priority"]) == ("P0", "critical", "P0")

    high = json.loads(grpcurl("llm-shield", f"{SERVICE}/CreateIncident",
                              data=json.dumps(guide_event(category, severity="high"))))
    incident = json.loads(grpcurl("viewer", f"{SERVICE}/GetIncident",
                                  data=json.dumps({"incidentId": high["incidentId"]})))
    assert (incident["severity"], incident["eventSeverity"], incident["priority"]) == ("P1", "high", "P1")

    def listed(severities):
        answer = json.loads(grpcurl("viewer", f"{SERVICE}/ListIncidents",
                                    data=json.dumps({"categories": [category], "severities": severities})))
        return [item["id"] for item in answer.get("incidents", [])]

    assert listed(["P0"]) == [incident_id]
    assert listed(["critical"]) == [incident_id]
    assert listed(["P1"]) == [high["incidentId"]]
    assert listed(["P0", "high"]) == [high["incidentId"], incident_id]


def test_grpcio_filters_stream_and_custom_level(api, channel_for):
    pb2, pb2_grpc = api
    shield = pb2_grpc.IncidentServiceStub(channel_for("llm-shield"))
    viewer = pb2_grpc.IncidentServiceStub(channel_for("viewer"))
    category = "contract-" + uuid.uuid4().hex[:8]
    critical = shield.CreateIncident(pb2.CreateIncidentRequest(**{
        **{k: v for k, v in guide_event(category).items() if k in ("title", "description", "source")},
        "event_id": "c-" + uuid.uuid4().hex, "category": category, "severity": "critical"}), timeout=30)
    # The guide's custom SDK example: a custom source sends a level (secops may report any source; llm-shield
    # only its own).
    custom = pb2_grpc.IncidentServiceStub(channel_for("secops")).CreateIncident(pb2.CreateIncidentRequest(
        event_id="custom-" + uuid.uuid4().hex, source="custom-monitor", title="Custom Alert", severity="P2",
        category=category, description="Custom monitoring alert",
        resource={"type": "service", "id": "svc-123", "name": "Custom Service"}), timeout=30)
    assert custom.priority == "P2"
    got = viewer.GetIncident(pb2.GetIncidentRequest(incident_id=custom.incident_id), timeout=30)
    assert (got.severity, got.event_severity, got.priority) == ("P2", "medium", "P2")

    def listed(*severities):
        request = pb2.ListIncidentsRequest(categories=[category], severities=list(severities))
        return [item.id for item in viewer.ListIncidents(request, timeout=30).incidents]

    assert listed("P0") == [critical.incident_id]
    assert listed("critical") == [critical.incident_id]
    assert listed("p2") == [custom.incident_id]
    assert listed("medium") == [custom.incident_id], "event_severity of a level-named event is the default word"
    with pytest.raises(grpc.RpcError) as refused:
        listed("sev1")
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details().startswith("severities:")

    stream = viewer.StreamIncidents(pb2.StreamIncidentsRequest(categories=[category], severities=["P0"]), timeout=60)
    first = next(iter(stream))
    stream.cancel()
    assert (first.id, first.severity) == (critical.incident_id, "P0")

    # A level in an update is set as given and keeps the event's word; the timeline says so for programs too.
    secops = pb2_grpc.IncidentServiceStub(channel_for("secops"))
    updated = secops.UpdateIncident(pb2.UpdateIncidentRequest(incident_id=custom.incident_id, severity="P1",
                                                              status="ACKNOWLEDGED"), timeout=30)
    assert (updated.severity, updated.event_severity) == ("P1", "medium")
    status = [entry for entry in updated.timeline if entry.kind == "status_changed"][-1]
    assert dict(status.details) == {"from": "NEW", "to": "ACKNOWLEDGED"}
    assert status.position == updated.position
    change = [entry for entry in updated.timeline if entry.kind == "severity_changed"][-1]
    assert (change.details["from"], change.details["to"]) == ("P2", "P1")
    created_entry = [entry for entry in updated.timeline if entry.kind == "created"][0]
    assert created_entry.position == custom.position and created_entry.details["severity"] == "P2"


def test_reflection_shows_the_new_fields(grpcurl):
    assert "string event_severity = 27;" in grpcurl("viewer", "describe", "incident_manager.Incident")
    assert "ACTION_STATE_COMPENSATED = 8;" in grpcurl("viewer", "describe", "incident_manager.ActionState")
