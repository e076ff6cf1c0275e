"""Slack's Acknowledge button against the real incident-server over real TLS: the server posts its Block Kit
message to a loopback stand-in of Slack (SLACK_MODE=live), the test presses the message's own button as Slack would
(a form body `payload=<JSON>` signed v0 with hmac/hashlib, sent with curl), and the incident is acknowledged as the
mapped identity; the stand-in's response_url receives the replaced message naming who acknowledged. Forged, stale,
replayed and unmapped presses are refused and change nothing."""
import hashlib
import hmac
import http.server
import json
import secrets
import threading
import time
import urllib.parse

import pytest

from conftest import RunningServer
from test_http_door import base, create, curl, free_port

SIGNING_SECRET = "slack-signing-" + secrets.token_hex(16)
ACTIONS = "/api/v1/integrations/slack/actions"


class SlackStandIn:
    """A loopback HTTP server standing in for Slack's incoming webhook and for response_url."""

    def __init__(self):
        self.received = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with outer.lock:
                    outer.received.append((self.path, body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait_for(self, predicate, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [(path, body) for path, body in self.received if predicate(path, body)]
            if found:
                return found
            time.sleep(0.1)
        with self.lock:
            raise AssertionError(f"the stand-in did not receive it; got {[p for p, _ in self.received]}")

    def received_on(self, path):
        with self.lock:
            return [body for p, body in self.received if p == path]


@pytest.fixture(scope="module")
def slack():
    stand_in = SlackStandIn()
    yield stand_in
    stand_in.httpd.shutdown()


@pytest.fixture(scope="module")
def server(pki, database_url, tmp_path_factory, slack):
    directory = tmp_path_factory.mktemp("slack-actions")
    port = free_port()
    config = directory / "config.yaml"
    config.write_text(f"""
server:
  public_url: https://127.0.0.1:{port}
identities:
  llm-shield: {{permissions: [event:create]}}
  secops: {{permissions: [event:create, incident:read, incident:read_payload, incident:update, incident:stream],
            sources: ["*"]}}
  viewer: {{permissions: [incident:read, incident:stream]}}
notifications:
  slack:
    webhook_url: "${{SLACK_WEBHOOK_URL}}"
    signing_secret: "${{SLACK_SIGNING_SECRET}}"
    user_mapping:
      U0ALICE: secops
      U0VIEWER: viewer
    channel_routing: [{{default: "#incidents-general"}}]
""")
    running = RunningServer(pki, database_url, directory / "server.log", config=config,
                            http_listen=f"127.0.0.1:{port}",
                            extra_env={"SLACK_MODE": "live", "SLACK_WEBHOOK_URL": slack.url + "/webhook",
                                       "SLACK_SIGNING_SECRET": SIGNING_SECRET})
    yield running
    assert running.stop() == 0
    log = (directory / "server.log").read_text()
    assert SIGNING_SECRET not in log, "the signing secret reached the log"
    assert "payload=" not in log and "response_url" not in log, "a request body reached the log"


def sign(body: bytes, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    return "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()


def press_body(incident_id: str, user_id="U0ALICE", username="alice", action_id="acknowledge_incident",
               response_url=None) -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": username, "name": username, "team_id": "T0TEAM"},
        "actions": [{"action_id": action_id, "block_id": "b1", "value": incident_id, "type": "button",
                     "action_ts": str(time.time())}],
        "response_url": response_url or "",
        "trigger_id": "1.2.3",
    }
    return ("payload=" + urllib.parse.quote_plus(json.dumps(payload))).encode()


def post(server, pki, body: bytes, timestamp=None, signature=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": str(timestamp),
               "X-Slack-Signature": signature if signature is not None else sign(body, timestamp)}
    return curl(pki, base(server) + ACTIONS, method="POST", data=body, headers=headers)


def incident(server, pki, incident_id):
    answer = curl(pki, f"{base(server)}/api/v1/incidents/{incident_id}", identity="secops")
    assert answer.status == 200, answer.body
    return answer.json()


def button_value(slack, incident_id):
    """The Acknowledge button's value in the message the server posted for the incident."""
    def posted_for(path, body):
        return path == "/webhook" and incident_id.encode() in body
    message = json.loads(slack.wait_for(posted_for)[0][1])
    buttons = [element for block in message["blocks"] if block["type"] == "actions"
               for element in block["elements"] if element.get("action_id") == "acknowledge_incident"]
    assert len(buttons) == 1, message
    return buttons[0]["value"]


def test_a_signed_press_acknowledges_as_the_mapped_identity(server, pki, api, channel_for, slack):
    created = create(api, channel_for, title="Slack button e2e")
    value = button_value(slack, created.incident_id)
    assert value == created.incident_id
    response_path = "/response/" + secrets.token_hex(8)
    answer = post(server, pki, press_body(value, response_url=slack.url + response_path))
    assert answer.status == 200, answer.body
    assert answer.json()["response_type"] == "ephemeral"
    assert "Acknowledged" in answer.json()["text"]

    acked = incident(server, pki, created.incident_id)
    assert acked["status"] == "ACKNOWLEDGED"
    status_entries = [entry for entry in acked["timeline"] if entry["kind"] == "status_changed"]
    assert status_entries and status_entries[-1]["actor"] == "secops", acked["timeline"]
    notes = [entry for entry in acked["timeline"] if entry["kind"] == "note"]
    assert any("via Slack by alice" in entry["message"] and entry["actor"] == "secops" for entry in notes), notes

    update = json.loads(slack.wait_for(lambda path, _: path == response_path)[0][1])
    assert update["replace_original"] is True
    assert "alice" in update["text"] and "secops" in update["text"] and created.incident_id in update["text"]
    assert any("alice" in json.dumps(block) for block in update["blocks"])

    # A second, freshly signed press: already acknowledged, said so, nothing changes and no second update.
    again = post(server, pki, press_body(value, response_url=slack.url + response_path))
    assert again.status == 200 and "already acknowledged" in again.json()["text"], again.body
    after = incident(server, pki, created.incident_id)
    assert [e for e in after["timeline"] if e["actor"] == "secops"] == \
        [e for e in acked["timeline"] if e["actor"] == "secops"]
    time.sleep(1)
    assert len(slack.received_on(response_path)) == 1


def assert_unchanged(server, pki, created, response_path, slack):
    # The version is no measure: the Slack notification job records its own outcome on the timeline meanwhile.
    after = incident(server, pki, created.incident_id)
    assert after["status"] == "NEW"
    touched = [entry for entry in after["timeline"]
               if entry["kind"] in ("status_changed", "note") or entry["actor"] in ("secops", "viewer")]
    assert touched == [], touched
    assert slack.received_on(response_path) == []


def test_forged_stale_and_missing_signatures_are_401_and_change_nothing(server, pki, api, channel_for, slack):
    created = create(api, channel_for, title="Slack forged press")
    response_path = "/response/" + secrets.token_hex(8)
    body = press_body(created.incident_id, response_url=slack.url + response_path)
    now = int(time.time())
    forged = post(server, pki, body, timestamp=now, signature=sign(body, now, secret="not-the-secret"))
    assert forged.status == 401 and forged.json()["error"]["code"] == "unauthenticated", forged.body
    tampered = post(server, pki, body.replace(b"U0ALICE", b"U0MALLORY"), timestamp=now, signature=sign(body, now))
    assert tampered.status == 401, tampered.body
    stale = post(server, pki, body, timestamp=now - 600)
    assert stale.status == 401 and "300" in stale.json()["error"]["message"], stale.body
    missing = curl(pki, base(server) + ACTIONS, method="POST", data=body,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert missing.status == 401, missing.body
    time.sleep(1)
    assert_unchanged(server, pki, created, response_path, slack)


def test_a_replayed_press_is_401(server, pki, api, channel_for, slack):
    first = create(api, channel_for, title="Slack replay target")
    response_path = "/response/" + secrets.token_hex(8)
    body = press_body(first.incident_id, response_url=slack.url + response_path)
    now = int(time.time())
    signature = sign(body, now)
    assert post(server, pki, body, timestamp=now, signature=signature).status == 200
    def entries():
        return [entry for entry in incident(server, pki, first.incident_id)["timeline"] if entry["actor"] == "secops"]
    acked = entries()
    replay = post(server, pki, body, timestamp=now, signature=signature)
    assert replay.status == 401 and "replayed" in replay.json()["error"]["message"], replay.body
    assert entries() == acked


def test_unmapped_user_unknown_action_and_missing_rights_change_nothing(server, pki, api, channel_for, slack):
    created = create(api, channel_for, title="Slack unmapped press")
    response_path = "/response/" + secrets.token_hex(8)
    url = slack.url + response_path
    unmapped = post(server, pki, press_body(created.incident_id, user_id="U0STRANGER", username="eve",
                                            response_url=url))
    assert unmapped.status == 200, unmapped.body
    assert "not mapped" in unmapped.json()["text"]
    unsupported = post(server, pki, press_body(created.incident_id, action_id="resolve_incident", response_url=url))
    assert unsupported.status == 200 and "unsupported" in unsupported.json()["text"], unsupported.body
    # Mapped, but the identity may not update incidents: the intake's permission rule, not the button, decides.
    viewer = post(server, pki, press_body(created.incident_id, user_id="U0VIEWER", username="val", response_url=url))
    assert viewer.status == 200, viewer.body
    assert "incident:update" in viewer.json()["text"], viewer.body
    time.sleep(1)
    assert_unchanged(server, pki, created, response_path, slack)


@pytest.fixture(scope="module")
def mock_server(pki, tmp_path_factory, slack):
    """The same config with SLACK_MODE=mock: the message update is recorded and logged, never sent."""
    from conftest import fresh_database
    databases = fresh_database()
    database_url = next(databases)
    directory = tmp_path_factory.mktemp("slack-mock")
    port = free_port()
    config = directory / "config.yaml"
    config.write_text(f"""
server:
  public_url: https://127.0.0.1:{port}
identities:
  llm-shield: {{permissions: [event:create]}}
  secops: {{permissions: [incident:read, incident:update]}}
notifications:
  slack:
    signing_secret: "${{SLACK_SIGNING_SECRET}}"
    user_mapping: {{U0ALICE: secops}}
""")
    running = RunningServer(pki, database_url, directory / "server.log", config=config,
                            http_listen=f"127.0.0.1:{port}",
                            extra_env={"SLACK_MODE": "mock", "SLACK_SIGNING_SECRET": SIGNING_SECRET})
    running.log_file = directory / "server.log"
    yield running
    assert running.stop() == 0
    next(databases, None)


def test_mock_mode_acknowledges_but_only_records_the_message_update(mock_server, pki, api, slack):
    from conftest import channels_to
    channels = channels_to(mock_server, pki)
    open_channel = next(channels)
    created = create(api, open_channel, title="Slack mock press")
    response_path = "/response/" + secrets.token_hex(8)
    answer = post(mock_server, pki, press_body(created.incident_id, response_url=slack.url + response_path))
    assert answer.status == 200 and "Acknowledged" in answer.json()["text"], answer.body
    assert incident(mock_server, pki, created.incident_id)["status"] == "ACKNOWLEDGED"
    deadline = time.monotonic() + 30
    while f"mock slack: would update the message of {created.incident_id}" not in mock_server.log_file.read_text():
        assert time.monotonic() < deadline, "no mock line for the message update"
        time.sleep(0.1)
    assert slack.received_on(response_path) == []
    next(channels, None)
