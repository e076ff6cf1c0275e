// The Governance audit push against a stand-in receiver on loopback, with real Postgres and the real server: the
// receiver fails for a while (503, 429 with Retry-After), and in the second test the real incident-server binary
// is killed with SIGKILL while a batch is in flight. In both, the receiver's view, deduplicated on event_id as the
// guide's receiver does, equals the audit log's pushed entries in sequence order: nothing missing, nothing reordered.
import Foundation
import HTTPTestSupport
import IncidentAPI
import IncidentCore
@testable import IncidentServer
@testable import IncidentStore
import Testing

@Suite("Governance audit push", .enabled(if: TestDatabase.shouldRun))
struct GovernanceAuditFeedTests {
    static let path = "/governance/api/v1/audit-events"
    static let apiKey = "governance-api-key-for-tests"

    @Test("a Governance outage: every audit event arrives, in order, none lost, after the receiver recovers")
    func outage() async throws {
        var environment = PipelineHarness.environment
        environment["TEST_GOVERNANCE_KEY"] = Self.apiKey
        let harness = try await PipelineHarness.start(configure: { config in
            var governance = GovernanceConfig()
            // The harness points PagerDuty at `<receiver>/pagerduty`; Governance goes to the same stand-in.
            let receiver = config.notifications.pagerDuty.endpoint.replacingOccurrences(of: "/pagerduty", with: "")
            governance.auditEndpoint = receiver + "/governance"
            governance.apiKey = "${TEST_GOVERNANCE_KEY}"
            governance.maxBatchSize = 4
            governance.maxWaitSeconds = 0.2
            governance.timeoutSeconds = 2
            config.governance = governance
            // Five failures open the breaker: keep its cool-off short so the test waits seconds, not half a minute.
            config.jobs.breakerCoolOffSeconds = 1
        }, startJobs: false, environment: environment)
        // Down for a while: errors, a rate limit with a hint, then up.
        harness.receiver.script([
            .init(status: 503), .init(status: 503), .init(status: 429, headers: ["Retry-After": "1"]),
            .init(status: 500), .init(status: 502),
        ], path: Self.path)

        var ids: [String] = []
        for index in 0..<7 {
            ids.append(try await harness.create(severity: index.isMultiple(of: 2) ? "medium" : "low",
                                                eventID: "gov-outage-\(index)").incidentId)
        }
        harness.pipeline.start()
        // Resolutions and a closure while Governance is still failing.
        for id in ids.prefix(3) { try await setStatus(harness.store, id, [.acknowledged, .inProgress, .resolved]) }
        try await setStatus(harness.store, ids[0], [.closed])

        let expected = try await pushedAuditEntries(harness.database)
        #expect(expected.count == 7 + 3 + 1)
        #expect(try await eventually(timeout: .seconds(60)) {
            receiverView(harness.receiver).map(\.id) == expected.map(\.id)
        })
        let requests = harness.receiver.received(path: Self.path)
        #expect(requests.count >= 6, "the scripted failures were answered and retried")
        #expect(requests.allSatisfy { $0.headers["x-api-key"] == Self.apiKey })
        #expect(requests.allSatisfy { (try? batch($0.body).count) ?? 99 <= 4 })
        let view = receiverView(harness.receiver)
        #expect(view.map(\.type) == expected.map(\.type))
        #expect(view.filter { $0.type == "incident_resolved" }.map(\.incident) == Array(ids.prefix(3)))
        // The cursor stands at or past the last pushed entry: a restart sends nothing again.
        // (The cursor moves after the receiver's 2xx reached us, so a moment after the receiver saw the batch.)
        #expect(try await eventually { try await harness.store.feedCursor("governance") >= expected.last!.seq })
        await harness.stop()
    }

    @Test("kill -9 of the server mid-batch: after restart the batch is sent again with the same event ids, no gap")
    func killMidBatch() async throws {
        let receiver = try LoopbackHTTPReceiver()
        defer { receiver.stop() }
        // The first batch is held past the kill; then Governance fails twice more before it takes everything.
        receiver.script([.init(status: 200, delaySeconds: 8), .init(status: 503), .init(status: 503)],
                        path: Self.path)
        setenv("TEST_GOVERNANCE_KEY", Self.apiKey, 1)
        let settings = try await TestDatabase.fresh()
        let configFile = try Self.writeServerConfig(receiver: receiver.url)

        var server = try await ServerProcess.start(config: configFile, database: settings)
        let client = try server.client("llm-shield")
        for index in 0..<6 {
            _ = try await client.createIncident(Sample.event(id: "gov-kill-\(index)", severity: "low"), options: .test)
        }
        #expect(try await eventually { receiver.received(path: Self.path).count == 1 })
        server.kill()
        let heldBatch = try batch(receiver.received(path: Self.path)[0].body).map { $0["event_id"] as? String ?? "" }
        #expect(!heldBatch.isEmpty)

        server = try await ServerProcess.start(config: configFile, database: settings)
        defer { server.kill() }
        let restarted = try server.client("llm-shield")
        for index in 6..<9 {
            _ = try await restarted.createIncident(Sample.event(id: "gov-kill-\(index)", severity: "low"),
                                                   options: .test)
        }
        let expected = try await pushedAuditEntries(settings)
        #expect(expected.count == 9)
        #expect(try await eventually(timeout: .seconds(60)) {
            receiverView(receiver).map(\.id) == expected.map(\.id)
        })
        // The held batch went out again after the restart, under the same event ids.
        let later = receiver.received(path: Self.path).dropFirst().flatMap { request in
            ((try? batch(request.body)) ?? []).map { $0["event_id"] as? String ?? "" }
        }
        #expect(Set(heldBatch).isSubset(of: Set(later)))
    }

    /// The incident-server config of the kill test: the guide's Governance block pointed at the receiver.
    static func writeServerConfig(receiver: String) throws -> String {
        let pki = ServicePKI.shared
        let yaml = """
            server:
              listen: ["127.0.0.1:0"]
              public_url: https://incidents.test
              tls:
                cert_chain: \(pki.path("server.pem"))
                private_key: \(pki.path("server.key"))
                client_ca: \(pki.path("ca.pem"))
            # Every sample event is one user's: correlation would fold them into one incident and one audit entry.
            correlation: {enabled: false}
            integrations:
              llm-governance-core:
                enabled: true
                audit:
                  endpoint: \(receiver)\(path)
                  authentication:
                    type: api_key
                    api_key: ${TEST_GOVERNANCE_KEY}
                  push_events: [incident_created, incident_resolved, incident_closed, sla_breached, escalated]
                  batching:
                    enabled: true
                    max_batch_size: 4
                    max_wait_ms: 100
                  timeout: 20s
            notifications:
              pagerduty:
                endpoint: \(receiver)/pagerduty
                integration_key: ${TEST_PD_KEY}
              slack:
                webhook_url: \(receiver)/slack
            jobs:
              workers: 2
              poll_interval: 50ms
              lease: 2s
              retry_base: 100ms
              retry_max: 500ms
            """
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("governance-test-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
}

/// One audit event as the receiver holds it.
struct ReceivedAuditEvent: Equatable {
    var id: String
    var type: String
    var incident: String
}

/// The events of a request body: the array of a batch, or the guide's single object.
func batch(_ body: [UInt8]) throws -> [[String: Any]] {
    let value = try JSONSerialization.jsonObject(with: Data(body))
    if let array = value as? [[String: Any]] { return array }
    if let object = value as? [String: Any] { return [object] }
    return []
}

/// What a receiver that honours event_id has taken, in the order it first took each event: only requests it
/// answered 2xx count (a failed request's events were not taken), and a repeated event_id is ignored.
func receiverView(_ receiver: LoopbackHTTPReceiver) -> [ReceivedAuditEvent] {
    var seen = Set<String>()
    var view: [ReceivedAuditEvent] = []
    for request in receiver.received(path: GovernanceAuditFeedTests.path) where (200..<300).contains(request.status) {
        for event in (try? batch(request.body)) ?? [] {
            let id = event["event_id"] as? String ?? ""
            guard seen.insert(id).inserted else { continue }
            view.append(ReceivedAuditEvent(id: id, type: event["event_type"] as? String ?? "",
                                           incident: event["incident_id"] as? String ?? ""))
        }
    }
    return view
}

/// The audit log's entries Governance should have, computed from the table itself (not through the feed).
func pushedAuditEntries(_ settings: ConnectionSettings) async throws -> [(seq: Int64, id: String, type: String)] {
    let worker = ConnectionWorker(settings: settings, name: "test-audit", capacity: 2)
    defer { worker.stop() }
    let result = try await worker.run { connection in
        try connection.query("""
            SELECT seq, encode(hash, 'hex') AS hash,
                   CASE WHEN action = 'created' THEN 'incident_created'
                        WHEN new_value ->> 'status' = 'RESOLVED' THEN 'incident_resolved'
                        WHEN new_value ->> 'status' = 'CLOSED' THEN 'incident_closed'
                        WHEN new_value ? 'sla_breach' THEN 'sla_breached'
                        WHEN new_value ? 'escalation_step' THEN 'escalated' END AS type
            FROM audit_log ORDER BY seq
            """)
    }
    return try result.allRows.compactMap { row in
        guard let type = try row.decodeIfPresent("type", as: String.self) else { return nil }
        let seq = try row.decode("seq", as: Int64.self)
        return (seq, "audit-\(seq)-\(try row.decode("hash", as: String.self).prefix(12))", type)
    }
}

/// Moves an incident through statuses as a person would, one audited update each.
func setStatus(_ store: IncidentStore, _ id: String, _ statuses: [IncidentStatus]) async throws {
    for status in statuses {
        // Jobs write outcomes onto the incident meanwhile: read again on a version conflict, as a client would.
        for attempt in 1...20 {
            let incident = try await store.incident(IncidentID(id)!)
            do {
                _ = try await store.updateIncident(IncidentUpdate(
                    incidentID: incident.id, expectedVersion: incident.version, actor: "user-john.doe", status: status))
                break
            } catch StoreError.versionConflict where attempt < 20 {
                continue
            }
        }
    }
}

@Suite("Governance audit push in mock mode", .enabled(if: TestDatabase.shouldRun))
struct GovernanceMockModeTests {
    @Test("GOVERNANCE_MODE=mock over INTEGRATIONS_MODE=live: batches are recorded, nothing reaches the receiver")
    func mockSendsNothing() async throws {
        var environment = PipelineHarness.environment
        environment["GOVERNANCE_MODE"] = "mock"
        let harness = try await PipelineHarness.start(configure: { config in
            var governance = GovernanceConfig()
            let receiver = config.notifications.pagerDuty.endpoint.replacingOccurrences(of: "/pagerduty", with: "")
            governance.auditEndpoint = receiver + "/governance"
            governance.maxWaitSeconds = 0
            config.governance = governance
        }, environment: environment)
        let id = try await harness.create(severity: "low", eventID: "gov-mock-1").incidentId
        #expect(harness.pipeline.modes["governance"] == .mock && harness.pipeline.modes["pagerduty"] == .live)
        #expect(try await eventually {
            harness.pipeline.recordedRequests("governance").contains { request in
                ((try? batch(request.body)) ?? []).contains { $0["incident_id"] as? String == id }
            }
        })
        #expect(harness.receiver.received(path: GovernanceAuditFeedTests.path).isEmpty)
        // Mock mode keeps its own cursor: switching to live later still sends everything from the start.
        #expect(try await harness.store.feedCursor("governance") == 0)
        #expect(try await harness.store.feedCursor("governance:mock") > 0)
        await harness.stop()
    }
}
