"""Fault 1: `kill -9` of incident-server during a create flood, restarted on the same database. Every
acknowledged create is stored exactly once, re-sending every event gives duplicates and no new incident for an
acknowledged one, pending jobs resume (none stuck `running` past its lease, none lost), and no incident is paged
under two dedup keys (PagerDuty in live mode against a loopback receiver)."""
from concurrent.futures import ThreadPoolExecutor

from flood import Flood
from harness import PagerDutyReceiver, Server, channel, event, knob, wait_until

THREADS = int(knob("FAULTS_THREADS", 6, 16))
ACKS_BEFORE_KILL = int(knob("FAULTS_ACKS_BEFORE_KILL", 150, 4000))
KILLS = int(knob("FAULTS_KILLS", 1, 3))


def pipeline_config(tmp_path, receiver):
    config = tmp_path / "faults.yaml"
    config.write_text(f"""
notifications:
  pagerduty:
    endpoint: {receiver.url}/pagerduty
    integration_key: ${{FAULTS_PD_KEY}}
    events_per_minute: 1000000
jobs:
  workers: 4
  poll_interval: 50ms
  lease: 2s
  retry_base: 100ms
  retry_max: 1s
""")
    return config


LIVE_PAGERDUTY = {"PAGERDUTY_MODE": "live", "FAULTS_PD_KEY": "pd-routing-key-for-fault-tests"}


def test_kill9_during_create_flood_loses_nothing_acknowledged_and_pages_once(api, pki, cluster, tmp_path):
    pb2, pb2_grpc = api
    receiver = PagerDutyReceiver()
    config = pipeline_config(tmp_path, receiver)
    log = tmp_path / "server.log"
    server = Server(pki, cluster.url(), log, config=config, extra_env=LIVE_PAGERDUTY)
    outcomes = []
    try:
        for round_number in range(KILLS):
            flood = Flood(api, lambda: server.port, pki, threads=THREADS).start()
            acked = flood.wait_for_acks(ACKS_BEFORE_KILL, timeout=120)
            server.kill9()
            flood.stop()
            outcomes += flood.outcomes
            print(f"round {round_number}: {acked} acknowledged before kill -9; codes {flood.codes()}")
            server = Server(pki, cluster.url(), log, config=config, extra_env=LIVE_PAGERDUTY)

        acknowledged = [o for o in outcomes if o.code == "OK"]
        unacknowledged = [o for o in outcomes if o.code != "OK"]
        assert len(acknowledged) >= ACKS_BEFORE_KILL
        assert {o.code for o in unacknowledged} <= {"UNAVAILABLE", "CANCELLED", "DEADLINE_EXCEEDED"}, \
            f"calls cut by the kill ended {sorted({o.code for o in unacknowledged})}"

        # Every acknowledged create is stored, under the incident id it was answered with; one incident per event.
        stored = dict(cluster.sql("SELECT event_id, coalesce(incident_id, '') FROM events"))
        missing = [o.event_id for o in acknowledged if stored.get(o.event_id) != o.incident_id]
        assert not missing, f"{len(missing)} acknowledged creates not stored as answered, e.g. {missing[:3]}"
        assert "" not in stored.values(), "an event claim without its incident"
        incidents = int(cluster.scalar("SELECT count(*) FROM incidents"))
        assert incidents == len(stored) == len(set(stored.values()))

        # Re-sending every event: duplicates of what was acknowledged, never a second incident.
        stub = pb2_grpc.IncidentServiceStub(channel(server.port, pki, "llm-shield"))

        def resend(outcome):
            return outcome, stub.CreateIncident(event(pb2, outcome.severity, outcome.event_id), timeout=30)

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(resend, outcomes))
        for outcome, answer in answers:
            if outcome.code == "OK":
                assert answer.duplicate and answer.incident_id == outcome.incident_id, outcome.event_id
            elif outcome.event_id in stored:
                assert answer.duplicate and answer.incident_id == stored[outcome.event_id], outcome.event_id
        assert int(cluster.scalar("SELECT count(*) FROM incidents")) == len(outcomes)
        assert int(cluster.scalar("SELECT count(DISTINCT event_id) FROM events")) == len(outcomes)

        # Jobs: every P0/P1 incident has its page job, and every page job runs to done after the restart.
        assert cluster.scalar("""
            SELECT count(*) FROM incidents i WHERE priority <= 1
              AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.incident_id = i.id AND j.kind = 'page.trigger')""") == "0"
        paged = int(cluster.scalar("SELECT count(*) FROM incidents WHERE priority <= 1"))
        assert paged > 0
        assert wait_until(lambda: cluster.scalar(
            "SELECT count(*) FROM jobs WHERE kind = 'page.trigger' AND state <> 'done'") == "0", timeout=120), \
            cluster.sql("SELECT state, count(*), max(attempts) FROM jobs WHERE kind = 'page.trigger' GROUP BY 1")
        # Nothing due is left behind: no job still leased past its lease, none ready and due for long.
        assert cluster.scalar("SELECT count(*) FROM jobs WHERE state = 'running' AND lease_until < now()") == "0"
        assert cluster.scalar("SELECT count(*) FROM jobs WHERE state = 'dead'") == "0"

        # Pages: each paged incident triggered, always under its own id as dedup key (a retry may repeat it).
        keys_by_event = {}
        for page in receiver.pages():
            if page.get("event_action") == "trigger":
                source_event = page["payload"]["custom_details"]["description"]
                keys_by_event.setdefault(source_event, set()).add(page["dedup_key"])
        paged_events = dict(cluster.sql("""
            SELECT e.event_id, e.incident_id FROM events e JOIN incidents i ON i.id = e.incident_id
            WHERE i.priority <= 1"""))
        assert set(keys_by_event) == set(paged_events), "a P0/P1 incident was not paged, or a P2+ one was"
        two_keys = {e: k for e, k in keys_by_event.items() if k != {paged_events[e]}}
        assert not two_keys, f"incidents paged under other or several dedup keys: {list(two_keys.items())[:3]}"
        repeats = len([p for p in receiver.pages() if p.get("event_action") == "trigger"]) - len(keys_by_event)
        print(f"{len(outcomes)} creates sent, {len(acknowledged)} acknowledged, {len(outcomes) - len(acknowledged)}"
              f" cut by the kill; {paged} incidents paged, {repeats} trigger retries with the same dedup key")
    finally:
        server.terminate()
        receiver.stop()
