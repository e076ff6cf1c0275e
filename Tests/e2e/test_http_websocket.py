"""The Edge Agent WebSocket (`wss://…/ws/events`) from Python `websockets` (PyPI) against the real incident-server
over real TLS: JWT bearer at the upgrade (RS256, signed by the openssl CLI), connection_ack, event → ack/error,
gzip+base64 batches answered most urgent first, heartbeat, the idle close, and a gzip bomb closing the connection."""
import asyncio
import base64
import gzip
import json
import ssl
import subprocess
import time
import uuid

import pytest
import websockets
import websockets.exceptions

from conftest import RunningServer

ISSUER, AUDIENCE = "https://issuer.ws", "incident-manager"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(key, subject: str) -> str:
    now = int(time.time())
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    claims = b64url(json.dumps({"sub": subject, "iss": ISSUER, "aud": AUDIENCE, "iat": now,
                                "exp": now + 600}).encode())
    signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key)], input=f"{header}.{claims}".encode(),
                               capture_output=True, check=True).stdout
    return f"{header}.{claims}.{b64url(signature)}"


@pytest.fixture(scope="module")
def server(pki, database_url, tmp_path_factory):
    directory = tmp_path_factory.mktemp("ws-server")
    config = directory / "config.yaml"
    config.write_text(f"""
identities:
  llm-shield: {{permissions: [event:create]}}
  secops: {{permissions: [event:create, incident:read, incident:update, incident:stream], sources: ["*"]}}
  edge-agent: {{permissions: [event:create], sources: [llm-edge-agent]}}
  reader-bot: {{permissions: [incident:read]}}
tokens:
  jwt:
    issuer: {ISSUER}
    audience: {AUDIENCE}
    keys:
      - {{algorithm: RS256, public_key_file: "{pki / 'jwt-rs256.pub.pem'}"}}
""")
    # In-flight 1 makes a batch's answers come in the order its creates start: most urgent first.
    running = RunningServer(pki, database_url, directory / "server.log", config=config, http_listen="127.0.0.1:0",
                            extra_env={"INCIDENT_WS_IDLE_SECONDS": "2", "INCIDENT_WS_MAX_IN_FLIGHT": "1",
                                       "INCIDENT_WS_MAX_EXPANDED_BYTES": "1000000"})
    yield running
    assert running.stop() == 0


def connect(server, pki, token=None):
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return websockets.connect(f"wss://127.0.0.1:{server.http_port}/ws/events", ssl=context,
                              additional_headers=headers, max_size=2 ** 22, open_timeout=30)


def event(severity="high", **changes):
    body = {"type": "event", "event_id": "edge-" + uuid.uuid4().hex, "source": "llm-edge-agent",
            "title": "Prompt injection at the edge", "severity": severity, "category": "security",
            "event_type": "prompt_injection", "payload": {"raw": "kept opaque"}}
    body.update(changes)
    return body


async def receive(ws, timeout=30):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


def run(coroutine):
    return asyncio.run(coroutine)


def explain(server, pki, token=None):
    """A plain GET of /ws/events with curl: why an upgrade with this token is refused (status, error code)."""
    args = ["curl", "-sS", "--max-time", "30", "--cacert", str(pki / "ca.pem"), "-o", "-", "-w", "\n%{http_code}"]
    if token:
        args += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(args + [f"https://127.0.0.1:{server.http_port}/ws/events"], capture_output=True,
                         check=True, text=True).stdout
    body, _, status = out.rpartition("\n")
    return int(status), json.loads(body)["error"]["code"]


def test_upgrade_needs_a_valid_jwt_with_event_create(server, pki):
    async def attempt(token):
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with connect(server, pki, token):
                pass
        return refused.value.response.status_code

    rogue = jwt(pki / "jwt-rogue-rs256.key", "edge-agent")
    reader = jwt(pki / "jwt-rs256.key", "reader-bot")
    # hummingbird-websocket answers every refused upgrade 400 without a body; a plain GET says why.
    for token in (None, "not.a.jwt", rogue, reader):
        assert run(attempt(token)) == 400
    assert explain(server, pki) == (401, "unauthenticated")
    assert explain(server, pki, "not.a.jwt") == (401, "unauthenticated")
    assert explain(server, pki, rogue) == (401, "unauthenticated")
    assert explain(server, pki, reader) == (403, "permission_denied")
    assert explain(server, pki, jwt(pki / "jwt-rs256.key", "edge-agent")) == (426, "upgrade_required")


def test_events_heartbeat_and_errors(server, pki):
    async def session():
        async with connect(server, pki, jwt(pki / "jwt-rs256.key", "edge-agent")) as ws:
            ack = await receive(ws)
            assert ack["type"] == "connection_ack" and ack["protocol_version"] == "1.0"
            assert ack["features"] == ["batching", "compression", "filtering"] and ack["session_id"]
            first = event()
            await ws.send(json.dumps(first))
            answer = await receive(ws)
            assert answer["type"] == "ack" and answer["status"] == "processed"
            assert answer["event_id"] == first["event_id"] and answer["incident_id"].startswith("INC-")
            await ws.send(json.dumps(first))
            assert (await receive(ws))["incident_id"] == answer["incident_id"], "a replay is the same incident"
            await ws.send(json.dumps({"type": "heartbeat", "timestamp": "2026-01-01T00:00:00Z"}))
            assert (await receive(ws))["type"] == "heartbeat_ack"
            missing = event(title="")
            await ws.send(json.dumps(missing))
            error = await receive(ws)
            assert error == {"type": "error", "event_id": missing["event_id"], "message": error["message"]}
            assert "title" in error["message"]
            await ws.send(json.dumps(event(source="llm-shield")))
            assert "source" in (await receive(ws))["message"]
            await ws.send("{not json")
            assert "byte" in (await receive(ws))["message"]
            await ws.send(json.dumps({"type": "telepathy"}))
            assert "type" in (await receive(ws))["message"]

    run(session())


def test_batch_gzip_most_urgent_first(server, pki):
    events = [event("info"), event("low"), event("critical"), event("medium"), event("critical"), event("high")]
    # Most as bare events; two as the `event` messages they would have been alone (an agent buffering those).
    for item in events[:4]:
        del item["type"]
    packed = base64.b64encode(gzip.compress(json.dumps(events).encode())).decode()

    async def session():
        async with connect(server, pki, jwt(pki / "jwt-rs256.key", "edge-agent")) as ws:
            await receive(ws)
            await ws.send(json.dumps({"type": "batch", "batch_id": "b-" + uuid.uuid4().hex,
                                      "timestamp": "2026-01-01T00:00:00Z", "compression": "gzip",
                                      "events": packed, "count": len(events)}))
            return [await receive(ws) for _ in events]

    answers = run(session())
    assert all(answer["type"] == "ack" for answer in answers), answers
    by_id = {item["event_id"]: item["severity"] for item in events}
    order = [by_id[answer["event_id"]] for answer in answers]
    assert order == ["critical", "critical", "high", "medium", "low", "info"], order


def test_gzip_bomb_closes_the_connection(server, pki):
    bomb = base64.b64encode(gzip.compress(b"[" + b" " * 20_000_000 + b"]")).decode()
    assert len(bomb) < 100_000

    async def session():
        async with connect(server, pki, jwt(pki / "jwt-rs256.key", "edge-agent")) as ws:
            await receive(ws)
            await ws.send(json.dumps({"type": "batch", "batch_id": "bomb", "compression": "gzip", "events": bomb,
                                      "count": 0}))
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await receive(ws)
            return closed.value.rcvd

    close = run(session())
    assert close.code == 1009 and "expands past" in close.reason


def test_silent_connection_is_closed(server, pki):
    async def session():
        async with connect(server, pki, jwt(pki / "jwt-rs256.key", "edge-agent")) as ws:
            await receive(ws)
            started = time.monotonic()
            with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
                await receive(ws, timeout=20)
            return closed.value.rcvd, time.monotonic() - started

    close, waited = run(session())
    assert close.code == 1001 and "idle" in close.reason
    assert 1.5 <= waited <= 10, waited
