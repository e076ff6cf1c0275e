"""Correlation end to end (issue 17): incident-server twice on one database (two replicas), called from Python grpcio
over mTLS, with PagerDuty, Slack and LLM-Shield's block_user executor live against a loopback receiver that counts
what went out. A burst of one user's prompt injections is one incident, one page, one Slack message, one block."""
import http.server
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from conftest import RunningServer, channels_to, fresh_database

# Short enough that a test can outwait it, long enough that a burst's events (milliseconds apart) stay inside.
WINDOW_SECONDS = 4

CONFIG = """\
notifications:
  pagerduty:
    endpoint: {url}/pagerduty
    integration_key: ${{CORR_PD_KEY}}
    events_per_minute: 1000000
  slack:
    webhook_url: {url}/slack
integrations:
  llm-shield:
    auto_remediation:
      enabled: true
      actions:
        - name: block-injector
          type: block_user
          conditions:
            severity: [P0]
          cooldown: 0s
      executors:
        block_user:
          url: {url}/shield/block
          signing_secret: ${{CORR_SHIELD_SECRET}}
          timeout: 10s
jobs:
  workers: 4
  poll_interval: 50ms
correlation:
  window: {window}s
"""

ENVIRONMENT = {"INTEGRATIONS_MODE": "live", "CORR_PD_KEY": "pd-routing-key-for-correlation",
               "CORR_SHIELD_SECRET": "shield-secret-for-correlation"}


class Receiver:
    """Loopback stand-in for PagerDuty, Slack and LLM-Shield's admin API: answers success and keeps every body."""

    def __init__(self):
        received = self.received = []
        lock = self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    received.append((self.path, json.loads(body or b"{}"), self.headers.get("Idempotency-Key")))
                answer = b'{"status":"success","ok":true}'
                self.send_response(202 if self.path == "/pagerduty" else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def bodies(self, path):
        """One body per job: deliveries are at least once (a retry after a slow answer repeats the request with
        the same Idempotency-Key, which the receiving side dedupes), so repeats of a key count once."""
        with self.lock:
            first = {}
            for p, body, key in self.received:
                if p == path:
                    first.setdefault(key or id(body), body)
            return list(first.values())

    def triggers(self, incident_id=None):
        return [b for b in self.bodies("/pagerduty") if b.get("event_action") == "trigger"
                and (incident_id is None or incident_id in json.dumps(b))]

    def mentioning(self, path, incident_id):
        return [b for b in self.bodies(path) if incident_id in json.dumps(b)]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def replicas(pki, tmp_path_factory):
    receiver = Receiver()
    directory = tmp_path_factory.mktemp("correlation")
    config = directory / "correlation.yaml"
    config.write_text(CONFIG.format(url=receiver.url, window=WINDOW_SECONDS))
    database = fresh_database()
    url = next(database)
    servers = [RunningServer(pki, url, directory / f"replica-{n}.log", config=config, extra_env=ENVIRONMENT)
               for n in range(2)]
    yield servers, receiver, url
    for server in servers:
        assert server.stop() == 0
    receiver.stop()
    next(database, None)


@pytest.fixture
def stubs(api, replicas, pki):
    """An IncidentService stub per replica and identity: stubs(replica_index, identity)."""
    _, pb2_grpc = api
    servers = replicas[0]
    openers = [channels_to(server, pki) for server in servers]
    open_channel = [next(opener) for opener in openers]
    yield lambda index, identity="llm-shield": pb2_grpc.IncidentServiceStub(open_channel[index](identity))
    for opener in openers:
        next(opener, None)


def injection(pb2, user, severity="critical", event_id=None):
    return pb2.CreateIncidentRequest(
        event_id=event_id or "inj-" + uuid.uuid4().hex, source="llm-shield", event_type="prompt_injection",
        category="security", title="Prompt injection detected", description="jailbreak attempt",
        severity=severity, tags={"user_id": user})


def settle(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_burst_of_one_user_over_two_replicas_is_one_incident_one_page_one_message_one_block(api, replicas, stubs):
    pb2, _ = api
    receiver = replicas[1]
    user = "user-" + uuid.uuid4().hex[:8]
    requests = [injection(pb2, user) for _ in range(1000)]

    def send(index):
        return stubs(index % 2).CreateIncident(requests[index], timeout=60)

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(len(requests))))
    elapsed = time.monotonic() - started
    print(f"1000 events over 8 callers and 2 replicas in {elapsed:.1f} s")

    assert {a.status for a in answers} == {"accepted"}
    assert len({a.incident_id for a in answers}) == 1
    assert sum(not a.correlated for a in answers) == 1
    assert sum(a.correlated for a in answers) == 999
    assert not any(a.duplicate for a in answers)
    incident_id = answers[0].incident_id

    incident = stubs(0, "viewer").GetIncident(pb2.GetIncidentRequest(incident_id=incident_id))
    assert incident.event_count == 1000
    assert incident.correlation_key.startswith("source,event_type,tags.user_id:")
    assert user not in incident.correlation_key, "the key shows a hash of the user id, not the id"
    assert incident.first_event_at <= incident.last_event_at
    kinds = [entry.kind for entry in incident.timeline]
    assert kinds.count("correlated") == 20
    assert 1 <= kinds.count("correlated_summary") <= 3

    # The outside world heard of it once: the first event's page, message and block; the other 999 started nothing.
    assert settle(lambda: len(receiver.triggers(incident_id)) >= 1
                  and len(receiver.mentioning("/slack", incident_id)) >= 1
                  and len(receiver.mentioning("/shield/block", incident_id)) >= 1)
    time.sleep(3)  # room for any extra job to show up
    assert len(receiver.triggers(incident_id)) == 1
    assert len(receiver.mentioning("/slack", incident_id)) == 1
    blocks = receiver.mentioning("/shield/block", incident_id)
    assert len(blocks) == 1 and blocks[0]["action"] == "block_user"

    # Every event is listed on the incident, a page at a time, each once.
    seen, token = [], ""
    while True:
        page = stubs(1, "viewer").ListIncidentEvents(
            pb2.ListIncidentEventsRequest(incident_id=incident_id, page_size=300, page_token=token))
        assert len(page.events) <= 300
        seen += [e.event_id for e in page.events]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(r.event_id for r in requests)
    assert all(e.tags["user_id"] == user for e in page.events)

    # Replays of folded events stay duplicates of the same incident and start nothing.
    replays = [stubs(i % 2).CreateIncident(requests[i]) for i in range(1, 51)]
    assert all(r.duplicate and not r.correlated and r.incident_id == incident_id for r in replays)
    time.sleep(1)
    assert len(receiver.triggers(incident_id)) == 1


def test_list_incident_events_needs_incident_read_and_a_valid_token(api, stubs):
    pb2, _ = api
    answer = stubs(0).CreateIncident(injection(pb2, "user-" + uuid.uuid4().hex[:8]))
    with pytest.raises(grpc.RpcError) as refused:
        stubs(0).ListIncidentEvents(pb2.ListIncidentEventsRequest(incident_id=answer.incident_id))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as bad:
        stubs(0, "viewer").ListIncidentEvents(
            pb2.ListIncidentEventsRequest(incident_id=answer.incident_id, page_token="not-a-token"))
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as missing:
        stubs(0, "viewer").ListIncidentEvents(pb2.ListIncidentEventsRequest(incident_id="INC-20990101-00001"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def test_two_users_are_two_incidents(api, stubs):
    pb2, _ = api
    users = ["user-" + uuid.uuid4().hex[:8] for _ in range(2)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: (i % 2, stubs(i % 2).CreateIncident(injection(pb2, users[i % 2]))),
                                range(100)))
    by_user = {u: {a.incident_id for i, a in answers if i == u} for u in (0, 1)}
    assert all(len(ids) == 1 for ids in by_user.values())
    assert by_user[0] != by_user[1]


def test_after_the_window_a_new_incident_opens_and_links_the_old(api, stubs):
    pb2, _ = api
    user = "user-" + uuid.uuid4().hex[:8]
    first = stubs(0).CreateIncident(injection(pb2, user))
    assert stubs(1).CreateIncident(injection(pb2, user)).incident_id == first.incident_id
    time.sleep(WINDOW_SECONDS + 1)
    later = stubs(1).CreateIncident(injection(pb2, user))
    assert not later.correlated and later.incident_id != first.incident_id
    incident = stubs(0, "viewer").GetIncident(pb2.GetIncidentRequest(incident_id=later.incident_id))
    assert list(incident.related_incidents) == [first.incident_id]


def test_a_resolved_incident_never_absorbs(api, stubs):
    pb2, _ = api
    user = "user-" + uuid.uuid4().hex[:8]
    first = stubs(0).CreateIncident(injection(pb2, user))
    for status in ("ACKNOWLEDGED", "IN_PROGRESS", "RESOLVED"):
        stubs(0, "secops").UpdateIncident(pb2.UpdateIncidentRequest(incident_id=first.incident_id, status=status))
    after = stubs(1).CreateIncident(injection(pb2, user))
    assert not after.correlated and after.incident_id != first.incident_id
    incident = stubs(0, "viewer").GetIncident(pb2.GetIncidentRequest(incident_id=after.incident_id))
    assert list(incident.related_incidents) == [first.incident_id]
    old = stubs(0, "viewer").GetIncident(pb2.GetIncidentRequest(incident_id=first.incident_id))
    assert old.event_count == 1 and old.status == "RESOLVED"


def test_criticals_folding_into_a_p1_raise_it_and_page_once(api, replicas, stubs):
    pb2, _ = api
    receiver = replicas[1]
    user = "user-" + uuid.uuid4().hex[:8]
    opened = stubs(0).CreateIncident(injection(pb2, user, severity="high"))
    assert opened.priority == "P1"
    incident_id = opened.incident_id
    time.sleep(2)  # the P1's own page (if its policy pages P1) goes out first
    before = len(receiver.triggers(incident_id))
    with ThreadPoolExecutor(4) as pool:
        raised = list(pool.map(lambda i: stubs(i % 2).CreateIncident(injection(pb2, user)), range(10)))
    assert all(r.correlated and r.incident_id == incident_id for r in raised)
    incident = stubs(0, "viewer").GetIncident(pb2.GetIncidentRequest(incident_id=incident_id))
    assert incident.severity == "P0" and incident.event_severity == "critical"
    assert sum(e.kind == "severity_changed" for e in incident.timeline) == 1
    assert settle(lambda: len(receiver.triggers(incident_id)) == before + 1)
    time.sleep(2)
    assert len(receiver.triggers(incident_id)) == before + 1
    # The raise pages; it sends no Slack message and blocks nobody (the folded events start nothing else).
    assert len(receiver.mentioning("/shield/block", incident_id)) == 0
