"""Escalation reaches the next people across a restart: the real incident-server binary in live PagerDuty mode
toward a loopback stand-in, with an escalation policy whose levels page keys of their own. An unacknowledged P0
pages level 1's key (dedup key = the incident id), the server is killed (-9) and restarted while level 1's timeout
runs, and level 2's key is then paged once under `<id>:L2`; no alert is triggered twice. Acknowledging sends
`acknowledge` for both alerts toward the keys that opened them; with `auto_resolve: false` resolving sends nothing.
The events are checked against the integration guide's PagerDuty example, and no key value reaches the log or the
timeline."""
import time

from harness import PagerDutyReceiver, Server, channel, event, wait_until

KEYS = {"E2E_PD_DEFAULT_KEY": "pd-default-key-e2e", "E2E_PD_L1_KEY": "pd-level-1-key-e2e",
        "E2E_PD_L2_KEY": "pd-level-2-key-e2e"}
LEVEL_1_TIMEOUT = 6


def escalation_config(tmp_path, receiver):
    config = tmp_path / "escalation.yaml"
    config.write_text(f"""
notifications:
  pagerduty:
    endpoint: {receiver.url}/pagerduty
    integration_key: ${{E2E_PD_DEFAULT_KEY}}
    auto_resolve: false
integrations:
  llm-shield:
    routing:
      escalation_policy: security-critical
      escalation_policies:
        security-critical:
          levels:
            - {{targets: [security-oncall], timeout: {LEVEL_1_TIMEOUT}s, integration_key: "${{E2E_PD_L1_KEY}}"}}
            - {{targets: [security-lead, ciso], timeout: 10m, integration_key: "${{E2E_PD_L2_KEY}}"}}
jobs:
  poll_interval: 50ms
  lease: 2s
  retry_base: 100ms
  retry_max: 1s
""")
    return config


def events(receiver, action=None):
    """(event_action, routing_key, dedup_key) of what the stand-in received, in order."""
    return [(body.get("event_action"), body.get("routing_key"), body.get("dedup_key")) for body in receiver.pages()
            if action is None or body.get("event_action") == action]


def test_restart_between_levels_pages_level_2_once_and_acknowledges_both(api, pki, cluster, tmp_path):
    pb2, pb2_grpc = api
    receiver = PagerDutyReceiver()
    config = escalation_config(tmp_path, receiver)
    log = tmp_path / "server.log"
    environment = {"PAGERDUTY_MODE": "live", **KEYS}
    server = Server(pki, cluster.url(), log, config=config, extra_env=environment)
    try:
        shield = pb2_grpc.IncidentServiceStub(channel(server.port, pki, "llm-shield"))
        created = time.monotonic()
        incident_id = shield.CreateIncident(event(pb2, "critical"), timeout=30).incident_id

        assert wait_until(lambda: events(receiver, "trigger"), timeout=30)
        assert events(receiver) == [("trigger", KEYS["E2E_PD_L1_KEY"], incident_id)]
        first = receiver.pages()[0]
        # The guide's PagerDuty Event Format: summary "<level>: <title>", severity, custom_details, the link.
        assert first["payload"]["summary"] == "P0: Prompt Injection Detected"
        assert first["payload"]["severity"] == "critical"
        assert first["payload"]["source"] == "llm-shield"
        details = first["payload"]["custom_details"]
        assert details["incident_id"] == incident_id and details["category"] == "security"
        assert "resource" in details and isinstance(details["metrics"], dict)
        assert [link["text"] for link in first["links"]] == ["View Incident"]
        assert first["links"][0]["href"].endswith("/incidents/" + incident_id)

        # Killed while level 1's timeout runs: the escalation timer is only in Postgres now.
        assert time.monotonic() - created < LEVEL_1_TIMEOUT, "level 1 paged too late to restart before level 2"
        server.kill9()
        server = Server(pki, cluster.url(), log, config=config, extra_env=environment)

        assert wait_until(lambda: len(events(receiver, "trigger")) >= 2, timeout=60)
        time.sleep(2)  # room for a duplicate to show
        assert events(receiver, "trigger") == [("trigger", KEYS["E2E_PD_L1_KEY"], incident_id),
                                               ("trigger", KEYS["E2E_PD_L2_KEY"], incident_id + ":L2")]
        assert receiver.pages()[1]["payload"]["summary"] == "P0: Prompt Injection Detected"

        secops = pb2_grpc.IncidentServiceStub(channel(server.port, pki, "secops"))
        secops.UpdateIncident(pb2.UpdateIncidentRequest(incident_id=incident_id, status="ACKNOWLEDGED"), timeout=30)
        assert wait_until(lambda: len(events(receiver, "acknowledge")) >= 2, timeout=30)
        assert sorted(events(receiver, "acknowledge")) == [
            ("acknowledge", KEYS["E2E_PD_L1_KEY"], incident_id),
            ("acknowledge", KEYS["E2E_PD_L2_KEY"], incident_id + ":L2")]

        for status in ("IN_PROGRESS", "RESOLVED"):
            secops.UpdateIncident(pb2.UpdateIncidentRequest(incident_id=incident_id, status=status), timeout=30)
        time.sleep(2)  # auto_resolve: false: nothing may follow
        assert events(receiver, "resolve") == []
        assert len(receiver.pages()) == 4

        timeline = secops.GetIncident(pb2.GetIncidentRequest(incident_id=incident_id), timeout=30).timeline
        escalated = [entry.message for entry in timeline if entry.kind == "escalated"]
        assert len(escalated) == 1 and "paging security-lead, ciso via E2E_PD_L2_KEY" in escalated[0]
        paged = [entry.message for entry in timeline if entry.kind == "paged"]
        assert any("to level 2 (security-lead, ciso) via E2E_PD_L2_KEY" in message for message in paged), paged
        assert server.terminate() == 0
        everything = log.read_text() + "".join(entry.message for entry in timeline)
        for key in KEYS.values():
            assert key not in everything, "a PagerDuty key reached the log or the timeline"
    finally:
        if server.alive():
            server.kill9()
        receiver.stop()
