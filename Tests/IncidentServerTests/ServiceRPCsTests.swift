// Severity changes, list filters with paging, event ids and bearer-token identities through the real server,
// real mTLS and Postgres.
import Foundation
import IncidentAPI
import IncidentCore
import RPC
import Testing

@Suite("Severity changes, list filters, event ids", .enabled(if: TestDatabase.shouldRun), .serialized)
struct ServiceRPCsTests {
    @Test("a severity change re-maps the priority by the config and lands on the timeline and audit trail")
    func severityChange() async throws {
        var config = ServiceHarness.defaultConfig
        config.severityMapping[.medium] = .p1
        let harness = try await ServiceHarness.start(config: config)
        let created = try await harness.client("llm-shield").createIncident(Sample.event(severity: "high"),
                                                                            options: .test)
        #expect(created.priority == "P1")
        let secops = try harness.client("secops")
        var request = UpdateIncidentRequest.with(id: created.incidentId)
        request.severity = "CRITICAL"
        let critical = try await secops.updateIncident(request, options: .test)
        #expect(critical.severity == "P0")
        #expect(critical.eventSeverity == "critical")
        #expect(critical.priority == "P0")
        #expect(critical.version == created.version + 1)
        let change = try #require(critical.timeline.last { $0.kind == "severity_changed" })
        #expect(change.message == "high (P1) → critical (P0)")
        #expect(change.actor == "secops")

        request.severity = "medium"
        let medium = try await secops.updateIncident(request, options: .test)
        #expect(medium.priority == "P1", "medium maps to P1 in this config")
        #expect(medium.timeline.last?.message == "critical (P0) → medium (P1)")

        // The same severity again changes nothing.
        let same = try await secops.updateIncident(request, options: .test)
        #expect(same.version == medium.version)

        request.severity = "apocalyptic"
        let refused = await status { _ = try await secops.updateIncident(request, options: .test) }
        #expect(refused?.code == .invalidArgument)
        #expect(refused?.message.hasPrefix("severity:") == true)
        #expect(try await harness.store.verifyAuditChain().isIntact)
        await harness.stop()
    }

    @Test("several values per filter, categories and date bounds, paged newest first without gaps or repeats")
    func listFilters() async throws {
        let harness = try await ServiceHarness.start()
        let shield = try harness.client("llm-shield")
        var created: [CreateIncidentResponse] = []
        let shapes: [(String, String)] = [("critical", "security"), ("high", "privacy"), ("low", "security"),
                                          ("info", "privacy"), ("high", "security"), ("medium", "abuse"),
                                          ("high", "privacy")]
        for (severity, category) in shapes {
            var event = Sample.event(severity: severity)
            event.category = category
            created.append(try await shield.createIncident(event, options: .test))
            // Apart in time, so bounds 10 ms before an incident fall between it and the one before.
            try await Task.sleep(for: .milliseconds(25))
        }
        let ids = created.map(\.incidentId)
        let secops = try harness.client("secops")
        _ = try await secops.updateIncident(.with(id: ids[1], status: "ACKNOWLEDGED"), options: .test)
        let viewer = try harness.client("viewer")

        func pages(_ base: ListIncidentsRequest, size: UInt32 = 1) async throws -> [String] {
            var request = base
            request.pageSize = size
            var seen: [String] = []
            for _ in 0..<20 {
                let page = try await viewer.listIncidents(request, options: .test)
                #expect(page.incidents.count <= Int(size))
                seen += page.incidents.map(\.id)
                if page.nextPageToken.isEmpty { return seen }
                request.pageToken = page.nextPageToken
            }
            Issue.record("paging did not end")
            return seen
        }
        var request = ListIncidentsRequest()
        request.severities = ["HIGH", "info"]
        #expect(try await pages(request) == [ids[6], ids[4], ids[3], ids[1]])
        request.statuses = ["new"]
        request.categories = ["privacy", "abuse"]
        #expect(try await pages(request) == [ids[6], ids[3]])

        let all = try await viewer.listIncidents(ListIncidentsRequest(), options: .test).incidents
        let byID = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })
        func tenMillisecondsBefore(_ id: String) throws -> String {
            let format = ISO8601DateFormatter()
            format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let incident = try #require(byID[id])
            let created = try #require(format.date(from: incident.createdAt))
            return format.string(from: created.addingTimeInterval(-0.010))
        }
        var bounded = ListIncidentsRequest()
        bounded.createdAfter = try tenMillisecondsBefore(ids[2])
        bounded.createdBefore = try tenMillisecondsBefore(ids[5])
        #expect(try await pages(bounded, size: 2) == [ids[4], ids[3], ids[2]])
        bounded.severities = ["high", "low"]
        #expect(try await pages(bounded) == [ids[4], ids[2]])
        bounded.createdBefore = ""
        #expect(try await pages(bounded, size: 3) == [ids[6], ids[4], ids[2]])

        for (field, value) in [("created_after", "yesterday"), ("created_before", "2026-13-01T00:00:00Z")] {
            var bad = ListIncidentsRequest()
            if field == "created_after" { bad.createdAfter = value } else { bad.createdBefore = value }
            let refused = await status { _ = try await viewer.listIncidents(bad, options: .test) }
            #expect(refused?.code == .invalidArgument)
            #expect(refused?.message.hasPrefix(field + ":") == true, "\(refused?.message ?? "")")
        }
        var badStatus = ListIncidentsRequest()
        badStatus.statuses = ["NEW", "sleeping"]
        let refused = await status { _ = try await viewer.listIncidents(badStatus, options: .test) }
        #expect(refused?.message.hasPrefix("statuses:") == true)
        await harness.stop()
    }

    @Test("incidents carry the event_id and source of the event that opened them")
    func eventID() async throws {
        let harness = try await ServiceHarness.start()
        let event = Sample.event(id: "shield-event-id-check")
        let created = try await harness.client("llm-shield").createIncident(event, options: .test)
        let incident = try await harness.client("viewer").getIncident(.with(id: created.incidentId), options: .test)
        #expect(incident.eventId == "shield-event-id-check")
        #expect(incident.source == "llm-shield")
        let listed = try await harness.client("viewer").listIncidents(ListIncidentsRequest(), options: .test)
        #expect(listed.incidents.first?.eventId == "shield-event-id-check")
        await harness.stop()
    }
}
