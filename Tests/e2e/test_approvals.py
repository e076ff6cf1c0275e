"""Approving and rejecting remediation actions over UpdateIncident from Python grpcio (mTLS), against the real
incident-server started with a config whose block_user rule requires approval. What the server enqueued is read
from its Postgres jobs table. Run by `make test-e2e`."""
import importlib
import json
import pathlib
import re
import subprocess
import uuid

import grpc
import pytest
from google.protobuf import json_format

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "Protos" / "examples" / "shield-event.json"


def action_states():
    """The ActionState enum, from the stubs the `api` fixture compiled (incident_types.proto)."""
    return importlib.import_module("incident_types_pb2")


def create_p0(pb2, pb2_grpc, channel_for, user="user-789"):
    request = json_format.Parse(EXAMPLE.read_text(), pb2.CreateIncidentRequest())
    request.event_id = "shield-" + uuid.uuid4().hex
    request.tags["user_id"] = user
    shield = pb2_grpc.IncidentServiceStub(channel_for("llm-shield"))
    return shield.CreateIncident(request, timeout=30).incident_id


def decide(pb2, incident_id, action_id, decision, reason=""):
    return pb2.UpdateIncidentRequest(
        incident_id=incident_id,
        action_decisions=[pb2.ActionDecision(action_id=action_id, decision=decision, reason=reason)],
    )


def jobs_of(database_url, incident_id):
    """(kind, payload, priority) of every job enqueued for the incident, oldest first."""
    query = ("SELECT coalesce(json_agg(json_build_array(kind, payload, priority) ORDER BY id), '[]') "
             f"FROM jobs WHERE incident_id = '{incident_id}'")
    out = subprocess.run(["psql", database_url, "-At", "-c", query], check=True, capture_output=True, text=True)
    return [tuple(row) for row in json.loads(out.stdout)]


def test_approve_enqueues_the_remediation(api, approvals_channel_for, approvals_database):
    pb2, pb2_grpc = api
    states = action_states()
    incident_id = create_p0(pb2, pb2_grpc, approvals_channel_for)
    secops = pb2_grpc.IncidentServiceStub(approvals_channel_for("secops"))

    waiting = secops.GetIncident(pb2.GetIncidentRequest(incident_id=incident_id), timeout=30)
    assert [(a.id, a.type, a.state) for a in waiting.actions] == [
        ("A1", "block_user", states.ACTION_STATE_PENDING_APPROVAL)]
    assert waiting.actions[0].parameters["user_id"] == "user-789"
    assert not [job for job in jobs_of(approvals_database, incident_id) if job[0] == "remediate"]

    approved = secops.UpdateIncident(
        decide(pb2, incident_id, "A1", pb2.ActionDecision.DECISION_APPROVE, "confirmed injection"), timeout=30)
    action = approved.actions[0]
    assert action.state == states.ACTION_STATE_APPROVED
    assert action.decided_by == "secops"
    assert action.decided_at
    assert action.reason == "confirmed injection"
    assert approved.version == waiting.version + 1
    assert approved.timeline[-1].kind == "action_approved"
    assert approved.timeline[-1].actor == "secops"
    remediations = [job for job in jobs_of(approvals_database, incident_id) if job[0] == "remediate"]
    assert remediations == [("remediate", {"action_id": "A1"}, 0)]

    # The decision is final: deciding again is FAILED_PRECONDITION and enqueues nothing more.
    with pytest.raises(grpc.RpcError) as again:
        secops.UpdateIncident(decide(pb2, incident_id, "A1", pb2.ActionDecision.DECISION_REJECT), timeout=30)
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    # The job runner may already have run the approved action (this config names no executor: it fails).
    assert re.fullmatch(r"action_decisions\[0\]: action A1 is (approved|running|done|failed), not awaiting approval",
                        again.value.details()), again.value.details()
    assert len([job for job in jobs_of(approvals_database, incident_id) if job[0] == "remediate"]) == 1


def test_reject_records_the_reason_and_runs_nothing(api, approvals_channel_for, approvals_database):
    pb2, pb2_grpc = api
    states = action_states()
    incident_id = create_p0(pb2, pb2_grpc, approvals_channel_for, user="user-456")
    secops = pb2_grpc.IncidentServiceStub(approvals_channel_for("secops"))
    rejected = secops.UpdateIncident(
        decide(pb2, incident_id, "A1", pb2.ActionDecision.DECISION_REJECT, "known red-team account"), timeout=30)
    assert rejected.actions[0].state == states.ACTION_STATE_REJECTED
    assert rejected.actions[0].reason == "known red-team account"
    assert rejected.timeline[-1].kind == "action_rejected"
    assert not [job for job in jobs_of(approvals_database, incident_id) if job[0] == "remediate"]


def test_bad_decisions_carry_clear_statuses(api, approvals_channel_for):
    pb2, pb2_grpc = api
    states = action_states()
    incident_id = create_p0(pb2, pb2_grpc, approvals_channel_for, user="user-123")
    secops = pb2_grpc.IncidentServiceStub(approvals_channel_for("secops"))

    with pytest.raises(grpc.RpcError) as unknown:
        secops.UpdateIncident(decide(pb2, incident_id, "A7", pb2.ActionDecision.DECISION_APPROVE), timeout=30)
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    assert "action A7 does not exist" in unknown.value.details()

    with pytest.raises(grpc.RpcError) as unspecified:
        secops.UpdateIncident(decide(pb2, incident_id, "A1", pb2.ActionDecision.DECISION_UNSPECIFIED), timeout=30)
    assert unspecified.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert unspecified.value.details().startswith("action_decisions[0].decision:")

    viewer = pb2_grpc.IncidentServiceStub(approvals_channel_for("viewer"))
    with pytest.raises(grpc.RpcError) as denied:
        viewer.UpdateIncident(decide(pb2, incident_id, "A1", pb2.ActionDecision.DECISION_APPROVE), timeout=30)
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED

    still = secops.GetIncident(pb2.GetIncidentRequest(incident_id=incident_id), timeout=30)
    assert still.actions[0].state == states.ACTION_STATE_PENDING_APPROVAL
