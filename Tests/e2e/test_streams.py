"""StreamIncidents from Python grpcio over mTLS: a subscriber that stops reading is ended with RESOURCE_EXHAUSTED
and `resume-position` in the trailing metadata, and resuming from it misses nothing; a stream cut mid-flight and
resumed from its last position gets every change exactly once. Run by `make test-e2e`."""
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from conftest import RunningServer

# Live streams may have this many changes waiting on the server before they are ended as fallen behind.
STREAM_BUFFER = 16


@pytest.fixture(scope="module")
def small_buffer_server(pki, database_url, tmp_path_factory):
    """incident-server with a small per-stream buffer, so a stopped reader falls behind quickly."""
    previous = os.environ.get("INCIDENT_STREAM_BUFFER")
    os.environ["INCIDENT_STREAM_BUFFER"] = str(STREAM_BUFFER)
    try:
        running = RunningServer(pki, database_url, tmp_path_factory.mktemp("stream-server") / "server.log")
    finally:
        if previous is None:
            os.environ.pop("INCIDENT_STREAM_BUFFER")
        else:
            os.environ["INCIDENT_STREAM_BUFFER"] = previous
    yield running
    assert running.stop() == 0


def stub_for(running, pki, pb2_grpc, identity):
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(pki / "ca.pem").read_bytes(),
        private_key=(pki / f"{identity}.key").read_bytes(),
        certificate_chain=(pki / f"{identity}.pem").read_bytes(),
    )
    return pb2_grpc.IncidentServiceStub(grpc.secure_channel(f"127.0.0.1:{running.port}", credentials))


def event(pb2, payload_size=0):
    request = pb2.CreateIncidentRequest(
        event_id="e2e-" + uuid.uuid4().hex, source="llm-shield", title="Prompt Injection Detected",
        severity="high", category="security", event_type="violation",
    )
    if payload_size:
        request.encrypted_payload = b"\x5a" * payload_size
    return request


def create_many(stub, pb2, count, payload_size=0, workers=8):
    """Creates `count` incidents concurrently; returns their change positions."""
    with ThreadPoolExecutor(workers) as pool:
        answers = pool.map(lambda _: stub.CreateIncident(event(pb2, payload_size), timeout=30), range(count))
        return [answer.position for answer in answers]


def read_until(call, last_position):
    """Positions from a stream until `last_position` arrives."""
    got = []
    for incident in call:
        got.append(incident.position)
        if incident.position >= last_position:
            break
    return got


def test_stopped_reader_is_told_where_to_resume_and_resumes_without_gap(api, pki, small_buffer_server):
    pb2, pb2_grpc = api
    shield = stub_for(small_buffer_server, pki, pb2_grpc, "llm-shield")
    secops = stub_for(small_buffer_server, pki, pb2_grpc, "secops")
    base = shield.CreateIncident(event(pb2), timeout=30).position

    call = secops.StreamIncidents(pb2.StreamIncidentsRequest(since_position=base - 1), timeout=120)
    received = [next(call).position]
    assert received == [base]
    # The reader stops. Large payloads (secops is sent them) fill the transport's flow-control window, then the
    # stream's buffer on the server.
    created = create_many(shield, pb2, 400, payload_size=32 * 1024)

    # Reading again: what was already in flight, then the status.
    with pytest.raises(grpc.RpcError) as ended:
        for incident in call:
            received.append(incident.position)
    assert ended.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "fell behind" in ended.value.details()
    trailers = dict(ended.value.trailing_metadata())
    resume = int(trailers["resume-position"])
    assert resume == received[-1]
    assert len(received) < 1 + len(created), "the stream was ended before everything was sent"

    resumed = secops.StreamIncidents(pb2.StreamIncidentsRequest(since_position=resume), timeout=120)
    rest = read_until(resumed, max(created))
    resumed.cancel()
    assert received + rest == sorted([base] + created)


def test_cut_stream_resumed_from_last_position_gets_every_change_once(api, channel_for):
    pb2, pb2_grpc = api
    shield = pb2_grpc.IncidentServiceStub(channel_for("llm-shield"))
    viewer = pb2_grpc.IncidentServiceStub(channel_for("viewer"))
    base = shield.CreateIncident(event(pb2), timeout=30).position

    created = []
    writer = threading.Thread(target=lambda: created.extend(create_many(shield, pb2, 150, workers=4)))
    writer.start()
    received = []
    since = base
    for cut in (4, 9, 16, 25):
        call = viewer.StreamIncidents(pb2.StreamIncidentsRequest(since_position=since), timeout=60)
        for count, incident in enumerate(call, start=1):
            received.append(incident.position)
            if count == cut:
                break
        call.cancel()  # cut mid-flight
        since = received[-1]
    writer.join()
    rest = viewer.StreamIncidents(pb2.StreamIncidentsRequest(since_position=since), timeout=60)
    received += read_until(rest, max(created))
    rest.cancel()
    assert received == sorted(created)


def test_stopped_reader_is_ended_by_the_byte_limit_too(api, pki, database_url, tmp_path):
    """INCIDENT_STREAM_BUFFER_BYTES bounds what one stuck stream keeps waiting, however few changes that is."""
    pb2, pb2_grpc = api
    running = RunningServer(pki, database_url, tmp_path / "server.log",
                            extra_env={"INCIDENT_STREAM_BUFFER": "100000", "INCIDENT_STREAM_BUFFER_BYTES": "262144"})
    try:
        shield = stub_for(running, pki, pb2_grpc, "llm-shield")
        secops = stub_for(running, pki, pb2_grpc, "secops")
        base = shield.CreateIncident(event(pb2), timeout=30).position
        call = secops.StreamIncidents(pb2.StreamIncidentsRequest(since_position=base - 1), timeout=120)
        received = [next(call).position]
        # Far fewer changes than the entry limit, but many times 256 KiB beyond the transport's window.
        created = create_many(shield, pb2, 400, payload_size=32 * 1024)
        with pytest.raises(grpc.RpcError) as ended:
            for incident in call:
                received.append(incident.position)
        assert ended.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert int(dict(ended.value.trailing_metadata())["resume-position"]) == received[-1]
        assert len(received) < 1 + len(created)
    finally:
        assert running.stop() == 0


def test_from_now_skips_the_history_and_misses_nothing_after_its_start(api, channel_for):
    pb2, pb2_grpc = api
    shield = pb2_grpc.IncidentServiceStub(channel_for("llm-shield"))
    viewer = pb2_grpc.IncidentServiceStub(channel_for("viewer"))
    before = shield.CreateIncident(event(pb2), timeout=30).position

    # since_position is ignored with from_now: nothing at or before the server's head when the call starts comes.
    call = viewer.StreamIncidents(pb2.StreamIncidentsRequest(from_now=True, since_position=1), timeout=60)
    # Nothing says when the server has joined the feed, so keep creating until the stream delivers.
    created = []
    stop = threading.Event()

    def keep_creating():
        while not stop.is_set():
            created.append(shield.CreateIncident(event(pb2), timeout=30).position)
            stop.wait(0.2)

    writer = threading.Thread(target=keep_creating)
    writer.start()
    try:
        first = next(call).position
    finally:
        stop.set()
        writer.join()
    assert first > before, "a change from before the stream started was sent"
    assert first in created
    # From the first change on, every later one arrives, in order and once.
    received = [first] + (read_until(call, max(created)) if max(created) > first else [])
    call.cancel()
    assert all(position > before for position in received)
    after_first = [position for position in created if position >= first]
    assert [position for position in received if position in set(created)] == after_first
