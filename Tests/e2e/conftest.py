"""Fixtures for the end-to-end tests: the real incident-server binary on a private database, a test PKI with
the identities llm-shield / secops / viewer, and Python stubs compiled from Protos/ with grpcio-tools."""
import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PKI_SCRIPT = ROOT / "Tests" / "IncidentServerTests" / "Fixtures" / "make-service-pki.sh"
sys.path.insert(0, str(ROOT / "Tests" / "Support" / "python"))

from incident_stubs import compile_incident_stubs  # noqa: E402


def server_binary() -> str:
    explicit = os.environ.get("INCIDENT_SERVER")
    if explicit:
        return explicit
    bin_path = subprocess.run(
        ["swift", "build", "--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    return os.path.join(bin_path, "incident-server")


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> pathlib.Path:
    directory = tmp_path_factory.mktemp("pki")
    subprocess.run(["bash", str(PKI_SCRIPT), str(directory)], check=True)
    return directory


@pytest.fixture(scope="session")
def api(tmp_path_factory):
    """The generated Python modules for incident_manager.proto, compiled at test time."""
    return compile_incident_stubs(tmp_path_factory.mktemp("stubs"))


def fresh_database():
    """Creates a database on the Postgres `make test` started; yields its URL, then drops it."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        pytest.fail("DATABASE_URL is not set: run the tests through `make test-e2e`")
    name = "im_e2e_" + uuid.uuid4().hex
    subprocess.run(["psql", url, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    parts = urllib.parse.urlsplit(url)
    yield urllib.parse.urlunsplit(parts._replace(path="/" + name))
    subprocess.run(["psql", url, "-q", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


@pytest.fixture(scope="session")
def database_url() -> str:
    """A fresh database on the Postgres `make test` started."""
    yield from fresh_database()


class RunningServer:
    """incident-server as a subprocess; its port is read from the 'serving ... on HOST:PORT' log line."""

    def __init__(self, pki: pathlib.Path, database_url: str, log_path: pathlib.Path, listen: str = "127.0.0.1:0",
                 config: pathlib.Path = None, extra_env: dict = None, http_listen: str = None):
        self.log_path = log_path
        self.log = open(log_path, "w")
        env = dict(os.environ, DATABASE_URL=database_url, **(extra_env or {}))
        env.pop("INCIDENT_LISTEN", None)
        config_args = ["--config", str(config)] if config else []
        if http_listen:
            config_args += ["--http-listen", http_listen]
        self.process = subprocess.Popen(
            [server_binary(), *config_args, "--listen", listen, "--tls-cert", str(pki / "server.pem"),
             "--tls-key", str(pki / "server.key"), "--client-ca", str(pki / "ca.pem")],
            stdout=self.log, stderr=self.log, env=env,
        )
        deadline = time.monotonic() + 120
        self.port = None
        # The HTTP door's port, from its own readiness line, when it was asked for.
        self.http_port = None
        while self.port is None or (http_listen and self.http_port is None):
            for line in log_path.read_text().splitlines():
                if "serving IncidentService on " in line:
                    self.port = int(line.split("serving IncidentService on ")[1].split()[0].rsplit(":", 1)[1])
                if "serving HTTP on " in line:
                    self.http_port = int(line.split("serving HTTP on ")[1].split()[0].rsplit(":", 1)[1])
            if self.port is None or (http_listen and self.http_port is None):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.process.kill()
                    raise RuntimeError(f"incident-server did not start:\n{log_path.read_text()}")
                time.sleep(0.1)

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.log.close()


# The shared server's tests send the guide's example event (one user, user-789) again and again, each meaning a new
# incident, on one database: with correlation on they would fold into one. Correlation has servers of its own
# (test_correlation.py).
UNCORRELATED_CONFIG = "correlation: {enabled: false}\n"


@pytest.fixture(scope="module")
def server(pki, database_url, tmp_path_factory):
    directory = tmp_path_factory.mktemp("server")
    config = directory / "uncorrelated.yaml"
    config.write_text(UNCORRELATED_CONFIG)
    running = RunningServer(pki, database_url, directory / "server.log", config=config)
    yield running
    assert running.stop() == 0


def channels_to(server, pki):
    """Yields a function opening mTLS channels to `server` as an identity (llm-shield, secops, viewer); closes them
    afterwards."""
    import grpc

    opened = []

    def open_channel(identity: str):
        credentials = grpc.ssl_channel_credentials(
            root_certificates=(pki / "ca.pem").read_bytes(),
            private_key=(pki / f"{identity}.key").read_bytes(),
            certificate_chain=(pki / f"{identity}.pem").read_bytes(),
        )
        channel = grpc.secure_channel(f"127.0.0.1:{server.port}", credentials)
        opened.append(channel)
        return channel

    yield open_channel
    for channel in opened:
        channel.close()


@pytest.fixture
def channel_for(server, pki):
    """Opens an mTLS channel presenting the certificate of an identity (llm-shield, secops, viewer)."""
    yield from channels_to(server, pki)


# A block_user rule that waits for a human: the spec's auto_remediation with requires_approval.
APPROVAL_CONFIG = """\
integrations:
  llm-shield:
    auto_remediation:
      enabled: true
      actions:
        - name: block-after-approval
          type: block_user
          conditions:
            severity: [P0]
          requires_approval: true
          approval_ttl: 1h
          cooldown: 0s
"""


@pytest.fixture(scope="module")
def approvals_database():
    """A database of its own for the approvals server."""
    yield from fresh_database()


@pytest.fixture(scope="module")
def approvals_server(pki, approvals_database, tmp_path_factory):
    """incident-server started with --config APPROVAL_CONFIG."""
    directory = tmp_path_factory.mktemp("approvals")
    config = directory / "approvals.yaml"
    config.write_text(APPROVAL_CONFIG)
    running = RunningServer(pki, approvals_database, directory / "server.log", config=config)
    yield running
    assert running.stop() == 0


@pytest.fixture
def approvals_channel_for(approvals_server, pki):
    """Opens an mTLS channel to the approvals server as an identity."""
    yield from channels_to(approvals_server, pki)
