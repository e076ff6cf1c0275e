"""Fixtures for the fault and abuse tests: a test PKI, grpcio stubs compiled from Protos/, and a throwaway Postgres
cluster per test with the real incident-server on it. Short runs by `make test`, long ones by `make test-faults`."""
import pathlib
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "Support" / "python"))

from harness import Cluster, make_pki  # noqa: E402
from incident_stubs import compile_incident_stubs  # noqa: E402


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> pathlib.Path:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def api(tmp_path_factory):
    """The generated Python modules for incident_manager.proto, compiled at test time."""
    return compile_incident_stubs(tmp_path_factory.mktemp("stubs"))


@pytest.fixture(scope="session")
def session_cluster():
    """A Postgres cluster of the suite's own (the database-outage test stops and starts it), removed afterwards."""
    made = Cluster()
    yield made
    made.destroy()


@pytest.fixture
def cluster(session_cluster):
    """The suite's cluster with a fresh database for this test as its current one."""
    session_cluster.fresh_database()
    return session_cluster
