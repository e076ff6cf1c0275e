"""Edge Agents over the WebSocket door for make bench-http: AGENTS connections (Python `websockets`, PyPI), each
sending batches of BATCH events (gzip + base64, the guide's batch message) and waiting for the batch's acks before the
next, for SECONDS. Prints one JSON line: events acked per second, batches, batch round-trip p50/p99 in ms, errors (and the first one).

    ws_batch_agent.py URL CA_FILE TOKEN SECONDS [AGENTS] [BATCH] [RUN]
"""
import asyncio
import base64
import gzip
import json
import ssl
import sys
import time

import websockets


def batch_message(run: str, agent: int, number: int, size: int) -> str:
    # Unique event ids per run, agent and batch; severities as the bench's other loads (P2: no page).
    events = [{"event_id": f"ws-{run}-{agent}-{number}-{i}", "source": "llm-edge-agent",
               "title": "Prompt injection at the edge", "severity": "medium", "category": "security",
               "event_type": "prompt_injection"} for i in range(size)]
    packed = base64.b64encode(gzip.compress(json.dumps(events).encode())).decode()
    return json.dumps({"type": "batch", "batch_id": f"{run}-{agent}-{number}", "timestamp": "2025-11-11T10:35:00Z",
                       "compression": "gzip", "events": packed, "count": size})


async def agent(url, context, token, deadline, number, size, run, results):
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(url, ssl=context, additional_headers=headers, max_size=2 ** 24,
                                  open_timeout=30) as ws:
        ack = json.loads(await ws.recv())
        assert ack["type"] == "connection_ack", ack
        batch = 0
        while time.monotonic() < deadline:
            started = time.monotonic()
            await ws.send(batch_message(run, number, batch, size))
            acked = errors = 0
            while acked + errors < size:
                answer = json.loads(await ws.recv())
                if answer.get("type") == "ack":
                    acked += 1
                elif answer.get("type") == "error":
                    errors += 1
                    if not results["first_error"]:
                        results["first_error"] = answer.get("message", "")
            results["latencies"].append(time.monotonic() - started)
            results["acked"] += acked
            results["errors"] += errors
            batch += 1


async def main():
    url, ca, token, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    agents = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    size = int(sys.argv[6]) if len(sys.argv) > 6 else 100
    run = sys.argv[7] if len(sys.argv) > 7 else str(int(time.time()))
    context = ssl.create_default_context(cafile=ca)
    results = {"latencies": [], "acked": 0, "errors": 0, "first_error": ""}
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(*(agent(url, context, token, deadline, n, size, run, results) for n in range(agents)))
    elapsed = time.monotonic() - started
    latencies = sorted(results["latencies"])

    def percentile(p):
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 1) if latencies else None
    print(json.dumps({"events_per_s": round(results["acked"] / elapsed), "batches": len(latencies),
                      "batch_p50_ms": percentile(0.50), "batch_p99_ms": percentile(0.99),
                      "errors": results["errors"], "first_error": results["first_error"][:200], "agents": agents,
                      "batch_size": size}))


asyncio.run(main())
