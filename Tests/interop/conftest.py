"""Fixtures for the interop tests: a fresh test PKI and our rpc-interop-server, run as a subprocess."""
import os
import pathlib
import signal
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PKI_SCRIPT = ROOT / "Tests" / "RPCTests" / "Fixtures" / "make-test-pki.sh"


def server_binary() -> str:
    explicit = os.environ.get("RPC_INTEROP_SERVER")
    if explicit:
        return explicit
    bin_path = subprocess.run(
        ["swift", "build", "--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    return os.path.join(bin_path, "rpc-interop-server")


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> pathlib.Path:
    directory = tmp_path_factory.mktemp("pki")
    subprocess.run(["bash", str(PKI_SCRIPT), str(directory)], check=True)
    return directory


class RunningServer:
    def __init__(self, pki: pathlib.Path, stderr=None):
        self.process = subprocess.Popen(
            [server_binary(), "--listen", "127.0.0.1:0", "--cert", str(pki / "server.pem"),
             "--key", str(pki / "server.key"), "--client-ca", str(pki / "ca.pem")],
            stdout=subprocess.PIPE, stderr=stderr, text=True,
        )
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            self.process.kill()
            raise RuntimeError(f"rpc-interop-server did not start: {line!r}")
        self.port = int(line.split()[1])

    def stop(self, timeout: float = 30, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise


@pytest.fixture(scope="module")
def server(pki):
    running = RunningServer(pki)
    yield running
    running.stop()


@pytest.fixture
def fresh_server(pki):
    running = RunningServer(pki)
    yield running
    running.stop()
