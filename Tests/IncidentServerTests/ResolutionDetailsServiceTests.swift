// Root cause and actions taken through the real server and Postgres: sent with UpdateIncident, shown by
// GetIncident, ListIncidents and StreamIncidents, and written to the hash-chained audit log.
import Foundation
import IncidentAPI
import IncidentCore
@testable import IncidentStore
import RPC
import Testing

@Suite("Resolution details", .enabled(if: TestDatabase.shouldRun))
struct ResolutionDetailsServiceTests {
    @Test("root_cause and actions_taken are stored, audited and shown on Get, List and Stream")
    func storedAuditedShown() async throws {
        let harness = try await ServiceHarness.start()
        let created = try await harness.client("llm-shield").createIncident(Sample.event(), options: .test)
        let secops = try harness.client("secops")
        for status in ["ACKNOWLEDGED", "IN_PROGRESS"] {
            _ = try await secops.updateIncident(.with(id: created.incidentId, status: status), options: .test)
        }
        var early = UpdateIncidentRequest.with(id: created.incidentId)
        early.rootCause = "too early"
        let refused = await status { _ = try await secops.updateIncident(early, options: .test) }
        #expect(refused?.code == .failedPrecondition)

        var resolve = UpdateIncidentRequest.with(id: created.incidentId, status: "RESOLVED")
        resolve.rootCause = "prompt injection through a shared document"
        resolve.actionsTaken = ["blocked the user", "purged the document"]
        let answered = try await secops.updateIncident(resolve, options: .test)
        #expect(answered.resolution?.rootCause == "prompt injection through a shared document")
        #expect(answered.resolution?.actionsTaken == ["blocked the user", "purged the document"])

        let read = try await secops.getIncident(.with(id: created.incidentId), options: .test)
        #expect(read.resolution == answered.resolution)
        let listed = try await secops.listIncidents(ListIncidentsRequest(), options: .test)
        #expect(listed.incidents.first { $0.id == created.incidentId }?.resolution == answered.resolution)
        #expect(read.timeline.contains { $0.kind == "resolution_recorded" })

        // The stream replays the change with the incident as it was then.
        var streamed: IncidentAPI.Incident?
        for try await incident in secops.streamIncidents(StreamIncidentsRequest(), options: .test) {
            if incident.id == created.incidentId && incident.version == answered.version { streamed = incident; break }
        }
        #expect(streamed?.resolution == answered.resolution)

        // Audited: the update's entry holds the resolution's new value, and the chain still verifies.
        let worker = ConnectionWorker(settings: harness.database, name: "test-audit", capacity: 1)
        defer { worker.stop() }
        let audited = try await worker.run { connection in
            try connection.query("""
                SELECT new_value -> 'resolution' ->> 'root_cause' AS cause FROM audit_log
                WHERE incident_id = $1 AND new_value ? 'resolution'
                """, [created.incidentId])
        }
        #expect(try audited.first?.decode("cause", as: String.self) == "prompt injection through a shared document")
        let chain = try await harness.store.verifyAuditChain()
        #expect(chain.firstBrokenSequence == nil && chain.headMatches)
        await harness.stop()
    }
}
