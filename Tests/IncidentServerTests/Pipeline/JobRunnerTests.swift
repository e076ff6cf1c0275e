// The job runner: jobs another replica enqueued are found by the short poll (here: PagerDuty acknowledge and
// resolve, whose enqueueing is the UpdateIncident side's), an unknown kind is dead-lettered at once, and a handler
// failing in a retryable way is retried until it succeeds.
import Foundation
import IncidentAPI
import IncidentCore
@testable import IncidentServer
import IncidentStore
import RPC
import Testing

@Suite("Job runner", .enabled(if: TestDatabase.shouldRun), .serialized)
struct JobRunnerTests {
    @Test("acknowledge and resolve enqueued by another replica reach PagerDuty with the incident's dedup key")
    func acknowledgeAndResolveFromAnotherReplica() async throws {
        let harness = try await PipelineHarness.start()
        let id = try await harness.create(severity: "high").incidentId
        #expect(try await eventually { try await harness.incident(id).timeline.contains { $0.kind == "paged" } })
        // Another replica's store on the same database: its commits do not wake this process's workers.
        let replica = try await IncidentStore.open(StoreConfiguration(connection: harness.database, poolSize: 1,
                                                                      listensForChanges: false))
        defer { replica.shutdown() }
        try await replica.jobs.enqueue([
            JobRequest(kind: JobKind.pageAcknowledge.rawValue, key: "page.acknowledge", priority: .p1,
                       payload: ["actor": "secops"]),
            JobRequest(kind: JobKind.pageResolve.rawValue, key: "page.resolve", priority: .p1,
                       delay: .milliseconds(300), payload: ["actor": "secops"]),
        ], incidentID: IncidentID(id)!)
        #expect(try await eventually {
            let kinds = try await harness.incident(id).timeline.map(\.kind)
            return kinds.contains("page_acknowledged") && kinds.contains("page_resolved")
        })
        let events = harness.receiver.received(path: "/pagerduty").map { json($0.body) }
        #expect(events.map { $0["event_action"] as? String ?? "" } == ["trigger", "acknowledge", "resolve"])
        #expect(Set(events.map { $0["dedup_key"] as? String ?? "" }) == [id])
        await harness.stop()
    }

    @Test("a job of an unknown kind is dead-lettered on its first attempt")
    func unknownKindIsDeadLettered() async throws {
        let harness = try await PipelineHarness.start()
        let id = try await harness.create(severity: "info").incidentId
        try await harness.store.jobs.enqueue([JobRequest(kind: "no.such.kind", key: "mystery", priority: .p4)],
                                             incidentID: IncidentID(id)!)
        #expect(try await eventually { try await harness.store.jobs.counts(incidentID: IncidentID(id)!).dead == 1 })
        await harness.stop()
    }

    @Test("Slack failing with 503 is retried until it takes the message; the timeline says so once")
    func retriedUntilDelivered() async throws {
        let harness = try await PipelineHarness.start()
        harness.receiver.script([.init(status: 503), .init(status: 503)], path: "/slack")
        let id = try await harness.create(severity: "info").incidentId
        #expect(try await eventually { try await harness.incident(id).timeline.contains { $0.kind == "notified" } })
        #expect(harness.receiver.received(path: "/slack").count == 3)
        #expect(try await harness.incident(id).timeline.filter { $0.kind == "notified" }.count == 1)
        await harness.stop()
    }

    @Test("mock mode with no secrets records the page and the post it would send and writes nothing back")
    func mockModeRecordsOnly() async throws {
        let harness = try await PipelineHarness.start(configure: { config in
            config.notifications = NotificationsConfig()
            config.remediation.enabled = false
        }, environment: [:])
        let created = try await harness.create(severity: "critical", user: "user-mock")
        #expect(try await eventually {
            !harness.pipeline.recordedRequests("pagerduty").isEmpty && !harness.pipeline.recordedRequests("slack").isEmpty
        })
        let page = harness.pipeline.recordedRequests("pagerduty")[0]
        #expect(json(page.body)["dedup_key"] as? String == created.incidentId)
        #expect(page.url == "https://events.pagerduty.com/v2/enqueue")
        // Nothing left the machine, nothing failed, and the incident was not changed behind its editors' backs.
        #expect(harness.receiver.received.isEmpty)
        #expect(try await eventually {
            try await harness.store.jobs.counts(incidentID: IncidentID(created.incidentId)!).done == 3
        })
        #expect(try await harness.store.jobs.counts(incidentID: IncidentID(created.incidentId)!).dead == 0)
        #expect(try await harness.incident(created.incidentId).version == 1)
        await harness.stop()
    }
}
