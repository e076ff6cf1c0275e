"""The metrics port against slow and crowding clients: a client that dribbles its request a byte a second neither
blocks a concurrent scrape nor keeps its connection past the per-connection deadline; a crowd of idle connections
gets 503 beyond the bound instead of queueing scrapes; `:PORT` alone binds loopback only."""
import re
import socket
import threading
import time
import urllib.request

import pytest

from conftest import RunningServer


def start_with_metrics(pki, database_url, directory, listen):
    running = RunningServer(pki, database_url, directory / "server.log",
                            extra_env={"INCIDENT_METRICS_LISTEN": listen})
    log = (directory / "server.log").read_text()
    found = re.search(r"metrics on http://([^/]*):(\d+)/metrics", log)
    assert found, f"no metrics line in the log:\n{log}"
    running.metrics_port = int(found.group(2))
    return running


@pytest.fixture(scope="module")
def metrics_server(pki, database_url, tmp_path_factory):
    running = start_with_metrics(pki, database_url, tmp_path_factory.mktemp("metrics-server"), "127.0.0.1:0")
    yield running
    assert running.stop() == 0


def scrape(port, timeout=10):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as response:
        return response.status, response.read()


class Dribbler(threading.Thread):
    """Sends a request head one byte a second, never finishing it; records how many bytes went out before the
    server closed the connection."""

    def __init__(self, port, seconds):
        super().__init__(daemon=True)
        self.port, self.seconds = port, seconds
        self.sent = 0
        self.closed_by_server = False
        self.connected = threading.Event()

    def run(self):
        head = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            self.connected.set()
            for byte in head[:self.seconds]:
                try:
                    s.sendall(bytes([byte]))
                    self.sent += 1
                    time.sleep(1)
                    s.setblocking(False)
                    try:
                        if s.recv(1) == b"":
                            self.closed_by_server = True
                            return
                    except BlockingIOError:
                        pass
                    finally:
                        s.setblocking(True)
                except (BrokenPipeError, ConnectionResetError):
                    self.closed_by_server = True
                    return


def test_a_dribbling_client_neither_blocks_a_scrape_nor_outlives_its_deadline(metrics_server):
    dribbler = Dribbler(metrics_server.metrics_port, seconds=30)
    dribbler.start()
    assert dribbler.connected.wait(10)
    time.sleep(1.5)  # the dribbler's connection has been accepted and is being read
    status, body = scrape(metrics_server.metrics_port, timeout=10)
    assert status == 200 and b"# TYPE" in body
    dribbler.join(40)
    assert dribbler.closed_by_server, "the server kept a connection that never finished its request"
    assert dribbler.sent < 30


def test_a_crowd_of_idle_connections_gets_503_beyond_the_bound_and_scrapes_recover(metrics_server):
    idle = [socket.create_connection(("127.0.0.1", metrics_server.metrics_port), timeout=5) for _ in range(40)]
    try:
        # Beyond the bound the answer comes at once (503), it does not wait behind the idle ones.
        with socket.create_connection(("127.0.0.1", metrics_server.metrics_port), timeout=5) as extra:
            extra.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = extra.recv(64)
        assert answer.startswith(b"HTTP/1.1 503"), answer
    finally:
        for s in idle:
            s.close()
    for _ in range(50):
        try:
            if scrape(metrics_server.metrics_port, timeout=10)[0] == 200:
                break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        pytest.fail("scrapes did not recover once the idle connections closed")


def non_loopback_address():
    """This machine's address on its default route, or None when it has only loopback."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


def test_a_port_without_a_host_binds_loopback_only(pki, database_url, tmp_path):
    running = start_with_metrics(pki, database_url, tmp_path, ":0")
    try:
        assert scrape(running.metrics_port)[0] == 200
        outside = non_loopback_address()
        if outside is None:
            pytest.skip("no non-loopback address to try")
        with pytest.raises(OSError):
            socket.create_connection((outside, running.metrics_port), timeout=5).close()
    finally:
        assert running.stop() == 0
