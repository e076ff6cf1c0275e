"""The parts every fault and abuse test uses: a throwaway Postgres cluster the test owns (so it may stop it), the
real incident-server binary started and killed on it, grpcio stubs, a PagerDuty stand-in on loopback, the
server's resident memory, and the knobs that choose the short (`make test`) or long (`make test-faults`) run.

Knobs (environment; short/long default): FAULTS_THREADS (6/16 flood clients), FAULTS_ACKS_BEFORE_KILL (150/4000
acknowledged creates before kill -9 or SIGTERM), FAULTS_KILLS (1/3), FAULTS_PG_DOWN_SECONDS (3/10),
FAULTS_STREAM_READERS (4/24), FAULTS_STREAM_ACKS (150/3000 per phase), FUZZ_PER_METHOD (80/2000), FUZZ_SEED,
ABUSE_CONNECTIONS (1000/20000), ABUSE_HANDSHAKES (300/5000 of each kind), ABUSE_UNREAD_STREAMS (40/1000),
ABUSE_RSS_GROWTH_MIB (200/400)."""
import http.server
import json
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid

import grpc

ROOT = pathlib.Path(__file__).resolve().parents[2]
PKI_SCRIPT = ROOT / "Tests" / "IncidentServerTests" / "Fixtures" / "make-service-pki.sh"

# FAULTS_LONG=1 (set by `make test-faults`) selects the long defaults; each knob can still be set on its own.
LONG = os.environ.get("FAULTS_LONG") == "1"


def knob(name: str, short: float, long: float) -> float:
    """A test size from the environment, else the short or long default."""
    value = os.environ.get(name)
    return float(value) if value else (long if LONG else short)


def server_binary() -> str:
    explicit = os.environ.get("INCIDENT_SERVER")
    if explicit:
        return explicit
    bin_path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True, capture_output=True,
                              text=True).stdout.strip()
    return os.path.join(bin_path, "incident-server")


class Cluster:
    """A Postgres cluster of its own on a Unix socket in a temporary directory (initdb refuses root: as root it runs
    as the packaged `postgres` user, as the Makefile's db-start does)."""

    def __init__(self):
        versions = sorted((int(v) for v in os.listdir("/usr/lib/postgresql") if v.isdigit()), reverse=True)
        if not versions:
            raise RuntimeError("no Postgres under /usr/lib/postgresql (apt-get install postgresql)")
        self.bin = f"/usr/lib/postgresql/{versions[0]}/bin"
        self.directory = tempfile.mkdtemp(prefix="im-faults-pg-")
        os.chmod(self.directory, 0o755)
        if os.getuid() == 0:
            shutil.chown(self.directory, "postgres")
        # --no-sync: nothing here needs to survive a machine crash, only a server crash.
        self._run("initdb", "-D", self.data, "-U", "incident", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8",
                  "--no-sync")
        self.start()
        self.database = "postgres"

    def fresh_database(self) -> str:
        """Creates an empty database, makes it the one `url()` and `sql()` use, and returns its URL."""
        self.database = "im_faults_" + uuid.uuid4().hex[:12]
        subprocess.run(["psql", self.url("postgres"), "-q", "-c", f"CREATE DATABASE {self.database}"], check=True)
        return self.url()

    @property
    def data(self) -> str:
        return self.directory + "/data"

    def url(self, database: str = None) -> str:
        return f"postgresql://incident@/{database or self.database}?host={self.directory}"

    def _run(self, tool: str, *arguments: str):
        prefix = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        # pg_ctl's server inherits our stdout otherwise, and subprocess would wait for it to close.
        subprocess.run([*prefix, f"{self.bin}/{tool}", *arguments], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self):
        self._run("pg_ctl", "-D", self.data, "-l", self.directory + "/log", "-w", "-t", "60", "start", "-o",
                  f"-c listen_addresses='' -k {self.directory} -c max_connections=200 -c fsync=off")

    def stop(self):
        self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")

    def sql(self, query: str) -> list:
        """Rows of a query through psql, each a list of column texts."""
        out = subprocess.run(["psql", self.url(), "-X", "-q", "-A", "-t", "-F", "\t", "-c", query], check=True,
                             capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]

    def scalar(self, query: str) -> str:
        return self.sql(query)[0][0]

    def destroy(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.directory, ignore_errors=True)


# Recomputes each audit entry's hash and its link to the previous one, and checks the chain head: the same query
# as IncidentStore.verifyAuditChain.
AUDIT_CHAIN_SQL = """
WITH checked AS (
    SELECT seq, hash,
           hash = im_audit_digest(prev_hash, seq, incident_id, actor, action, old_value, new_value, at)
           AND prev_hash = coalesce(lag(hash) OVER (ORDER BY seq), decode(repeat('00', 32), 'hex')) AS intact
    FROM audit_log
)
SELECT (SELECT count(*) FROM checked),
       coalesce((SELECT min(seq) FROM checked WHERE NOT intact)::text, 'none'),
       (SELECT h.audit_hash = coalesce((SELECT hash FROM checked ORDER BY seq DESC LIMIT 1),
                                       decode(repeat('00', 32), 'hex')) FROM chain_head h WHERE h.id = 1)
"""


class Server:
    """incident-server as a subprocess on a cluster; its port is read from its 'serving ... on' log line."""

    def __init__(self, pki: pathlib.Path, database_url: str, log_path: pathlib.Path, config: pathlib.Path = None,
                 extra_env: dict = None, listen: str = "127.0.0.1:0"):
        self.log_path = log_path
        env = dict(os.environ, DATABASE_URL=database_url, **(extra_env or {}))
        env.pop("INCIDENT_LISTEN", None)
        config_args = ["--config", str(config)] if config else []
        self.log = open(log_path, "a")
        self.log.write(f"---- start {time.strftime('%H:%M:%S')}\n")
        self.log.flush()
        start_offset = log_path.stat().st_size
        self.process = subprocess.Popen(
            [server_binary(), *config_args, "--listen", listen, "--tls-cert", str(pki / "server.pem"),
             "--tls-key", str(pki / "server.key"), "--client-ca", str(pki / "ca.pem")],
            stdout=self.log, stderr=self.log, env=env)
        deadline = time.monotonic() + 120
        self.port = None
        while self.port is None:
            with open(log_path) as log:
                log.seek(start_offset)
                for line in log.read().splitlines():
                    if "serving IncidentService on " in line:
                        self.port = int(line.split("serving IncidentService on ")[1].split()[0].rsplit(":", 1)[1])
            if self.port is None:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.process.kill()
                    raise RuntimeError(f"incident-server did not start:\n{log_path.read_text()[-4000:]}")
                time.sleep(0.05)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_kib(self) -> int:
        """Resident memory (VmRSS) from /proc."""
        for line in pathlib.Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def kill9(self):
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()

    def terminate(self, timeout: float = 60) -> int:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.log.close()


def make_pki(directory: pathlib.Path) -> pathlib.Path:
    subprocess.run(["bash", str(PKI_SCRIPT), str(directory)], check=True, stdout=subprocess.DEVNULL)
    return directory


def channel(port: int, pki: pathlib.Path, identity: str, options=None) -> grpc.Channel:
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(pki / "ca.pem").read_bytes(),
        private_key=(pki / f"{identity}.key").read_bytes(),
        certificate_chain=(pki / f"{identity}.pem").read_bytes(),
    )
    return grpc.secure_channel(f"127.0.0.1:{port}", credentials, options=options or [])


def health(chan: grpc.Channel, timeout: float = 3) -> str:
    """grpc.health.v1 Check of the whole server, sent as raw bytes: SERVING, NOT_SERVING or the error code."""
    check = chan.unary_unary("/grpc.health.v1.Health/Check", request_serializer=None, response_deserializer=None)
    try:
        answer = check(b"", timeout=timeout)
    except grpc.RpcError as error:
        return error.code().name
    return {b"\x08\x01": "SERVING", b"\x08\x02": "NOT_SERVING"}.get(answer, f"status bytes {answer!r}")


def event(pb2, severity: str = "medium", event_id: str = None, payload_size: int = 0):
    """A create request; the description repeats the event id so a page (which carries the description) can be
    traced to its event independently of the incident id it names."""
    event_id = event_id or "fault-" + uuid.uuid4().hex
    request = pb2.CreateIncidentRequest(
        event_id=event_id, source="llm-shield", title="Prompt Injection Detected", description=event_id,
        severity=severity, category="security", event_type="violation",
    )
    if payload_size:
        request.encrypted_payload = b"\x5a" * payload_size
    return request


class PagerDutyReceiver:
    """A loopback HTTP server standing in for PagerDuty's Events API v2: answers 202 and keeps each body."""

    def __init__(self):
        received = self.received = []
        lock = self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    received.append((self.path, json.loads(body or b"{}")))
                answer = b'{"status":"success","message":"Event processed"}'
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def pages(self) -> list:
        with self.lock:
            return [body for path, body in self.received if path == "/pagerduty"]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
