"""Fault 4: SIGTERM under a create flood. Calls in flight end OK or cleanly (UNAVAILABLE, CANCELLED; never
INTERNAL or UNKNOWN), the server exits 0, every OK create is stored, and nothing is half-written: every event claim
has its incident, every incident its change-log entry, page job and audit entry, and the audit chain verifies."""
import time

from flood import Flood
from harness import AUDIT_CHAIN_SQL, Server, knob

THREADS = int(knob("FAULTS_THREADS", 6, 16))
ACKS_BEFORE_TERM = int(knob("FAULTS_ACKS_BEFORE_KILL", 150, 4000))


def test_sigterm_under_flood_ends_calls_cleanly_and_leaves_nothing_half_written(api, pki, cluster, tmp_path):
    server = Server(pki, cluster.url(), tmp_path / "server.log")
    flood = Flood(api, lambda: server.port, pki, threads=THREADS, deadline=20)
    try:
        flood.start()
        assert flood.wait_for_acks(ACKS_BEFORE_TERM, timeout=120) >= ACKS_BEFORE_TERM
        signalled = time.monotonic()
        exit_code = server.terminate(timeout=60)
        drained = time.monotonic() - signalled
        flood.stop()
    finally:
        if server.alive():
            server.kill9()
    codes = flood.codes()
    print(f"SIGTERM under {THREADS} clients: exit {exit_code} after {drained * 1000:.0f} ms; codes {codes}")
    assert exit_code == 0
    assert set(codes) <= {"OK", "UNAVAILABLE", "CANCELLED"}, codes

    stored = dict(cluster.sql("SELECT event_id, coalesce(incident_id, '') FROM events"))
    missing = [o.event_id for o in flood.acknowledged() if stored.get(o.event_id) != o.incident_id]
    assert not missing, f"{len(missing)} OK creates not stored, e.g. {missing[:3]}"
    assert "" not in stored.values(), "an event claim without its incident"
    assert int(cluster.scalar("SELECT count(*) FROM incidents")) == len(stored)
    assert cluster.scalar("""SELECT count(*) FROM incidents i
        WHERE NOT EXISTS (SELECT 1 FROM change_log c WHERE c.incident_id = i.id)
           OR NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.incident_id = i.id)""") == "0"
    assert cluster.scalar("""SELECT count(*) FROM incidents i WHERE priority <= 1
        AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.incident_id = i.id AND j.kind = 'page.trigger')""") == "0"
    entries, first_broken, head_matches = cluster.sql(AUDIT_CHAIN_SQL)[0]
    assert first_broken == "none" and head_matches == "t", (entries, first_broken, head_matches)
    assert int(entries) >= len(stored)
    print(f"{len(stored)} incidents stored, audit chain of {entries} entries verifies")
