"""Caps on long-lived calls against the real server from Python grpcio over mTLS: StreamIncidents per identity
(RESOURCE_EXHAUSTED naming the cap, another identity unaffected, a closed stream frees its place), Health.Watch
calls at once, and repeated filter values in a StreamIncidentsRequest (INVALID_ARGUMENT naming the field)."""
import time
import uuid

import grpc
import pytest

from conftest import RunningServer

STREAMS_PER_IDENTITY = 2
HEALTH_WATCHERS = 2
WATCH = "/grpc.health.v1.Health/Watch"


@pytest.fixture(scope="module")
def capped_server(pki, database_url, tmp_path_factory):
    running = RunningServer(pki, database_url, tmp_path_factory.mktemp("capped-server") / "server.log",
                            extra_env={"INCIDENT_STREAMS_PER_IDENTITY": str(STREAMS_PER_IDENTITY),
                                       "INCIDENT_HEALTH_WATCHERS": str(HEALTH_WATCHERS)})
    yield running
    assert running.stop() == 0


@pytest.fixture
def channel_to(capped_server, pki):
    opened = []

    def open_channel(identity):
        credentials = grpc.ssl_channel_credentials(
            root_certificates=(pki / "ca.pem").read_bytes(),
            private_key=(pki / f"{identity}.key").read_bytes(),
            certificate_chain=(pki / f"{identity}.pem").read_bytes())
        channel = grpc.secure_channel(f"127.0.0.1:{capped_server.port}", credentials)
        opened.append(channel)
        return channel

    yield open_channel
    for channel in opened:
        channel.close()


def first_answer_or_status(call):
    """Waits for a stream's first message or its final status: ('open', None) or ('ended', RpcError)."""
    try:
        next(call)
        return "open", None
    except grpc.RpcError as ended:
        return "ended", ended


@pytest.fixture(scope="module")
def one_incident(api, capped_server, pki):
    """An incident every stream from position 0 receives at once, so a served stream shows itself."""
    pb2, pb2_grpc = api
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(pki / "ca.pem").read_bytes(), private_key=(pki / "secops.key").read_bytes(),
        certificate_chain=(pki / "secops.pem").read_bytes())
    with grpc.secure_channel(f"127.0.0.1:{capped_server.port}", credentials) as channel:
        pb2_grpc.IncidentServiceStub(channel).CreateIncident(pb2.CreateIncidentRequest(
            event_id="caps-" + uuid.uuid4().hex, source="llm-shield", title="Prompt Injection Detected",
            severity="high", category="security", event_type="violation"), timeout=30)


def open_stream(stub, pb2, **filters):
    """A StreamIncidents call from position 0 and how it began: ('open', None) once the first incident arrived."""
    call = stub.StreamIncidents(pb2.StreamIncidentsRequest(since_position=0, **filters), timeout=60)
    return call, first_answer_or_status(call)


def test_stream_incidents_per_identity_is_capped_and_names_the_cap(api, channel_to, one_incident):
    pb2, pb2_grpc = api
    viewer = pb2_grpc.IncidentServiceStub(channel_to("viewer"))
    held = []
    for _ in range(STREAMS_PER_IDENTITY):
        call, (state, error) = open_stream(viewer, pb2)
        assert state == "open", error
        held.append(call)
    _, (state, error) = open_stream(viewer, pb2)
    assert state == "ended", "a stream over the identity's cap was served"
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"at most {STREAMS_PER_IDENTITY} StreamIncidents calls per identity" in error.details()
    assert "INCIDENT_STREAMS_PER_IDENTITY" in error.details()

    # Another identity has its own places.
    secops = pb2_grpc.IncidentServiceStub(channel_to("secops"))
    other, (state, error) = open_stream(secops, pb2)
    assert state == "open", error
    other.cancel()

    # A closed stream gives its place back (once the server has seen the cancellation).
    held[0].cancel()
    for _ in range(100):
        again, (state, error) = open_stream(viewer, pb2)
        if state == "open":
            again.cancel()
            break
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        time.sleep(0.2)
    else:
        pytest.fail("the cancelled stream's place was never given back")
    for call in held[1:]:
        call.cancel()


def test_health_watch_calls_are_capped(channel_to):
    channel = channel_to("viewer")
    watch = channel.unary_stream(WATCH, request_serializer=lambda raw: raw, response_deserializer=lambda raw: raw)
    held = []
    for _ in range(HEALTH_WATCHERS):
        call = watch(b"", timeout=60)
        assert next(call) == b"\x08\x01"  # status: SERVING
        held.append(call)
    state, error = first_answer_or_status(watch(b"", timeout=30))
    assert state == "ended", "a Health.Watch over the cap was served"
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"at most {HEALTH_WATCHERS} Health.Watch calls" in error.details()
    # Check is not a watch: probes keep working while the watchers are held.
    check = channel.unary_unary("/grpc.health.v1.Health/Check", request_serializer=lambda raw: raw,
                                response_deserializer=lambda raw: raw)
    assert check(b"", timeout=30) == b"\x08\x01"
    for call in held:
        call.cancel()


# Values that match the fixture's incident, so a served stream answers at once.
MATCHING = {"severities": "high", "categories": "security", "statuses": "NEW", "sources": "llm-shield",
            "assigned_teams": "security-team"}


@pytest.mark.parametrize("field", sorted(MATCHING))
def test_stream_filters_with_too_many_values_are_refused_naming_the_field(api, channel_to, one_incident, field):
    pb2, pb2_grpc = api
    secops = pb2_grpc.IncidentServiceStub(channel_to("secops"))
    _, (state, error) = open_stream(secops, pb2, **{field: [MATCHING[field]] * 65})
    assert state == "ended"
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == f"{field}: at most 64 values"
    # 64 values are still a filter, and this one matches.
    fine, (state, error) = open_stream(secops, pb2, **{field: [MATCHING[field]] * 64})
    assert state == "open", error
    fine.cancel()
