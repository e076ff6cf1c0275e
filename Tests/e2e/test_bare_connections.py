"""Connections that never become gRPC: a TCP connection that sends nothing is closed once the server's handshake
deadline (10 s; the gRPC core's own default is 2 min) passes, instead of holding its descriptor and handshake state,
and the server keeps serving. Figures for floods of bare connects: Tests/Benchmarks/BareConnects."""
import select
import socket
import time

# Generous against the 10 s deadline on a loaded machine; well short of the core's 120 s default.
WAIT_FOR_CLOSE_SECONDS = 60


def test_a_connection_that_sends_nothing_is_closed_at_the_handshake_deadline(api, server, channel_for):
    silent = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(20)]
    start = time.monotonic()
    open_sockets = list(silent)
    while open_sockets and time.monotonic() - start < WAIT_FOR_CLOSE_SECONDS:
        readable, _, _ = select.select(open_sockets, [], [], 1)
        for s in readable:
            try:
                data = s.recv(1)
            except ConnectionResetError:
                data = b""
            if data == b"":
                open_sockets.remove(s)
    for s in silent:
        s.close()
    assert not open_sockets, f"{len(open_sockets)} silent connections still open after {WAIT_FOR_CLOSE_SECONDS}s"
    # The server closed them (each saw end of file, not our own close), and it still serves.
    pb2, pb2_grpc = api
    stub = pb2_grpc.IncidentServiceStub(channel_for("viewer"))
    assert stub.ListIncidents(pb2.ListIncidentsRequest(page_size=1), timeout=30) is not None
