"""Sends exactly N CreateIncident calls (unique event ids, the issue's severity mix, a 256-byte encrypted_payload)
from W threads over C channels, and prints how many were answered OK. The create-CPU benchmark runs it while
callgrind counts the server's instructions, so the count of creates behind the total is exact.

    python fixed_batch.py HOST:PORT CA CERT KEY N [WORKERS] [CONNECTIONS]
"""
import concurrent.futures
import pathlib
import random
import sys
import tempfile
import threading
import uuid

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "Support" / "python"))
from incident_stubs import compile_incident_stubs  # noqa: E402

# The mix: critical 1%, high 4%, medium 15%, low 40%, info 40%.
MIX = [("critical", 1), ("high", 4), ("medium", 15), ("low", 40), ("info", 40)]


def severities(count, seed=7):
    chooser = random.Random(seed)
    population = [name for name, weight in MIX for _ in range(weight)]
    return [chooser.choice(population) for _ in range(count)]


def main():
    import grpc

    target, ca, cert, key, count = sys.argv[1:6]
    workers = int(sys.argv[6]) if len(sys.argv) > 6 else 16
    connections = int(sys.argv[7]) if len(sys.argv) > 7 else 4
    pb2, pb2_grpc = compile_incident_stubs(pathlib.Path(tempfile.mkdtemp()))
    credentials = grpc.ssl_channel_credentials(
        pathlib.Path(ca).read_bytes(), pathlib.Path(key).read_bytes(), pathlib.Path(cert).read_bytes())
    stubs = [pb2_grpc.IncidentServiceStub(grpc.secure_channel(target, credentials,
                                                              options=[("grpc.use_local_subchannel_pool", 1)]))
             for _ in range(connections)]
    run = uuid.uuid4().hex[:8]
    payload = bytes(random.Random(1).getrandbits(8) for _ in range(256))
    plan = severities(int(count))
    ok = 0
    failed = {}
    lock = threading.Lock()

    def create(index):
        nonlocal ok
        request = pb2.CreateIncidentRequest(
            event_id=f"cpu-{run}-{index}", source="llm-shield", source_version="1.0",
            timestamp="2026-12-07T10:00:00Z", event_type="prompt_injection", category="security",
            title=f"Prompt injection attempt {index}", description="Detected an instruction override in a prompt",
            severity=plan[index], resource={"type": "model", "id": "gpt-4", "name": "GPT-4"},
            metrics={"confidence": 0.97}, tags={"tenant_id": "acme"}, encrypted_payload=payload)
        try:
            stubs[index % len(stubs)].CreateIncident(request, timeout=120)
            with lock:
                ok += 1
        except grpc.RpcError as error:
            with lock:
                failed[error.code().name] = failed.get(error.code().name, 0) + 1

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(create, range(len(plan))))
    print(f"ok {ok} failed {sum(failed.values())} {failed if failed else ''}".strip())
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
