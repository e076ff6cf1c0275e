"""Abuse 5: mutated protobuf bodies (bit flips, truncation, lying length fields, spliced and random bytes) from the
seed corpus in Tests/faults/corpus/, sent as raw bytes to every method the server has, unary, server-streaming and
bidirectional (reflection). Every answer is a proper status, never INTERNAL or UNKNOWN; the server stays up and
a good client is served afterwards."""
import pathlib
import random
import time
from concurrent.futures import ThreadPoolExecutor

import grpc

from harness import Server, channel, event, knob

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"
PER_METHOD = int(knob("FUZZ_PER_METHOD", 80, 2000))
SEED = int(knob("FUZZ_SEED", 7, 7))

UNARY, SERVER_STREAM, BIDI = "unary", "server-stream", "bidi"
KINDS = {"StreamIncidents": SERVER_STREAM, "Watch": SERVER_STREAM, "ServerReflectionInfo": BIDI}


def corpus() -> dict:
    seeds = {}
    for path in sorted(CORPUS.glob("*.bin")):
        service_method = path.name.rsplit("-", 1)[0]
        service, method = service_method.rsplit(".", 1)
        seeds.setdefault(f"/{service}/{method}", []).append(path.read_bytes())
    return seeds


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def lie_about_a_length(data: bytes, rng: random.Random) -> bytes:
    """Finds a length-delimited field's tag and rewrites the length after it (too long, too short, huge)."""
    spots = [i for i in range(len(data) - 1) if data[i] & 7 == 2 and data[i] >> 3 > 0]
    if not spots:
        return data + bytes([0x0A]) + varint(rng.choice([5, 1 << 20, (1 << 32) - 1, (1 << 63) - 1]))
    spot = rng.choice(spots)
    lie = rng.choice([0, 1, 127, 128, 1 << 14, 1 << 28, (1 << 32) + 1, (1 << 64) - 1])
    return data[:spot + 1] + varint(lie) + data[spot + 2:]


def mutate(seed: bytes, seeds: list, rng: random.Random) -> bytes:
    kind = rng.randrange(8)
    data = bytearray(seed)
    if kind == 0 and data:  # bit flips
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif kind == 1:  # truncation
        del data[rng.randrange(len(data) + 1):]
    elif kind == 2:
        return lie_about_a_length(bytes(data), rng)
    elif kind == 3:  # random bytes
        return rng.randbytes(rng.randrange(0, 600))
    elif kind == 4:  # splice with another seed
        other = rng.choice(seeds)
        return bytes(data[:rng.randrange(len(data) + 1)]) + other[rng.randrange(len(other) + 1):]
    elif kind == 5:  # unknown fields of every wire type, including deprecated groups and wire types 6 and 7
        field = varint(rng.randint(1, 1 << 29) << 3 | rng.randrange(8))
        return bytes(data) + field + rng.randbytes(rng.randrange(0, 12))
    elif kind == 6:  # deep nesting: a message field inside itself many times
        inner = bytes(data)
        for _ in range(rng.randint(10, 200)):
            inner = bytes([0x52]) + varint(len(inner)) + inner  # field 10 (resource), length-delimited
        return inner
    else:  # overlong varints, repeated fields
        return bytes(data) + bytes([0x40]) + b"\xff" * rng.randint(9, 12) + b"\x01" + bytes(data)
    return bytes(data)


BAD = {"INTERNAL", "UNKNOWN", "DATA_LOSS"}


def call(chan, method: str, body: bytes) -> str:
    kind = KINDS.get(method.rsplit("/", 1)[1], UNARY)
    try:
        if kind == UNARY:
            chan.unary_unary(method, request_serializer=None, response_deserializer=None)(body, timeout=10)
        elif kind == SERVER_STREAM:
            stream = chan.unary_stream(method, request_serializer=None, response_deserializer=None)(body, timeout=2)
            for count, _ in enumerate(stream, start=1):
                if count == 3:
                    stream.cancel()
                    return "OK+CANCELLED"
        else:
            stream = chan.stream_stream(method, request_serializer=None, response_deserializer=None)(
                iter([body]), timeout=10)
            for _ in stream:
                pass
        return "OK"
    except grpc.RpcError as error:
        code = error.code().name
        # A stream that decoded and is waiting for changes runs into its short deadline; a unary call must not.
        if code == "DEADLINE_EXCEEDED" and kind != SERVER_STREAM:
            return "HANG"
        return code


def test_fuzzed_bodies_on_every_method_get_proper_statuses(api, pki, cluster, tmp_path):
    pb2, pb2_grpc = api
    seeds = corpus()
    assert len(seeds) == 9, sorted(seeds)
    rng = random.Random(SEED)
    every_seed = [s for bodies in seeds.values() for s in bodies]
    cases = []
    for method, bodies in seeds.items():
        cases += [(method, body) for body in bodies]
        cases += [(method, mutate(rng.choice(bodies), every_seed, rng)) for _ in range(PER_METHOD)]
    rng.shuffle(cases)

    server = Server(pki, cluster.url(), tmp_path / "server.log")
    try:
        channels = [channel(server.port, pki, "secops") for _ in range(4)]
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda n: call(channels[n % 4], *cases[n]), range(len(cases))))
        elapsed = time.monotonic() - started
        by_method = {}
        for (method, body), code in zip(cases, codes):
            by_method.setdefault(method, {}).setdefault(code, 0)
            by_method[method][code] += 1
        for method, counts in sorted(by_method.items()):
            print(f"{method}: {sum(counts.values())} bodies, {counts}")
        print(f"{len(cases)} bodies in {elapsed:.1f} s")
        bad = [(method, body.hex(), code) for (method, body), code in zip(cases, codes) if code in BAD | {"HANG"}]
        assert not bad, f"{len(bad)} improper answers, e.g. {bad[:5]}"
        assert server.alive(), "the server died"

        good = pb2_grpc.IncidentServiceStub(channel(server.port, pki, "secops"))
        created = good.CreateIncident(event(pb2, "high"), timeout=30)
        assert good.GetIncident(pb2.GetIncidentRequest(incident_id=created.incident_id), timeout=30).id == \
            created.incident_id
    finally:
        server.terminate()
