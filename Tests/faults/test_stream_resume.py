"""Fault 3: streams running through a create flood and a `kill -9` of the server. Each reader resumes on the
restarted server from the last position it got; in the end every reader has every change of the feed exactly
once, in order: no gap, no duplicate."""
from flood import Flood
from harness import Server, channel, event, knob
from reader import Reader

READERS = int(knob("FAULTS_STREAM_READERS", 4, 24))
ACKS_PER_PHASE = int(knob("FAULTS_STREAM_ACKS", 150, 3000))


def test_streams_resumed_after_kill9_under_flood_miss_nothing_and_repeat_nothing(api, pki, cluster, tmp_path):
    pb2, pb2_grpc = api
    log = tmp_path / "server.log"
    server = Server(pki, cluster.url(), log)
    try:
        shield = pb2_grpc.IncidentServiceStub(channel(server.port, pki, "llm-shield"))
        base = shield.CreateIncident(event(pb2), timeout=30).position
        readers = [Reader(pb2, pb2_grpc, pki, lambda: server.port, base) for _ in range(READERS)]

        flood = Flood(api, lambda: server.port, pki, threads=4).start()
        flood.wait_for_acks(ACKS_PER_PHASE, timeout=120)
        server.kill9()
        flood.stop()
        server = Server(pki, cluster.url(), log)
        after = Flood(api, lambda: server.port, pki, threads=4).start()
        after.wait_for_acks(ACKS_PER_PHASE, timeout=120)
        after.stop()

        feed = [int(row[0]) for row in cluster.sql(f"SELECT position FROM change_log WHERE position > {base} "
                                                    "ORDER BY position")]
        acked = {o.position for o in flood.acknowledged() + after.acknowledged()}
        assert acked <= set(feed)
        for reader in readers:
            reader.finish(feed[-1], timeout=120)
        for number, reader in enumerate(readers):
            duplicates = len(reader.positions) - len(set(reader.positions))
            gaps = sorted(set(feed) - set(reader.positions))
            assert duplicates == 0, f"reader {number} got {duplicates} changes twice"
            assert not gaps, f"reader {number} missed {len(gaps)} changes, e.g. {gaps[:5]}"
            assert reader.positions == feed
        print(f"{READERS} readers x {len(feed)} changes ({len(acked)} acknowledged creates) through a kill -9: "
              f"no gap, no duplicate; resumes per reader {[r.resumes for r in readers]}; "
              f"ends {readers[0].errors}")
    finally:
        server.terminate()
