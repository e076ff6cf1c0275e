"""incidentctl end to end: the built binary against the real incident-server and Postgres over mutual TLS, as the
security team would type it. Checks what it prints, what --json carries and the exit codes scripts rely on.
Run by `make test-e2e` (INCIDENTCTL names the binary)."""
import json
import os
import pathlib
import queue
import shlex
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid

import pytest

from conftest import RunningServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "Protos" / "examples" / "shield-event.json"

# The exit codes `incidentctl --help` documents.
OK, USAGE, DATA, NO_INPUT, UNAVAILABLE, TEMPORARY, PERMISSION, CONFIG = 0, 64, 65, 66, 69, 75, 77, 78
NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION, UNIMPLEMENTED = 79, 80, 81, 82


def incidentctl_binary() -> str:
    explicit = os.environ.get("INCIDENTCTL")
    if explicit:
        return explicit
    bin_path = subprocess.run(
        ["swift", "build", "--show-bin-path"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    return os.path.join(bin_path, "incidentctl")


def clean_env(**extra) -> dict:
    """The environment without any INCIDENTCTL_* profile of the person running the tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INCIDENTCTL_")}
    env.update(extra)
    return env


class CLI:
    """Runs incidentctl as `identity` against one server, with the connection given as flags."""

    def __init__(self, port: int, pki: pathlib.Path):
        self.port = port
        self.pki = pki

    def flags(self, identity: str) -> list:
        return ["--server", f"127.0.0.1:{self.port}", "--ca", str(self.pki / "ca.pem"),
                "--cert", str(self.pki / f"{identity}.pem"), "--key", str(self.pki / f"{identity}.key")]

    def __call__(self, *args, identity="secops", stdin=None, env=None, cwd=None, connect=True):
        command = [incidentctl_binary(), *args, *(self.flags(identity) if connect else [])]
        return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=90,
                              env=env or clean_env(), cwd=cwd or ROOT)

    def ok(self, *args, **kwargs):
        result = self(*args, **kwargs)
        assert result.returncode == OK, f"{args}: exit {result.returncode}\n{result.stderr}"
        assert "Fatal error" not in result.stderr
        return result

    def json(self, *args, **kwargs):
        return json.loads(self.ok(*args, "--json", **kwargs).stdout)


def fails(result, code: int, *phrases: str):
    """The command failed with `code` and one line on stderr holding every phrase (no stack trace); usage errors
    add the argument parser's usage hint below it."""
    assert result.returncode == code, f"exit {result.returncode}, wanted {code}\n{result.stderr}"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 or (code == USAGE and lines[1].startswith("Usage:")), result.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]


def skip_if_unimplemented(result, what: str):
    if result.returncode == UNIMPLEMENTED:
        pytest.skip(f"the server answers UNIMPLEMENTED for {what} today ({result.stderr.strip()}); "
                    "this runs once the server supports it")


@pytest.fixture
def ctl(server, pki):
    return CLI(server.port, pki)


def new_incident(ctl, severity="high", source="incidentctl-e2e", **flags) -> dict:
    args = ["create", "--event-id", "ctl-" + uuid.uuid4().hex, "--source", source, "--severity", severity,
            "--title", "Data leak in a completion", "--category", "privacy", "--event-type", "data_leak"]
    for name, value in flags.items():
        args += ["--" + name.replace("_", "-"), value]
    created = ctl.json(*args)
    assert created["status"] == "accepted"
    return created


# ---- create -------------------------------------------------------------------------------------------------


def test_create_from_flags_then_get(ctl):
    event_id = "ctl-" + uuid.uuid4().hex
    result = ctl.ok("create", "--event-id", event_id, "--source", "incidentctl-e2e", "--severity", "critical",
                    "--title", "Prompt injection from the CLI", "--description", "typed by hand",
                    "--category", "security", "--event-type", "prompt_injection",
                    "--tag", "environment=staging", "--tag", "user_id=user-42", "--metric", "confidence=0.9",
                    "--resource-type", "model", "--resource-id", "model-7")
    assert result.stdout.startswith("created INC-"), result.stdout
    assert "severity P0" in result.stdout
    incident_id = result.stdout.split()[1]

    incident = ctl.json("get", incident_id)
    assert incident["id"] == incident_id
    assert incident["source"] == "incidentctl-e2e"
    assert incident["title"] == "Prompt injection from the CLI"
    assert (incident["severity"], incident["eventSeverity"]) == ("P0", "critical")
    assert incident["status"] == "NEW"
    assert incident["tags"] == {"environment": "staging", "user_id": "user-42"}
    assert incident["metrics"] == {"confidence": 0.9}
    assert incident["resource"]["id"] == "model-7"

    readable = ctl.ok("get", incident_id).stdout
    assert f"id:" in readable and incident_id in readable
    assert "tag environment:" in readable and "staging" in readable
    assert "timeline:" in readable


def test_create_from_the_example_file_and_replay_is_a_duplicate(ctl):
    event_id = "shield-" + uuid.uuid4().hex
    first = ctl.json("create", "--file", str(EXAMPLE), "--event-id", event_id, identity="llm-shield")
    assert first["incidentId"].startswith("INC-")
    assert first["priority"] == "P0"
    assert "duplicate" not in first  # proto3 JSON leaves false out

    replay = ctl.ok("create", "--file", str(EXAMPLE), "--event-id", event_id, identity="llm-shield")
    assert replay.stdout.startswith(f"duplicate of {first['incidentId']}"), replay.stdout

    # The same file through stdin: still the same incident, and --json says so.
    again = ctl.json("create", "--file", "-", "--event-id", event_id, identity="llm-shield",
                     stdin=EXAMPLE.read_text())
    assert again["incidentId"] == first["incidentId"]
    assert again["duplicate"] is True

    incident = ctl.json("get", first["incidentId"])
    assert incident["eventCount"] == "3"  # uint64 is a string in proto3 JSON
    assert incident["resource"]["metadata"]["deployment_id"] == "dep-12345"

    # The same event_id with different content is refused, naming the incident.
    conflict = ctl("create", "--file", str(EXAMPLE), "--event-id", event_id, "--title", "Something else",
                   identity="llm-shield")
    fails(conflict, ALREADY_EXISTS, "already exists:", first["incidentId"])


def test_bad_input_is_reported_with_its_own_codes(ctl, tmp_path):
    fails(ctl("create", "--file", str(tmp_path / "missing.json")), NO_INPUT, "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"eventId": "x", "severity": ')
    fails(ctl("create", "--file", str(broken)), DATA, "broken.json")
    fails(ctl("create", "--severity", "apocalyptic", "--title", "t"), DATA, "invalid request:", "severity")
    fails(ctl("create", "--title", "no severity"), USAGE, "--severity")
    fails(ctl("create", "--severity", "low", "--title", "t", "--tag", "novalue"), USAGE, "KEY=VALUE")
    fails(ctl("get", "not-an-id"), DATA, "incident_id")


# ---- update, ack, resolve -------------------------------------------------------------------------------------


def test_ack_work_resolve_with_notes(ctl):
    incident_id = new_incident(ctl)["incidentId"]
    acked = ctl.ok("ack", incident_id, "--note", "looking")
    assert f"{incident_id} is ACKNOWLEDGED" in acked.stdout
    working = ctl.json("update", incident_id, "--status", "in_progress", "--team", "blue-team")
    assert working["status"] == "IN_PROGRESS"
    assert working["assignedTeam"] == "blue-team"
    resolved = ctl.json("resolve", incident_id, "--note", "false positive", "--expected-version",
                        working["version"])
    assert resolved["status"] == "RESOLVED"
    assert resolved["resolvedAt"]
    notes = [entry["message"] for entry in resolved["timeline"] if entry["kind"] == "note"]
    assert notes == ["looking", "false positive"]
    assert all(entry["actor"] == "secops" for entry in resolved["timeline"] if entry["kind"] == "note")


def test_stale_expected_version_is_aborted(ctl):
    created = new_incident(ctl)
    result = ctl("update", created["incidentId"], "--note", "late", "--expected-version",
                 str(int(created["version"]) + 5))
    fails(result, TEMPORARY, "conflict:", "version")


def test_illegal_transition_is_a_failed_precondition(ctl):
    incident_id = new_incident(ctl)["incidentId"]
    fails(ctl("resolve", incident_id), FAILED_PRECONDITION, "failed precondition:", "NEW", "RESOLVED")


def test_unknown_incident_is_not_found(ctl):
    fails(ctl("get", "INC-20260101-99999"), NOT_FOUND, "not found: incident INC-20260101-99999 does not exist")
    fails(ctl("ack", "INC-20260101-99998"), NOT_FOUND, "INC-20260101-99998")


def test_viewer_may_read_but_not_update(ctl):
    incident_id = new_incident(ctl)["incidentId"]
    assert ctl.json("get", incident_id, identity="viewer")["id"] == incident_id
    fails(ctl("ack", incident_id, identity="viewer"), PERMISSION, "permission denied:", "viewer",
          "incident:update")


def test_update_needs_something_to_change(ctl):
    fails(ctl("update", "INC-20260101-00001"), USAGE, "nothing to change")


def test_severity_change(ctl):
    incident_id = new_incident(ctl, severity="low")["incidentId"]
    result = ctl("update", incident_id, "--severity", "critical", "--json")
    skip_if_unimplemented(result, "a severity change")
    assert result.returncode == OK, result.stderr
    changed = json.loads(result.stdout)
    assert (changed["severity"], changed["eventSeverity"]) == ("P0", "critical")


# ---- list -------------------------------------------------------------------------------------------------------


def test_list_json_pages_and_all(ctl):
    team = "team-" + uuid.uuid4().hex[:8]
    ids = []
    for _ in range(5):
        incident_id = new_incident(ctl)["incidentId"]
        ctl.ok("update", incident_id, "--team", team)
        ids.append(incident_id)

    every = ctl.ok("list", "--team", team, "--page-size", "2", "--all", "--json").stdout.splitlines()
    listed = [json.loads(line)["id"] for line in every]
    assert listed == list(reversed(ids)), "newest first, each once, across pages"

    first = ctl("list", "--team", team, "--page-size", "2", "--json")
    assert first.returncode == OK
    assert [json.loads(line)["id"] for line in first.stdout.splitlines()] == listed[:2]
    token = shlex.split(first.stderr.split("next page: --page-token ")[1])[0]
    second = ctl.ok("list", "--team", team, "--page-size", "2", "--page-token", token, "--json")
    assert [json.loads(line)["id"] for line in second.stdout.splitlines()] == listed[2:4]

    table = ctl.ok("list", "--team", team, "--all").stdout.splitlines()
    assert table[0].split() == ["ID", "STATUS", "SEVERITY", "EVENT", "TEAM", "CREATED", "TITLE"]
    assert all(row.split()[2] == "P1" and row.split()[3] == "high" for row in table[1:]), "level, then the word"
    assert [row.split()[0] for row in table[1:]] == listed
    assert all(team in row for row in table[1:])

    one_status = ctl.ok("list", "--team", team, "--status", "new", "--json").stdout.splitlines()
    assert len(one_status) == 5


def test_list_with_several_values_of_a_filter(ctl):
    team = "team-" + uuid.uuid4().hex[:8]
    for severity in ("critical", "high", "low"):
        ctl.ok("update", new_incident(ctl, severity=severity)["incidentId"], "--team", team)
    result = ctl("list", "--team", team, "--severity", "critical", "--severity", "low", "--json")
    skip_if_unimplemented(result, "several severities in one list filter")
    assert result.returncode == OK, result.stderr
    assert sorted(json.loads(line)["eventSeverity"] for line in result.stdout.splitlines()) == ["critical", "low"]
    by_level = ctl.ok("list", "--team", team, "--severity", "P0", "--severity", "p1", "--json").stdout.splitlines()
    assert sorted(json.loads(line)["severity"] for line in by_level) == ["P0", "P1"]


def test_list_by_category(ctl):
    result = ctl("list", "--category", "privacy", "--json")
    skip_if_unimplemented(result, "the category filter of ListIncidents")
    assert result.returncode == OK, result.stderr
    assert all(json.loads(line)["category"] == "privacy" for line in result.stdout.splitlines())


# ---- watch ------------------------------------------------------------------------------------------------------


class Watcher:
    """`incidentctl watch` running in the background; its stdout lines arrive on a queue."""

    def __init__(self, ctl: CLI, *args):
        self.process = subprocess.Popen([incidentctl_binary(), "watch", *args, *ctl.flags("viewer")],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
        self.lines = queue.Queue()
        self.stderr = []
        threading.Thread(target=self._pump, args=(self.process.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.process.stderr, self.stderr.append), daemon=True).start()

    @staticmethod
    def _pump(stream, sink):
        for line in stream:
            sink(line.rstrip("\n"))

    def next(self, timeout=30) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"watch printed nothing in {timeout}s; stderr: {self.stderr}") from None

    def next_json(self, timeout=30) -> dict:
        return json.loads(self.next(timeout))

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def test_watch_json_follows_live_changes_and_resumes_with_since(ctl):
    source = "watch-" + uuid.uuid4().hex[:8]
    watcher = Watcher(ctl, "--json", "--source", source, "--since", "0")
    try:
        time.sleep(1)  # let the stream open; what happens before it would still be replayed from 0
        incident_id = new_incident(ctl, source=source)["incidentId"]
        created = watcher.next_json()
        assert created["id"] == incident_id
        ctl.ok("ack", incident_id, "--note", "seen live")
        acked = watcher.next_json()
        assert acked["id"] == incident_id and acked["status"] == "ACKNOWLEDGED"
        assert int(acked["position"]) > int(created["position"])
        assert watcher.interrupt() == 0, watcher.stderr
        assert not any("Fatal" in line for line in watcher.stderr)
    finally:
        watcher.kill()

    # A new incident from this source while nobody watches, then a resume after the last position seen.
    later_id = new_incident(ctl, source=source)["incidentId"]
    resumed = Watcher(ctl, "--json", "--source", source, "--since", acked["position"])
    try:
        replayed = resumed.next_json()
        assert replayed["id"] == later_id, "the first change after --since, nothing earlier"
        assert int(replayed["position"]) > int(acked["position"])
        assert resumed.interrupt() == 0
    finally:
        resumed.kill()


def test_watch_without_since_shows_changes_from_now_on_and_since_0_replays(ctl):
    source = "watch-" + uuid.uuid4().hex[:8]
    before = new_incident(ctl, source=source)["incidentId"]
    watcher = Watcher(ctl, "--json", "--source", source)
    try:
        # Nothing tells when the stream has joined, so create until one arrives: each created after the join is
        # printed, none from before the command started ever is.
        after = []
        first = None
        for _ in range(30):
            after.append(new_incident(ctl, source=source)["incidentId"])
            try:
                first = watcher.next_json(timeout=2)
                break
            except AssertionError:
                continue
        assert first is not None, f"watch printed nothing; stderr: {watcher.stderr}"
        assert first["id"] != before, "an incident created before watch started was replayed"
        assert first["id"] in after
        # From here on, gap-free: the next change is printed too.
        later = new_incident(ctl, source=source)["incidentId"]
        seen = [first["id"]]
        while later not in seen:
            seen.append(watcher.next_json()["id"])
        assert before not in seen
        assert watcher.interrupt() == 0, watcher.stderr
    finally:
        watcher.kill()

    replay = Watcher(ctl, "--json", "--source", source, "--since", "0")
    try:
        assert replay.next_json()["id"] == before, "--since 0 replays from the oldest kept change"
        assert replay.interrupt() == 0
    finally:
        replay.kill()


def test_watch_table_lines(ctl):
    source = "watch-" + uuid.uuid4().hex[:8]
    incident_id = new_incident(ctl, source=source, severity="medium")["incidentId"]
    watcher = Watcher(ctl, "--source", source, "--since", "0")
    try:
        assert watcher.next().split()[:3] == ["POSITION", "UPDATED", "ID"]
        line = watcher.next()
        assert incident_id in line and "NEW" in line and "medium" in line and "P2" in line
        assert watcher.interrupt() == 0
    finally:
        watcher.kill()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_watch_reconnects_after_the_server_restarts(pki, database_url, tmp_path):
    listen = f"127.0.0.1:{free_port()}"
    first = RunningServer(pki, database_url, tmp_path / "first.log", listen=listen)
    cli = CLI(first.port, pki)
    source = "restart-" + uuid.uuid4().hex[:8]
    watcher = Watcher(cli, "--json", "--source", source, "--since", "0")
    second = None
    try:
        before = new_incident(cli, source=source)["incidentId"]
        assert watcher.next_json()["id"] == before
        first.process.kill()  # a crash, not a drain
        first.stop()
        second = RunningServer(pki, database_url, tmp_path / "second.log", listen=listen)
        after = new_incident(cli, source=source)["incidentId"]
        resumed = watcher.next_json(timeout=60)
        assert resumed["id"] == after, "resumed after the last change seen: no repeat of the first one"
        assert any("reconnecting" in line for line in watcher.stderr), watcher.stderr
        assert watcher.interrupt() == 0
    finally:
        watcher.kill()
        if second:
            second.stop()


# ---- connection and refusals ----------------------------------------------------------------------------------


def test_server_down_is_unavailable(pki):
    cli = CLI(free_port(), pki)
    fails(cli("list"), UNAVAILABLE, "cannot reach 127.0.0.1:", "is the server running?")
    fails(cli("watch"), UNAVAILABLE, "cannot reach")


def test_deadline_is_temporary(ctl):
    fails(ctl("list", "--timeout", "0.001"), TEMPORARY, "timed out", "--timeout")


def test_watch_refusals_end_it(ctl):
    fails(ctl("watch", "--severity", "apocalyptic"), DATA, "invalid request:", "severities")
    fails(ctl("watch", identity="llm-shield"), PERMISSION, "permission denied:", "incident:stream")


def test_missing_certificate_file_is_named(ctl, pki):
    missing = "/nonexistent/secops.pem"
    result = ctl("list", "--server", f"127.0.0.1:{ctl.port}", "--ca", str(pki / "ca.pem"), "--cert", missing,
                 "--key", str(pki / "secops.key"), connect=False)
    fails(result, CONFIG, "client certificate", missing)
    fails(ctl("list", "--cert", str(pki / "secops.pem"), connect=False), CONFIG, "--key")


def test_tls_trouble_is_told_as_what_to_check(ctl, pki, tmp_path):
    other = tmp_path / "other-pki"
    subprocess.run(["bash", str(ROOT / "Tests" / "IncidentServerTests" / "Fixtures" / "make-service-pki.sh"),
                    str(other)], check=True)
    server = f"127.0.0.1:{ctl.port}"

    def run(ca, cert, key):
        return ctl("list", "--server", server, "--ca", str(ca), "--cert", str(cert), "--key", str(key),
                   connect=False)

    fails(run(other / "ca.pem", pki / "secops.pem", pki / "secops.key"), CONFIG, "cannot trust", "--ca")
    fails(run(pki / "ca.pem", pki / "secops.pem", pki / "viewer.key"), CONFIG, "--key", "--cert")
    junk = tmp_path / "junk.key"
    junk.write_text("not a key\n")
    fails(run(pki / "ca.pem", pki / "secops.pem", junk), CONFIG, str(junk))
    # A certificate from a CA the server does not trust: the server closes the handshake.
    fails(run(pki / "ca.pem", other / "secops.pem", other / "secops.key"), UNAVAILABLE, "cannot reach", "--cert")
    # A certificate the server trusts, naming nobody the config knows.
    fails(ctl("list", identity="stranger"), PERMISSION, "permission denied:", "not a known identity")


def certs_dir(pki: pathlib.Path, directory: pathlib.Path, *identities: str) -> pathlib.Path:
    """A directory laid out as `make certs` writes certs/: ca.crt and NAME-client.crt/.key."""
    directory.mkdir(parents=True)
    shutil.copy(pki / "ca.pem", directory / "ca.crt")
    for identity in identities:
        shutil.copy(pki / f"{identity}.pem", directory / f"{identity}-client.crt")
        shutil.copy(pki / f"{identity}.key", directory / f"{identity}-client.key")
    return directory


def test_environment_profile_and_flags_beating_it(ctl, pki, tmp_path):
    incident_id = new_incident(ctl)["incidentId"]
    directory = certs_dir(pki, tmp_path / "dir", "viewer", "secops")
    env = clean_env(INCIDENTCTL_SERVER=f"127.0.0.1:{ctl.port}", INCIDENTCTL_CERTS=str(directory),
                    INCIDENTCTL_IDENTITY="viewer")
    # The viewer from the environment reads but may not acknowledge.
    assert ctl.json("get", incident_id, env=env, connect=False)["id"] == incident_id
    fails(ctl("ack", incident_id, env=env, connect=False), PERMISSION, "viewer")
    # A flag beats the variable.
    assert ctl.json("ack", incident_id, "--identity", "secops", env=env, connect=False)["status"] == "ACKNOWLEDGED"
    # Explicit files beat the directory; a wrong server in the environment loses to --server.
    env_wrong_server = dict(env, INCIDENTCTL_SERVER=f"127.0.0.1:{free_port()}",
                            INCIDENTCTL_CERT=str(pki / "secops.pem"), INCIDENTCTL_KEY=str(pki / "secops.key"))
    assert ctl.json("get", incident_id, "--server", f"127.0.0.1:{ctl.port}", env=env_wrong_server,
                    connect=False)["id"] == incident_id
    fails(ctl("get", incident_id, env=env_wrong_server, connect=False), UNAVAILABLE, "cannot reach")
    # A token is sent as `authorization: Bearer` metadata: this server is configured with no tokens, so it refuses
    # the call rather than quietly acting as the certificate's identity (flag and environment alike).
    fails(ctl("get", incident_id, "--token", "t0ken", env=env, connect=False), PERMISSION, "bearer token")
    fails(ctl("get", incident_id, env=dict(env, INCIDENTCTL_TOKEN="t0ken"), connect=False), PERMISSION,
          "bearer token")


def test_development_certs_in_the_working_directory_are_the_default(ctl, pki, tmp_path):
    incident_id = new_incident(ctl)["incidentId"]
    certs_dir(pki, tmp_path / "certs", "secops")
    env = clean_env(INCIDENTCTL_SERVER=f"127.0.0.1:{ctl.port}")
    # secops from ./certs: allowed to acknowledge.
    acked = ctl.json("ack", incident_id, env=env, cwd=tmp_path, connect=False)
    assert acked["status"] == "ACKNOWLEDGED"
    # Nothing at all: a configuration error saying what to set.
    empty = tmp_path / "empty"
    empty.mkdir()
    fails(ctl("list", env=env, cwd=empty, connect=False), CONFIG, "no client certificate", "make certs")


def test_help_documents_the_exit_codes(ctl):
    text = ctl.ok("--help", connect=False).stdout
    for code in ("64", "65", "66", "69", "75", "77", "78", "79", "80", "81", "82"):
        assert f"\n  {code}  " in text, code
