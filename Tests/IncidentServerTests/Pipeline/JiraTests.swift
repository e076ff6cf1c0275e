// Jira issues for incidents against a loopback stand-in of Jira's REST API (issue create and JQL search with
// state, scripted 429 with Retry-After and 5xx), through the real server, job runner and Postgres.
import Foundation
import HTTPTestSupport
import IncidentAPI
import IncidentCore
@testable import IncidentServer
import IncidentStore
import Synchronization
import Testing

/// Jira's `POST /rest/api/3/issue` and `POST /rest/api/3/search`, keeping the issues it created.
final class JiraStandIn: Sendable {
    struct Issue: Sendable {
        var key: String
        var fields: Data
    }

    let issues = Mutex<[Issue]>([])
    /// Seconds the answer to the next create is held (the issue exists at once): a lost answer, as the caller sees it.
    let holdNextCreate = Mutex<Double>(0)

    /// The workflow of issue SEC-1: its status and the comments added to it.
    let status = Mutex("To Do")
    let comments = Mutex<[String]>([])
    static let workflow = [("11", "To Do"), ("21", "In Progress"), ("31", "Done")]

    init(_ receiver: LoopbackHTTPReceiver) {
        receiver.respond(path: "/rest/api/3/issue") { [self] request in create(request) }
        receiver.respond(path: "/rest/api/3/search") { [self] request in search(request) }
        receiver.respond(path: "/rest/api/3/issue/SEC-1/transitions") { [self] request in transitions(request) }
        receiver.respond(path: "/rest/api/3/issue/SEC-1/comment") { [self] request in
            let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]
            let doc = body?["body"] as? [String: Any]
            let text = ((doc?["content"] as? [[String: Any]])?.first?["content"] as? [[String: Any]])?.first?["text"]
            comments.withLock { $0.append(text as? String ?? "") }
            return .init(status: 201, body: Array(#"{"id":"10000"}"#.utf8))
        }
    }

    /// Offers every transition but the one to the current status; POST moves the issue.
    private func transitions(_ request: LoopbackHTTPReceiver.Received) -> LoopbackHTTPReceiver.Reply {
        let current = status.withLock { $0 }
        if request.method == "GET" {
            let offered = Self.workflow.filter { $0.1 != current }.map { ["id": $0.0, "name": $0.1, "to": ["name": $0.1]] }
            return .init(status: 200,
                         body: Array((try? JSONSerialization.data(withJSONObject: ["transitions": offered])) ?? Data()))
        }
        let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]
        let id = (body?["transition"] as? [String: Any])?["id"] as? String
        guard let target = Self.workflow.first(where: { $0.0 == id && $0.1 != current }) else {
            return .init(status: 400, body: Array(#"{"errorMessages":["transition not offered"]}"#.utf8))
        }
        status.withLock { $0 = target.1 }
        return .init(status: 204, body: [])
    }

    func fields(_ issue: Issue) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: issue.fields)) as? [String: Any] ?? [:]
    }

    private func create(_ request: LoopbackHTTPReceiver.Received) -> LoopbackHTTPReceiver.Reply {
        guard let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any],
              let fields = body["fields"] as? [String: Any],
              let project = (fields["project"] as? [String: Any])?["key"] as? String,
              let data = try? JSONSerialization.data(withJSONObject: fields) else {
            return .init(status: 400, body: Array(#"{"errorMessages":["bad request"]}"#.utf8))
        }
        let key = issues.withLock { issues in
            let key = "\(project)-\(issues.count + 1)"
            issues.append(Issue(key: key, fields: data))
            return key
        }
        let hold = holdNextCreate.withLock { hold in
            defer { hold = 0 }
            return hold
        }
        return .init(status: 201, delaySeconds: hold,
                     body: Array(#"{"id":"1000\#(key.count)","key":"\#(key)","self":"https://jira.test/\#(key)"}"#.utf8))
    }

    private func search(_ request: LoopbackHTTPReceiver.Received) -> LoopbackHTTPReceiver.Reply {
        let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] ?? [:]
        let jql = body["jql"] as? String ?? ""
        // `cf[10001] ~ "INC-…"`: the stand-in understands the one clause the service sends.
        guard let range = jql.range(of: #"cf\[10001\] ~ "([^"]+)""#, options: .regularExpression) else {
            return .init(status: 400, body: Array(#"{"errorMessages":["unsupported JQL"]}"#.utf8))
        }
        let wanted = jql[range].split(separator: "\"")[1]
        let found = issues.withLock { $0 }.filter { fields($0)["customfield_10001"] as? String == String(wanted) }
        let answer: [String: Any] = [
            "total": found.count,
            "issues": found.map { ["key": $0.key, "fields": ["customfield_10001": String(wanted)]] },
        ]
        return .init(status: 200, body: Array((try? JSONSerialization.data(withJSONObject: answer)) ?? Data()))
    }
}

@Suite("Jira issues", .enabled(if: TestDatabase.shouldRun))
struct JiraTests {
    static let email = "ops@example.com"
    static let token = "jira-api-token-for-tests"

    static func start(timeout: Double = 10) async throws -> (PipelineHarness, JiraStandIn) {
        var environment = PipelineHarness.environment
        environment["TEST_JIRA_USER"] = email
        environment["TEST_JIRA_TOKEN"] = token
        let harness = try await PipelineHarness.start(configure: { config in
            var jira = JiraConfig()
            jira.baseURL = config.notifications.pagerDuty.endpoint.replacingOccurrences(of: "/pagerduty", with: "")
            jira.username = "${TEST_JIRA_USER}"
            jira.apiToken = "${TEST_JIRA_TOKEN}"
            jira.timeoutSeconds = timeout
            config.jira = jira
            config.jobs.breakerCoolOffSeconds = 0.5
        }, environment: environment)
        return (harness, JiraStandIn(harness.receiver))
    }

    func linked(_ harness: PipelineHarness, _ id: String) async throws -> IncidentCore.TimelineEntry? {
        try await harness.incident(id).timeline.first { $0.kind == JiraHandler.linked }
    }

    @Test("a P1 security incident opens one SEC issue with the guide's fields; its key and URL go on the timeline")
    func createsOneIssue() async throws {
        let (harness, jira) = try await Self.start()
        let id = try await harness.create(severity: "high").incidentId
        let quiet = try await harness.create(severity: "info").incidentId
        #expect(try await eventually { try await linked(harness, id) != nil })
        let issues = jira.issues.withLock { $0 }
        #expect(issues.count == 1)
        let fields = jira.fields(try #require(issues.first))
        #expect((fields["project"] as? [String: Any])?["key"] as? String == "SEC")
        #expect((fields["issuetype"] as? [String: Any])?["name"] as? String == "Security Incident")
        #expect((fields["priority"] as? [String: Any])?["name"] as? String == "High")
        #expect(fields["labels"] as? [String] == ["llm-incident-manager", "automated", "security"])
        #expect(fields["customfield_10001"] as? String == id)
        #expect(fields["summary"] as? String == "[\(id)] Prompt Injection Detected")
        let description = try #require(fields["description"] as? [String: Any])
        #expect(description["type"] as? String == "doc" && description["version"] as? Int == 1)
        let first = (description["content"] as? [[String: Any]])?.first
        let text = ((first?["content"] as? [[String: Any]])?.first?["text"] as? String)
        #expect(text == "Malicious prompt injection attempt blocked")
        let creates = harness.receiver.received(path: "/rest/api/3/issue")
        let basic = "Basic " + Data("\(Self.email):\(Self.token)".utf8).base64EncodedString()
        #expect(creates.allSatisfy { $0.headers["authorization"] == basic })
        let entry = try #require(try await linked(harness, id))
        #expect(entry.details["key"] == "SEC-1")
        #expect(entry.details["url"] == harness.receiver.url + "/browse/SEC-1")
        #expect(try await linked(harness, quiet) == nil)
        await harness.stop()
    }

    @Test("our status changes and notes reach the linked issue as transitions and comments")
    func syncsOurChangesToJira() async throws {
        let (harness, jira) = try await Self.start()
        let id = try await harness.create(severity: "high").incidentId
        #expect(try await eventually { try await linked(harness, id) != nil })
        let secops = try harness.client("secops")
        _ = try await secops.updateIncident(.with(id: id, status: "ACKNOWLEDGED", note: "looking at it"), options: .test)
        #expect(try await eventually { jira.comments.withLock { $0 } == ["looking at it"] })
        // ACKNOWLEDGED has no transition by default: the issue stays where it is.
        #expect(jira.status.withLock { $0 } == "To Do")
        _ = try await secops.updateIncident(.with(id: id, status: "IN_PROGRESS"), options: .test)
        #expect(try await eventually { jira.status.withLock { $0 } == "In Progress" })
        _ = try await secops.updateIncident(.with(id: id, status: "RESOLVED", note: "blocked and rotated"), options: .test)
        #expect(try await eventually { jira.status.withLock { $0 } == "Done" })
        #expect(try await eventually { jira.comments.withLock { $0 } == ["looking at it", "blocked and rotated"] })
        #expect(try await eventually {
            try await harness.incident(id).timeline.filter { $0.kind == "jira_synced" }.count == 3
        })
        #expect(jira.issues.withLock { $0.count } == 1)
        await harness.stop()
    }

    @Test("429 with Retry-After and 5xx from Jira are retried until exactly one issue exists")
    func retriesThroughRateLimitsAndErrors() async throws {
        let (harness, jira) = try await Self.start()
        harness.receiver.script([.init(status: 502)], path: "/rest/api/3/search")
        harness.receiver.script([.init(status: 429, headers: ["Retry-After": "1"]), .init(status: 503)],
                                path: "/rest/api/3/issue")
        let id = try await harness.create(severity: "critical").incidentId
        #expect(try await eventually { try await linked(harness, id) != nil })
        #expect(jira.issues.withLock { $0.count } == 1)
        let statuses = harness.receiver.received(path: "/rest/api/3/issue").map(\.status)
        #expect(statuses == [429, 503, 201])
        await harness.stop()
    }

    @Test("Jira created the issue but its answer was lost: the retry finds it by incident id, no second issue")
    func lostAnswerLinksTheExistingIssue() async throws {
        let (harness, jira) = try await Self.start(timeout: 1)
        jira.holdNextCreate.withLock { $0 = 3 }
        let id = try await harness.create(severity: "medium").incidentId
        #expect(try await eventually { try await linked(harness, id) != nil })
        #expect(jira.issues.withLock { $0.count } == 1)
        #expect(harness.receiver.received(path: "/rest/api/3/issue").count == 1)
        #expect(harness.receiver.received(path: "/rest/api/3/search").count >= 2)
        let entry = try #require(try await linked(harness, id))
        #expect(entry.message.contains("found by incident id"))
        #expect(entry.details["key"] == "SEC-1")
        await harness.stop()
    }
}
