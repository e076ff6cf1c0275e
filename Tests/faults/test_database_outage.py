"""Fault 2: the suite's own Postgres cluster stopped for some seconds under a create flood, then started again.
Meanwhile calls end UNAVAILABLE within their deadline (no hang, no other status) and health says NOT_SERVING;
afterwards the same server process serves again (health SERVING, creates acknowledged) and nothing acknowledged
is lost; a stream reader kept through the outage ends with every change once, and a stream opened afterwards gets
new changes live (the server's LISTEN connection came back too)."""
import time

import grpc

from flood import Flood
from harness import Server, channel, event, health, knob, wait_until
from reader import Reader

DOWN_SECONDS = knob("FAULTS_PG_DOWN_SECONDS", 3, 10)
THREADS = int(knob("FAULTS_THREADS", 6, 16))
DEADLINE = 5.0


def test_postgres_stopped_under_flood_gives_unavailable_then_recovers_without_restart(api, pki, cluster, tmp_path):
    pb2, pb2_grpc = api
    server = Server(pki, cluster.url(), tmp_path / "server.log")
    probe = channel(server.port, pki, "viewer")
    flood = Flood(api, lambda: server.port, pki, threads=THREADS, deadline=DEADLINE, pause_after_error=0.05)
    try:
        assert health(probe) == "SERVING"
        shield = pb2_grpc.IncidentServiceStub(channel(server.port, pki, "llm-shield"))
        base = shield.CreateIncident(event(pb2), timeout=30).position
        reader = Reader(pb2, pb2_grpc, pki, lambda: server.port, base)
        flood.start()
        assert flood.wait_for_acks(50, timeout=60) >= 50

        cluster.stop()
        down_at = time.monotonic()
        seen = set()
        while time.monotonic() - down_at < DOWN_SECONDS:
            seen.add(health(probe))
            time.sleep(0.2)
        up_at = time.monotonic()
        cluster.start()
        assert "NOT_SERVING" in seen, f"health while the database was down: {seen}"
        assert seen <= {"NOT_SERVING", "SERVING"}, seen  # SERVING only in the instant before the stop is seen

        assert wait_until(lambda: health(probe) == "SERVING", timeout=30), "health did not come back"
        acked_at_restart = len(flood.acknowledged())
        assert flood.wait_for_acks(acked_at_restart + 50, timeout=30) >= acked_at_restart + 50, \
            "creates were not acknowledged again after the database came back"
        recovered_at = time.monotonic()
        flood.stop()
        assert server.alive(), "the server died"

        outcomes = flood.outcomes
        codes = flood.codes()
        print(f"database down {DOWN_SECONDS:.0f} s: {len(outcomes)} creates, codes {codes}, "
              f"recovered {recovered_at - up_at:.1f} s after start")
        assert set(codes) <= {"OK", "UNAVAILABLE"}, codes
        # Calls made while the database was down ended UNAVAILABLE, each well before its deadline.
        during = [o for o in outcomes if o.started > down_at + 1 and o.ended and o.ended < up_at]
        assert during and all(o.code == "UNAVAILABLE" for o in during), {o.code for o in during}
        slowest = max(o.ended - o.started for o in during)
        assert slowest < DEADLINE, f"a call waited {slowest:.1f} s for the database"
        print(f"{len(during)} calls while down, all UNAVAILABLE, slowest answered in {slowest * 1000:.0f} ms")

        stored = dict(cluster.sql("SELECT event_id, coalesce(incident_id, '') FROM events"))
        missing = [o.event_id for o in flood.acknowledged() if stored.get(o.event_id) != o.incident_id]
        assert not missing, f"{len(missing)} acknowledged creates lost, e.g. {missing[:3]}"
        assert int(cluster.scalar("SELECT count(*) FROM incidents")) == len(stored)

        feed = [int(row[0]) for row in cluster.sql(f"SELECT position FROM change_log WHERE position > {base} "
                                                    "ORDER BY position")]
        reader.finish(feed[-1], timeout=60)
        assert reader.positions == feed, "the stream kept through the outage missed or repeated changes"

        # Live delivery after the outage: a stream waiting at the head of the feed gets the next create promptly.
        viewer = pb2_grpc.IncidentServiceStub(probe)
        live = viewer.StreamIncidents(pb2.StreamIncidentsRequest(since_position=feed[-1]), timeout=10)
        created = shield.CreateIncident(event(pb2), timeout=30)
        try:
            assert next(live).position == created.position
        except grpc.RpcError as error:
            raise AssertionError(f"no live delivery after the outage: {error.code().name}") from error
        live.cancel()
        print(f"stream reader through the outage: {len(feed)} changes once each, {reader.resumes} calls, "
              f"ends {reader.errors}")
    finally:
        flood.stop()
        probe.close()
        server.terminate()
