"""What bare TCP connects (a load balancer's TCP health check: connect, then close without a byte) cost the real
incident-server: its VmRSS after each round of connects, after an idle pause, and after more rounds, so growth
that is reused (an allocator's high-water mark) shows as a plateau and a leak as a straight line.

Usage (a database the server may migrate; the binary from `swift build --product incident-server`):
  DATABASE_URL=... INCIDENT_SERVER=.build/debug/incident-server \\
    .dev/venv/bin/python Tests/Benchmarks/BareConnects/measure_bare_connects.py [--rounds 6] [--per-round 5000]
      [--pause 0] [--env MALLOC_ARENA_MAX=2]...
  paced: ... measure_bare_connects.py --rate 200 --seconds 60 --pause 30 (two paced runs with an idle pause between,
      sampling VmRSS and open descriptors every 5 s)
Prints one line per sample and a JSON summary (KiB per connect over the first round and over the later ones)."""
import argparse
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parents[3]
PKI_SCRIPT = ROOT / "Tests" / "IncidentServerTests" / "Fixtures" / "make-service-pki.sh"


def rss_kib(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def start_server(binary, database_url, pki, log_path, env_overrides):
    env = dict(os.environ, DATABASE_URL=database_url, **env_overrides)
    env.pop("INCIDENT_LISTEN", None)
    log = open(log_path, "w")
    process = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:0", "--tls-cert", str(pki / "server.pem"), "--tls-key",
         str(pki / "server.key"), "--client-ca", str(pki / "ca.pem")],
        stdout=log, stderr=log, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = re.search(r"serving IncidentService on \S+:(\d+)", pathlib.Path(log_path).read_text())
        if found:
            return process, int(found.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(pathlib.Path(log_path).read_text())


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def paced(port, pid, rate, seconds, label):
    """`rate` bare connects a second for `seconds`, sampling VmRSS and open descriptors every 5 s."""
    samples = []
    start = time.monotonic()
    done = 0
    with ThreadPoolExecutor(8) as pool:
        while time.monotonic() - start < seconds:
            tick = time.monotonic()
            list(pool.map(lambda _: bare_connect(port), range(rate)))
            done += rate
            if int(tick - start) % 5 == 0:
                samples.append((round(tick - start), done, rss_kib(pid), open_fds(pid)))
                print(f"{label} t={samples[-1][0]}s connects {done}: VmRSS {samples[-1][2]} KiB, "
                      f"fds {samples[-1][3]}", flush=True)
            time.sleep(max(0.0, 1 - (time.monotonic() - tick)))
    return samples


def bare_connect(port):
    with socket.create_connection(("127.0.0.1", port), timeout=10):
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--per-round", type=int, default=5000)
    parser.add_argument("--pause", type=float, default=0, help="idle seconds after the first half of the rounds")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server")
    parser.add_argument("--rate", type=int, default=0,
                        help="paced mode: this many connects a second (instead of rounds as fast as possible)")
    parser.add_argument("--seconds", type=float, default=60, help="paced mode: for this long, twice, idle between")
    arguments = parser.parse_args()
    database_url = os.environ["DATABASE_URL"]
    binary = os.environ.get("INCIDENT_SERVER") or str(ROOT / ".build" / "debug" / "incident-server")
    overrides = dict(item.split("=", 1) for item in arguments.env)
    with tempfile.TemporaryDirectory() as scratch:
        pki = pathlib.Path(scratch) / "pki"
        subprocess.run(["bash", str(PKI_SCRIPT), str(pki)], check=True, capture_output=True)
        process, port = start_server(binary, database_url, pki, pathlib.Path(scratch) / "server.log", overrides)
        try:
            # Warm-up: the first connections size the core's pollers and the allocator's arenas.
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda _: bare_connect(port), range(200)))
            time.sleep(1)
            if arguments.rate:
                first = paced(port, process.pid, arguments.rate, arguments.seconds, "run 1")
                time.sleep(arguments.pause)
                idle = (rss_kib(process.pid), open_fds(process.pid))
                print(f"after {arguments.pause:.0f}s idle: VmRSS {idle[0]} KiB, fds {idle[1]}", flush=True)
                second = paced(port, process.pid, arguments.rate, arguments.seconds, "run 2")
                print(json.dumps({"env": overrides, "rate": arguments.rate, "seconds": arguments.seconds,
                                  "rss_kib_run1": [s[2] for s in first], "rss_kib_run2": [s[2] for s in second],
                                  "max_fds": max(s[3] for s in first + second), "alive": process.poll() is None}))
                return
            samples = [(0, rss_kib(process.pid))]
            print(f"connects 0: VmRSS {samples[0][1]} KiB (after warm-up)", flush=True)
            done = 0
            for round_index in range(arguments.rounds):
                if arguments.pause and round_index == arguments.rounds // 2:
                    time.sleep(arguments.pause)
                    samples.append((done, rss_kib(process.pid)))
                    print(f"connects {done}: VmRSS {samples[-1][1]} KiB (after {arguments.pause:.0f}s idle)",
                          flush=True)
                with ThreadPoolExecutor(8) as pool:
                    list(pool.map(lambda _: bare_connect(port), range(arguments.per_round)))
                done += arguments.per_round
                time.sleep(1)  # let the core finish closing what it accepted
                samples.append((done, rss_kib(process.pid)))
                print(f"connects {done}: VmRSS {samples[-1][1]} KiB", flush=True)
            first = (samples[1][1] - samples[0][1]) / arguments.per_round
            half = len(samples) // 2
            later = (samples[-1][1] - samples[half][1]) / max(1, samples[-1][0] - samples[half][0])
            print(json.dumps({"env": overrides, "per_round": arguments.per_round, "rounds": arguments.rounds,
                              "rss_start_kib": samples[0][1], "rss_end_kib": samples[-1][1],
                              "kib_per_connect_first_round": round(first, 3),
                              "kib_per_connect_second_half": round(later, 3),
                              "alive": process.poll() is None}))
        finally:
            process.terminate()
            process.wait(30)


if __name__ == "__main__":
    sys.exit(main())
