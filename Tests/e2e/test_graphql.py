"""POST /graphql on the HTTP door, against the real incident-server over real TLS with Python's own HTTP client
(urllib): incidents made and acknowledged/resolved over gRPC, then the integration guide's LLM-Governance-Core query
(§5) sent verbatim, and its answers compared with what the database holds (psql). Also: paging by page and by
cursor, introspection, the depth and cost limits, and 401/403 as the door's JSON errors."""
import base64
import datetime
import hashlib
import json
import pathlib
import secrets
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest

from conftest import RunningServer, fresh_database

API_KEY = "im-gql-" + secrets.token_hex(16)

# The guide's query, verbatim (integration-guide.md §5, "Pull: Governance pulls incident data").
GUIDE_QUERY = """query GetIncidentReport {
  incidents(
    filter: {
      dateRange: { start: "2025-11-01T00:00:00Z", end: "2025-11-30T23:59:59Z" }
      severity: [P0, P1]
      category: [security, compliance]
    }
    pagination: { page: 1, pageSize: 100 }
  ) {
    edges {
      node {
        id
        severity
        category
        status
        created_at
        resolved_at
        resolution {
          root_cause
          actions_taken
        }
        sla {
          acknowledgment_breached
          resolution_breached
        }
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
    totalCount
  }

  incidentMetrics(
    timeRange: { start: "2025-11-01T00:00:00Z", end: "2025-11-30T23:59:59Z" }
    groupBy: [SEVERITY, CATEGORY]
  ) {
    totalIncidents
    bySeverity {
      severity
      count
    }
    averageMTTR
    averageMTTA
    slaCompliance
  }
}
"""
GUIDE_START, GUIDE_END = "2025-11-01T00:00:00Z", "2025-11-30T23:59:59Z"


ROOT_CAUSE = "A system prompt without input isolation"
ACTIONS_TAKEN = ["blocked the user", "added input isolation"]

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(key: pathlib.Path, subject: str, expires_in: int = 600) -> str:
    now = int(time.time())
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    claims = b64url(json.dumps({"sub": subject, "iss": "https://issuer.e2e", "aud": "incident-manager", "iat": now,
                                "exp": now + expires_in}).encode())
    signing_input = f"{header}.{claims}".encode()
    signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key)], input=signing_input,
                               capture_output=True, check=True).stdout
    return f"{header}.{claims}.{b64url(signature)}"


@pytest.fixture(scope="module")
def gql_database():
    yield from fresh_database()


@pytest.fixture(scope="module")
def server(pki, gql_database, tmp_path_factory):
    directory = tmp_path_factory.mktemp("graphql")
    port = free_port()
    config = directory / "config.yaml"
    config.write_text(f"""
server:
  public_url: https://127.0.0.1:{port}
identities:
  llm-shield: {{permissions: [event:create]}}
  secops: {{permissions: [event:create, incident:read, incident:update, incident:stream], sources: ["*"]}}
  viewer: {{permissions: [incident:read]}}
  governance: {{permissions: [incident:read]}}
tokens:
  api_keys:
    - identity: governance
      sha256: {hashlib.sha256(API_KEY.encode()).hexdigest()}
  jwt:
    issuer: https://issuer.e2e
    audience: incident-manager
    keys:
      - {{algorithm: RS256, public_key_file: "{pki / 'jwt-rs256.pub.pem'}"}}
""")
    running = RunningServer(pki, gql_database, directory / "server.log", config=config,
                            http_listen=f"127.0.0.1:{port}")
    running.directory = directory
    yield running
    assert running.stop() == 0


class Answer:
    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


def post(server, pki, body, identity=None, token=None, raw: bytes = None) -> Answer:
    """One POST /graphql with urllib over TLS: the server checked against the test CA, `identity`'s certificate
    presented when given, `token` as a bearer token when given."""
    context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
    if identity:
        context.load_cert_chain(str(pki / f"{identity}.pem"), str(pki / f"{identity}.key"))
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else json.dumps(body).encode()
    request = urllib.request.Request(f"https://127.0.0.1:{server.http_port}/graphql", data=data, headers=headers,
                                     method="POST")
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())


def sql(database_url: str, statement: str):
    """Rows of one query as lists of text, via psql (the database's own view, not the server's)."""
    out = subprocess.run(["psql", database_url, "-At", "-F", "\t", "-c", statement], check=True,
                         capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def incidents(server, api, pki):
    """Eight incidents over gRPC (levels P0-P3, categories security/compliance/performance); three acknowledged,
    two of those resolved. Returns the window they were made in."""
    import grpc

    pb2, pb2_grpc = api
    credentials = {
        name: grpc.ssl_channel_credentials(root_certificates=(pki / "ca.pem").read_bytes(),
                                           private_key=(pki / f"{name}.key").read_bytes(),
                                           certificate_chain=(pki / f"{name}.pem").read_bytes())
        for name in ("llm-shield", "secops")
    }
    shield = grpc.secure_channel(f"127.0.0.1:{server.port}", credentials["llm-shield"])
    secops = grpc.secure_channel(f"127.0.0.1:{server.port}", credentials["secops"])
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    made = []
    for severity, category in [("critical", "security"), ("high", "security"), ("high", "compliance"),
                               ("medium", "security"), ("low", "performance"), ("critical", "compliance"),
                               ("high", "performance"), ("medium", "compliance")]:
        request = pb2.CreateIncidentRequest(
            event_id="gql-" + uuid.uuid4().hex, source="llm-shield", title="GraphQL e2e", severity=severity,
            category=category, event_type="violation", description="made by the GraphQL e2e test")
        made.append(pb2_grpc.IncidentServiceStub(shield).CreateIncident(request, timeout=30).incident_id)
    stub = pb2_grpc.IncidentServiceStub(secops)
    time.sleep(0.3)  # acknowledgement times measurably after creation
    for incident_id in made[:3]:
        stub.UpdateIncident(pb2.UpdateIncidentRequest(incident_id=incident_id, status="ACKNOWLEDGED"), timeout=30)
    time.sleep(0.3)
    for incident_id in made[:2]:
        for status in ("IN_PROGRESS", "RESOLVED"):
            stub.UpdateIncident(pb2.UpdateIncidentRequest(incident_id=incident_id, status=status), timeout=30)
    # The first one's resolution details, recorded after the resolution as UpdateIncident allows.
    stub.UpdateIncident(pb2.UpdateIncidentRequest(incident_id=made[0], root_cause=ROOT_CAUSE,
                                                  actions_taken=ACTIONS_TAKEN), timeout=30)
    shield.close()
    secops.close()
    end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)
    return {"ids": made, "start": iso(start), "end": iso(end)}


def in_window(query: str, window) -> str:
    return query.replace(GUIDE_START, window["start"]).replace(GUIDE_END, window["end"])


def database_view(database_url: str, start: str, end: str):
    """What the guide's query should report for [start, end], computed by the database itself."""
    where = f"created_at >= '{start}' AND created_at <= '{end}'"
    page = sql(database_url, f"""
        SELECT id, 'P' || priority, category, status FROM incidents
        WHERE {where} AND priority IN (0, 1) AND category IN ('security', 'compliance')
        ORDER BY created_at DESC, id DESC""")
    totals = sql(database_url, f"""
        SELECT count(*), avg(extract(epoch FROM resolved_at - created_at)),
               avg(extract(epoch FROM acknowledged_at - created_at)),
               count(*) FILTER (WHERE sla_breaches = '[]'::jsonb)
        FROM incidents WHERE {where}""")[0]
    by_level = sql(database_url, f"SELECT 'P' || priority, count(*) FROM incidents WHERE {where} GROUP BY 1 ORDER BY 1")
    return page, totals, by_level


def close(reported, expected: str):
    if expected == "":
        return reported is None
    return reported is not None and abs(reported - float(expected)) < 0.001


def test_guide_query_verbatim_answers_what_the_database_holds(server, pki, incidents, gql_database):
    answer = post(server, pki, {"query": GUIDE_QUERY}, identity="viewer")
    assert answer.status == 200, answer.body
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert "errors" not in body, body
    # November 2025 holds none of this test's incidents, and the database agrees.
    page, totals, by_level = database_view(gql_database, GUIDE_START, GUIDE_END)
    assert body["data"]["incidents"]["totalCount"] == len(page) == 0
    assert body["data"]["incidents"]["edges"] == []
    assert body["data"]["incidents"]["pageInfo"] == {"hasNextPage": False, "endCursor": None}
    metrics = body["data"]["incidentMetrics"]
    assert metrics == {"totalIncidents": 0, "bySeverity": [], "averageMTTR": None, "averageMTTA": None,
                       "slaCompliance": None}


def test_guide_query_over_the_test_window_matches_the_database(server, pki, incidents, gql_database):
    answer = post(server, pki, {"query": in_window(GUIDE_QUERY, incidents)}, identity="viewer")
    assert answer.status == 200, answer.body
    body = answer.json()
    assert "errors" not in body, body
    page, totals, by_level = database_view(gql_database, incidents["start"], incidents["end"])
    data = body["data"]["incidents"]
    assert data["totalCount"] == len(page) == 4  # P0/P1 in security/compliance: 4 of the 8
    nodes = [edge["node"] for edge in data["edges"]]
    assert [[n["id"], n["severity"], n["category"], n["status"]] for n in nodes] == page
    assert data["pageInfo"]["hasNextPage"] is False and data["pageInfo"]["endCursor"]
    # The guide's fields, in the guide's order (responses follow the selection set).
    assert list(nodes[0]) == ["id", "severity", "category", "status", "created_at", "resolved_at", "resolution", "sla"]
    for node in nodes:
        # Only the first incident had its resolution details recorded; the others' are null.
        expected = {"root_cause": ROOT_CAUSE, "actions_taken": ACTIONS_TAKEN} if node["id"] == incidents["ids"][0] \
            else None
        assert node["resolution"] == expected, node
        assert node["sla"] == {"acknowledgment_breached": False, "resolution_breached": False}
        assert node["created_at"].endswith("Z")
    resolved = {n["id"] for n in nodes if n["resolved_at"]}
    assert resolved == set(incidents["ids"][:2])
    stored = dict(sql(gql_database, "SELECT id, to_char(created_at AT TIME ZONE 'UTC', "
                                    "'YYYY-MM-DD\"T\"HH24:MI:SS') FROM incidents"))
    for node in nodes:
        assert node["created_at"].startswith(stored[node["id"]]), (node, stored[node["id"]])

    metrics = body["data"]["incidentMetrics"]
    count, mttr, mtta, sla_met = totals
    assert metrics["totalIncidents"] == int(count) == 8
    assert [[entry["severity"], str(entry["count"])] for entry in metrics["bySeverity"]] == by_level
    assert {entry["severity"]: entry["count"] for entry in metrics["bySeverity"]} == {"P0": 2, "P1": 3, "P2": 2,
                                                                                      "P3": 1}
    assert close(metrics["averageMTTR"], mttr) and metrics["averageMTTR"] > 0.5
    assert close(metrics["averageMTTA"], mtta) and metrics["averageMTTA"] > 0.25
    assert close(metrics["slaCompliance"], str(int(sla_met) / int(count)))


def test_metrics_by_category_and_paging(server, pki, incidents, gql_database):
    window = f'{{start: "{incidents["start"]}", end: "{incidents["end"]}"}}'
    query = f"""{{ incidentMetrics(timeRange: {window}, groupBy: [CATEGORY]) {{
        totalIncidents bySeverity {{ severity count }} byCategory {{ category count }} }} }}"""
    body = post(server, pki, {"query": query}, identity="secops").json()
    assert "errors" not in body, body
    metrics = body["data"]["incidentMetrics"]
    assert metrics["bySeverity"] is None  # not asked for in groupBy
    expected = sql(gql_database, f"SELECT category, count(*) FROM incidents WHERE created_at >= '{incidents['start']}'"
                                 f" AND created_at <= '{incidents['end']}' GROUP BY 1 ORDER BY 1")
    assert [[entry["category"], str(entry["count"])] for entry in metrics["byCategory"]] == expected

    # All eight, three at a time, by page number and by cursor: the same ids, newest first.
    every = [row[0] for row in sql(gql_database, "SELECT id FROM incidents ORDER BY created_at DESC, id DESC")]
    by_page, by_cursor, after = [], [], None
    for number in (1, 2, 3):
        q = f"""query($p: Pagination) {{ incidents(filter: {{dateRange: {window}}}, pagination: $p) {{
            edges {{ cursor node {{ id }} }} pageInfo {{ hasNextPage endCursor }} totalCount }} }}"""
        paged = post(server, pki, {"query": q, "variables": {"p": {"page": number, "pageSize": 3}}},
                     identity="viewer").json()["data"]["incidents"]
        by_page += [edge["node"]["id"] for edge in paged["edges"]]
        assert paged["totalCount"] == 8
        assert paged["pageInfo"]["hasNextPage"] is (number < 3)
        cursor_page = post(server, pki, {"query": q, "variables": {"p": {"pageSize": 3, "after": after}}},
                           identity="viewer").json()["data"]["incidents"]
        by_cursor += [edge["node"]["id"] for edge in cursor_page["edges"]]
        after = cursor_page["pageInfo"]["endCursor"]
    assert by_page == by_cursor == every


def test_bearer_jwt_and_api_key_authorise(server, pki, incidents):
    token = jwt(pki / "jwt-rs256.key", "governance")
    by_jwt = post(server, pki, {"query": "{ incidents { edges { node { id } } } }"}, token=token)
    assert by_jwt.status == 200, by_jwt.body
    assert len(by_jwt.json()["data"]["incidents"]["edges"]) == 8
    by_key = post(server, pki, {"query": "{ incidents { totalCount } }"}, token=API_KEY)
    assert by_key.status == 200 and by_key.json() == {"data": {"incidents": {"totalCount": 8}}}
    log = (server.directory / "server.log").read_text()
    assert token not in log and API_KEY not in log, "a bearer token reached the log"


def assert_door_error(answer: Answer, status: int, code: str):
    assert answer.status == status, answer.body
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"]["code"] == code, answer.body


def test_unauthorised_callers_get_the_doors_json_errors(server, pki):
    query = {"query": "{ __schema { queryType { name } } }"}
    assert_door_error(post(server, pki, query), 401, "unauthenticated")
    assert_door_error(post(server, pki, query, token="not-a-token"), 401, "unauthenticated")
    expired = jwt(pki / "jwt-rs256.key", "governance", expires_in=-600)
    assert_door_error(post(server, pki, query, token=expired), 401, "unauthenticated")
    # A known identity without incident:read: introspection too is refused.
    assert_door_error(post(server, pki, query, identity="llm-shield"), 403, "permission_denied")
    assert_door_error(post(server, pki, {"query": GUIDE_QUERY}, identity="llm-shield"), 403, "permission_denied")


def test_introspection_works_for_authorised_callers(server, pki):
    from graphql import build_client_schema, get_introspection_query, parse, validate

    answer = post(server, pki, {"query": get_introspection_query(descriptions=True)}, identity="viewer")
    assert answer.status == 200, answer.body
    body = answer.json()
    assert "errors" not in body, body
    # The introspected schema is complete enough for a client to check the guide's query against it.
    schema = build_client_schema(body["data"])
    assert validate(schema, parse(GUIDE_QUERY)) == []
    assert sorted(schema.get_type("Severity").values) == ["P0", "P1", "P2", "P3", "P4"]


def test_depth_and_cost_are_limited(server, pki):
    deep = "{ __schema { types { fields { type " + "{ ofType " * 20 + "{ name }" + " }" * 20 + " } } } }"
    answer = post(server, pki, {"query": deep}, identity="viewer")
    assert answer.status == 400, answer.body
    assert "depth" in answer.json()["errors"][0]["message"]
    assert "data" not in answer.json()

    fields = "edges { node { id severity category status created_at resolved_at sla { acknowledgment_breached } } }"
    costly = "{ " + " ".join(f"a{i}: incidents(pagination: {{pageSize: 1000}}) {{ {fields} }}" for i in range(8)) + " }"
    answer = post(server, pki, {"query": costly}, identity="viewer")
    assert answer.status == 400, answer.body
    assert "cost" in answer.json()["errors"][0]["message"]

    # The same through a variable is counted the same way.
    var_query = "query($p: Pagination) { " + " ".join(
        f"a{i}: incidents(pagination: $p) {{ {fields} }}" for i in range(8)) + " }"
    answer = post(server, pki, {"query": var_query, "variables": {"p": {"pageSize": 1000}}}, identity="viewer")
    assert answer.status == 400 and "cost" in answer.json()["errors"][0]["message"], answer.body


def test_malformed_requests_are_graphql_errors(server, pki):
    syntax = post(server, pki, {"query": "{ incidents { "}, identity="viewer")
    assert syntax.status == 400 and syntax.json()["errors"][0]["message"], syntax.body
    unknown = post(server, pki, {"query": "{ incidents { nope } }"}, identity="viewer")
    assert unknown.status == 400 and "nope" in unknown.json()["errors"][0]["message"], unknown.body
    not_json = post(server, pki, None, identity="viewer", raw=b"query { incidents }")
    assert not_json.status == 400 and not_json.json()["errors"], not_json.body
    # A refused field is a field error beside the other root field's data, answered 200 as GraphQL-over-HTTP has it.
    too_big = post(server, pki, {"query": "{ incidents(pagination: {pageSize: 5000}) { totalCount } "
                                          "incidentMetrics { totalIncidents } }"}, identity="viewer")
    assert too_big.status == 200, too_big.body
    errors = too_big.json()["errors"]
    assert "pageSize" in errors[0]["message"] and errors[0]["path"] == ["incidents"], errors
    assert too_big.json()["data"] == {"incidents": None, "incidentMetrics": {"totalIncidents": 8}}
    bad_variable = post(server, pki, {"query": "query($p: Pagination) { incidents(pagination: $p) { totalCount } }",
                                      "variables": {"p": {"pageSize": "ten"}}}, identity="viewer")
    assert bad_variable.status == 400 and bad_variable.json()["errors"], bad_variable.body
    bad_date = post(server, pki, {"query": '{ incidents(filter: {dateRange: {start: "yesterday"}}) { totalCount } }'},
                    identity="viewer")
    assert bad_date.status == 400 and "DateTime" in bad_date.body.decode(), bad_date.body
