"""Writes the fuzzing seed corpus in Tests/faults/corpus/: valid encodings of each request type the server takes,
one file per seed, named METHOD-N.bin (METHOD with '.' for '/'). Run by hand when Protos/ change:
    .dev/venv/bin/python Tests/faults/make_corpus.py"""
import pathlib
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def string_field(number: int, text: str) -> bytes:
    data = text.encode()
    return bytes([number << 3 | 2, len(data)]) + data


def stubs():
    from grpc_tools import protoc
    import grpc_tools

    out = tempfile.mkdtemp()
    include = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    assert protoc.main(["protoc", f"-I{ROOT / 'Protos'}", f"-I{include}", f"--python_out={out}",
                        "incident_manager.proto", "incident_types.proto"]) == 0
    sys.path.insert(0, out)
    import incident_manager_pb2
    return incident_manager_pb2


def seeds(pb2) -> dict:
    from grpc_reflection.v1alpha import reflection_pb2

    service = "incident_manager.IncidentService"
    create = pb2.CreateIncidentRequest(
        event_id="evt-corpus-1", source="llm-shield", source_version="1.4.2", timestamp="2026-12-03T08:00:00Z",
        event_type="violation", category="security", title="Prompt Injection Detected",
        description="a user tried to override the system prompt", severity="critical",
        metrics={"confidence": 0.97, "tokens": 512.0}, tags={"user_id": "user-1", "tenant_id": "tenant-1"},
        encrypted_payload=b"\x01\x02\x03" * 20)
    create.resource.type = "llm_endpoint"
    create.resource.id = "chat-prod"
    create.resource.name = "Chat"
    update = pb2.UpdateIncidentRequest(incident_id="INC-20261203-00001", status="ACKNOWLEDGED", severity="high",
                                       assigned_team="secops", note="looking", expected_version=1)
    update.action_decisions.add(action_id="A1", decision=pb2.ActionDecision.DECISION_APPROVE, reason="ok")
    reflection = [reflection_pb2.ServerReflectionRequest(list_services="*"),
                  reflection_pb2.ServerReflectionRequest(file_containing_symbol=service),
                  reflection_pb2.ServerReflectionRequest(file_by_filename="incident_manager.proto")]
    return {
        f"/{service}/CreateIncident": [create, pb2.CreateIncidentRequest(
            event_id="evt-corpus-2", source="llm-shield", title="Jailbreak", severity="low")],
        f"/{service}/GetIncident": [pb2.GetIncidentRequest(incident_id="INC-20261203-00001")],
        f"/{service}/UpdateIncident": [update, pb2.UpdateIncidentRequest(incident_id="INC-20261203-00002",
                                                                         note="only a note")],
        f"/{service}/ListIncidents": [pb2.ListIncidentsRequest(
            page_size=20, severities=["critical", "high"], statuses=["NEW"], categories=["security"],
            created_after="2026-12-01T00:00:00Z", created_before="2026-12-31T00:00:00Z", assigned_team="secops"),
            pb2.ListIncidentsRequest(page_size=5, page_token="bm90LWEtdG9rZW4")],
        f"/{service}/StreamIncidents": [pb2.StreamIncidentsRequest(
            severities=["critical"], categories=["security"], statuses=["NEW"], since_position=1,
            sources=["llm-shield"], assigned_teams=["secops"])],
        "/grpc.health.v1.Health/Check": [string_field(1, ""), string_field(1, service)],
        "/grpc.health.v1.Health/Watch": [string_field(1, service)],
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": reflection,
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": reflection,
    }


def main():
    for old in (HERE / "corpus").glob("*.bin"):
        old.unlink()
    for method, messages in seeds(stubs()).items():
        for number, message in enumerate(messages, start=1):
            data = message if isinstance(message, bytes) else message.SerializeToString()
            (HERE / "corpus" / f"{method.strip('/').replace('/', '.')}-{number}.bin").write_bytes(data)


if __name__ == "__main__":
    main()
