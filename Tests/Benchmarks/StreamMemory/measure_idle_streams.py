"""Server memory per idle StreamIncidents stream: RSS of incident-server with N live, idle streams (grpcio
clients over mTLS) against its RSS with none. Prints one line per step and the figure per stream.

    INCIDENT_SERVER=.build/release/incident-server DATABASE_URL=... .dev/venv/bin/python \
        Tests/Benchmarks/StreamMemory/measure_idle_streams.py [STREAMS [ROUNDS]]
"""
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "Tests" / "e2e"))
from conftest import PKI_SCRIPT, RunningServer, compile_incident_stubs  # noqa: E402

import grpc  # noqa: E402

STREAMS_PER_CHANNEL = 100


def rss_kib(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def settle(pid, seconds=3.0):
    time.sleep(seconds)
    return rss_kib(pid)


def main():
    streams = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    work = pathlib.Path(tempfile.mkdtemp(prefix="stream-memory-"))
    pki = work / "pki"
    subprocess.run(["bash", str(PKI_SCRIPT), str(pki)], check=True, capture_output=True)
    pb2, pb2_grpc = compile_incident_stubs(work)

    admin_url = os.environ["DATABASE_URL"]
    name = "im_memory_" + uuid.uuid4().hex
    subprocess.run(["psql", admin_url, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    url = urllib.parse.urlunsplit(urllib.parse.urlsplit(admin_url)._replace(path="/" + name))
    server = RunningServer(pki, url, work / "server.log")
    channels = []
    try:
        def channel(identity):
            credentials = grpc.ssl_channel_credentials(
                root_certificates=(pki / "ca.pem").read_bytes(),
                private_key=(pki / f"{identity}.key").read_bytes(),
                certificate_chain=(pki / f"{identity}.pem").read_bytes())
            opened = grpc.secure_channel(f"127.0.0.1:{server.port}", credentials)
            channels.append(opened)
            return opened

        def event():
            return pb2.CreateIncidentRequest(event_id="mem-" + uuid.uuid4().hex, source="llm-shield",
                                             title="Prompt Injection Detected", severity="high")

        shield = pb2_grpc.IncidentServiceStub(channel("llm-shield"))
        # Warm up every path once (a create, a stream through replay to live) before the baseline.
        base = shield.CreateIncident(event(), timeout=30).position
        warm = pb2_grpc.IncidentServiceStub(channel("viewer")).StreamIncidents(
            pb2.StreamIncidentsRequest(since_position=base - 1), timeout=60)
        next(warm)
        warm.cancel()
        before = settle(server.process.pid)
        print(f"RSS with no stream: {before / 1024:.1f} MiB")

        stubs = [pb2_grpc.IncidentServiceStub(channel("viewer"))
                 for _ in range((streams + STREAMS_PER_CHANNEL - 1) // STREAMS_PER_CHANNEL)]
        # Several rounds: later ones show whether closed streams' memory is reused (no growth) or leaked.
        for round_number in range(1, rounds + 1):
            calls = []
            for index in range(streams):
                calls.append(stubs[index // STREAMS_PER_CHANNEL].StreamIncidents(
                    pb2.StreamIncidentsRequest(since_position=base), timeout=600))
            # One change reaches every stream: each is open, joined and live.
            latest = shield.CreateIncident(event(), timeout=30).position
            for call in calls:
                assert next(call).position == latest
            base = latest
            idle = settle(server.process.pid)
            print(f"round {round_number}: RSS with {streams} idle live streams: {idle / 1024:.1f} MiB, "
                  f"{(idle - before) / streams:.1f} KiB per stream over the baseline")
            for call in calls:
                call.cancel()
            print(f"round {round_number}: RSS after the streams closed: {settle(server.process.pid) / 1024:.1f} MiB")
    finally:
        for opened in channels:
            opened.close()
        server.stop()
        subprocess.run(["psql", admin_url, "-q", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


if __name__ == "__main__":
    main()
