"""`incidentctl bench` against the real incident-server over mTLS: a short run of each kind reports calls,
no errors, and (stream fan-out) every acked create delivered to every subscriber. Only counts are asserted,
never speeds: speed is what `make bench` measures. Run by `make test-e2e` (INCIDENTCTL names the binary)."""
import json
import os
import subprocess

import pytest


def incidentctl() -> str:
    binary = os.environ.get("INCIDENTCTL")
    if not binary:
        pytest.fail("INCIDENTCTL is not set: run the tests through `make test-e2e`")
    return binary


def bench(server, pki, identity, *arguments):
    command = [
        incidentctl(), "bench", "--server", f"127.0.0.1:{server.port}", "--ca", str(pki / "ca.pem"),
        "--cert", str(pki / f"{identity}.pem"), "--key", str(pki / f"{identity}.key"), "--json", *arguments,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("method, identity", [("create", "llm-shield"), ("health", "viewer")])
def test_unary_bench_reports_calls_and_no_errors(server, pki, method, identity):
    # llm-shield may report only its own name as the events' source.
    source = ["--source", identity] if method == "create" else []
    report = bench(server, pki, identity, "--method", method, "--duration", "2", "--warmup", "0.5",
                   "--concurrency", "8", "--duplicates", "0.1" if method == "create" else "0", *source)
    assert report["method"] == method
    assert report["calls_ok"] > 0
    assert report["calls_per_s"] > 0
    assert report["calls_failed"] == 0, report["errors"]
    assert report["errors"] == {}
    latency = report["latency_us"]
    assert 0 < latency["p50"] <= latency["p99"] <= latency["max"]
    assert report["distribution"][-1][0] == 100


def test_open_loop_keeps_its_schedule_count(server, pki):
    report = bench(server, pki, "secops", "--method", "get", "--rate", "50", "--duration", "2", "--warmup", "0",
                   "--get-pool", "5")
    # 50 calls/s for 2 s are due whatever the latency: all 100 are made and answered.
    assert report["calls_ok"] == 100
    assert report["errors"] == {}


def test_stream_fanout_delivers_every_create_to_every_subscriber(server, pki):
    report = bench(server, pki, "secops", "--method", "stream", "--subscribers", "5", "--open-rate", "10",
                   "--rate", "20", "--duration", "2", "--warmup", "0.5", "--drain", "60")
    stream = report["stream"]
    assert stream["ready"] == 5
    assert stream["creates_acked"] == 50
    assert stream["expected"] == 250
    assert stream["delivered"] == 250
    assert stream["missing"] == 0
    assert stream["duplicates"] == 0
    assert stream["wrong_incident"] == 0
    assert stream["errors"] == {}
    assert stream["delivery_latency_us"]["count"] == 5 * report["calls_ok"]


def test_bad_flags_are_usage_errors(pki):
    result = subprocess.run([incidentctl(), "bench", "--severity-mix", "apocalyptic=3"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 64
    assert "--severity-mix" in result.stderr
