"""Event sources bound to the identities that may report them, from Python grpcio against the real incident-server:
a detector cannot speak for another source (trigger its rules, or claim its event ids so the real event is refused),
a configured `sources` list widens what an identity may name, and dedupe is per (source, event_id)."""
import uuid

import grpc
import pytest

from conftest import RunningServer, channels_to, fresh_database

CONFIG = """\
identities:
  llm-shield: {permissions: [event:create]}
  secops: {permissions: [event:create, incident:read], sources: [collector-a, collector-b]}
  viewer: {permissions: [incident:read]}
  stranger: {permissions: [event:create, incident:update], sources: ["*"]}
"""


@pytest.fixture(scope="module")
def bound_server(pki, tmp_path_factory):
    directory = tmp_path_factory.mktemp("sources")
    config = directory / "config.yaml"
    config.write_text(CONFIG)
    for url in fresh_database():
        running = RunningServer(pki, url, directory / "server.log", config=config)
        yield running
        assert running.stop() == 0


@pytest.fixture
def stub_for(bound_server, pki, api):
    _, pb2_grpc = api
    for open_channel in channels_to(bound_server, pki):
        yield lambda identity: pb2_grpc.IncidentServiceStub(open_channel(identity))


def event(pb2, source, event_id=None, title="Prompt Injection Detected"):
    return pb2.CreateIncidentRequest(event_id=event_id or "src-" + uuid.uuid4().hex, source=source, severity="high",
                                     title=title, event_type="prompt_injection", category="llm")


def test_a_detector_may_report_only_its_own_name_and_claims_nothing_when_refused(api, stub_for):
    pb2, _ = api
    event_id = "claimed-" + uuid.uuid4().hex
    with pytest.raises(grpc.RpcError) as refused:
        stub_for("llm-shield").CreateIncident(event(pb2, "other-detector", event_id, title="forged"), timeout=30)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert refused.value.details() == 'source: identity "llm-shield" may not report source "other-detector"'
    # The refused call claimed nothing: the source's own event is created, not ALREADY_EXISTS.
    real = stub_for("stranger").CreateIncident(event(pb2, "other-detector", event_id), timeout=30)
    assert not real.duplicate and real.incident_id
    # Its own name is fine.
    assert stub_for("llm-shield").CreateIncident(event(pb2, "llm-shield"), timeout=30).incident_id


def test_a_sources_list_widens_what_an_identity_may_report(api, stub_for):
    pb2, _ = api
    secops = stub_for("secops")
    for source in ("collector-a", "collector-b"):
        assert secops.CreateIncident(event(pb2, source), timeout=30).incident_id
    # The list replaces the default: not its own name, nor another detector's.
    for source in ("secops", "llm-shield"):
        with pytest.raises(grpc.RpcError) as refused:
            secops.CreateIncident(event(pb2, source), timeout=30)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert refused.value.details() == f'source: identity "secops" may not report source "{source}"'


def test_two_sources_may_use_the_same_event_id(api, stub_for):
    pb2, _ = api
    event_id = "shared-" + uuid.uuid4().hex
    first = stub_for("llm-shield").CreateIncident(event(pb2, "llm-shield", event_id), timeout=30)
    second = stub_for("secops").CreateIncident(event(pb2, "collector-a", event_id), timeout=30)
    assert not first.duplicate and not second.duplicate
    assert first.incident_id != second.incident_id
    # Each is still deduplicated within its own source.
    again = stub_for("secops").CreateIncident(event(pb2, "collector-a", event_id), timeout=30)
    assert again.duplicate and again.incident_id == second.incident_id


def test_the_default_config_binds_llm_shield_to_its_name(api, channel_for):
    pb2, pb2_grpc = api
    shield = pb2_grpc.IncidentServiceStub(channel_for("llm-shield"))
    with pytest.raises(grpc.RpcError) as refused:
        shield.CreateIncident(event(pb2, "other-detector"), timeout=30)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "source:" in refused.value.details()


def test_update_answers_only_id_version_and_position_without_incident_read(api, stub_for):
    pb2, _ = api
    stranger = stub_for("stranger")
    created = stranger.CreateIncident(event(pb2, "anything"), timeout=30)
    answer = stranger.UpdateIncident(pb2.UpdateIncidentRequest(incident_id=created.incident_id, note="seen"),
                                     timeout=30)
    assert (answer.id, answer.version) == (created.incident_id, created.version + 1)
    assert answer.position > created.position
    assert answer.title == "" and answer.source == "" and not answer.timeline and not answer.tags
    # A reader sees the note the update added.
    full = stub_for("secops").GetIncident(pb2.GetIncidentRequest(incident_id=created.incident_id), timeout=30)
    assert full.title == "Prompt Injection Detected" and full.timeline[-1].message == "seen"
