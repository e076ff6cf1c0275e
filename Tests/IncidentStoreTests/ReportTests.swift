// The reporting reads behind GraphQL: numbered pages with their total, and the metrics aggregate, checked against
// what the same database says through plain SQL.
import Foundation
import IncidentCore
import Testing
@testable import IncidentStore

@Suite("Reports", .enabled(if: TestDatabase.shouldRun))
struct ReportTests {
    /// Seven incidents (critical/high/low × categories), the first three acknowledged, the first two resolved.
    private func seed(_ store: IncidentStore) async throws -> [IncidentID] {
        var ids: [IncidentID] = []
        let shapes: [(Severity, String)] = [(.critical, "security"), (.high, "security"), (.high, "compliance"),
                                            (.low, "security"), (.critical, "compliance"), (.low, "performance"),
                                            (.high, "performance")]
        for (severity, category) in shapes {
            var draft = Sample.draft(severity: severity)
            draft.category = category
            ids.append(try await store.createIncident(Sample.request(draft)).incidentID)
        }
        for id in ids.prefix(3) {
            _ = try await store.updateIncident(IncidentUpdate(incidentID: id, expectedVersion: 1, actor: "t",
                                                              status: .acknowledged))
        }
        for id in ids.prefix(2) {
            _ = try await store.updateIncident(IncidentUpdate(incidentID: id, expectedVersion: 2, actor: "t",
                                                              status: .resolved))
        }
        return ids
    }

    @Test("pages are numbered newest first, carry the total, and a page past the end still counts")
    func pages() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let ids = try await seed(store)
        let everything = IncidentReportFilter()
        var seen: [IncidentID] = []
        for offset in stride(from: 0, to: 9, by: 3) {
            let page = try await store.reportIncidents(everything, offset: offset, limit: 3)
            #expect(page.totalCount == 7)
            seen += page.rows.map(\.id)
        }
        #expect(seen == ids.reversed())
        let past = try await store.reportIncidents(everything, offset: 50, limit: 3)
        #expect(past.rows.isEmpty && past.totalCount == 7)

        let urgentSecurity = try await store.reportIncidents(
            IncidentReportFilter(levels: [.p0, .p1], categories: ["security", "compliance"]), offset: 0, limit: 100)
        #expect(Set(urgentSecurity.rows.map(\.id)) == Set([ids[0], ids[1], ids[2], ids[4]]))
        let first = try #require(urgentSecurity.rows.first { $0.id == ids[0] })
        #expect(first.status == .resolved && first.acknowledgedAt != nil && first.resolvedAt != nil)
        #expect(first.level == .p0 && first.category == "security")
        #expect(!first.acknowledgmentBreached && !first.resolutionBreached)

        let future = try await store.reportIncidents(
            IncidentReportFilter(createdFrom: Date().addingTimeInterval(3600)), offset: 0, limit: 10)
        #expect(future.rows.isEmpty && future.totalCount == 0)
    }

    @Test("metrics equal what SQL over the same rows says, and an empty range has counts of zero and no means")
    func metrics() async throws {
        let (store, settings) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        _ = try await seed(store)
        let summary = try await store.incidentMetrics(IncidentReportFilter())
        #expect(summary.totalIncidents == 7)
        #expect(summary.byLevel.map(\.level) == [.p0, .p1, .p3])
        #expect(summary.byLevel.map(\.count) == [2, 3, 2])
        #expect(summary.byCategory.map(\.category) == ["compliance", "performance", "security"])
        #expect(summary.byCategory.map(\.count) == [2, 2, 3])
        #expect(summary.slaCompliance == 1)

        let sql = SQLClient(settings)
        defer { sql.close() }
        let mtta: Double = try await sql.scalar(
            "SELECT avg(extract(epoch FROM acknowledged_at - created_at))::float8 FROM incidents")
        let mttr: Double = try await sql.scalar(
            "SELECT avg(extract(epoch FROM resolved_at - created_at))::float8 FROM incidents")
        #expect(abs((summary.meanSecondsToAcknowledge ?? -1) - mtta) < 1e-6)
        #expect(abs((summary.meanSecondsToResolve ?? -1) - mttr) < 1e-6)

        // A recorded breach counts against compliance.
        _ = try await sql.execute("""
            UPDATE incidents SET sla_breaches = '[{"clock":"acknowledge","dueAt":0,"recordedAt":0}]'
            WHERE id = (SELECT id FROM incidents ORDER BY created_at LIMIT 1)
            """)
        let breached = try await store.incidentMetrics(IncidentReportFilter())
        #expect(breached.slaCompliance == 6.0 / 7.0)
        let flagged = try await store.reportIncidents(IncidentReportFilter(), offset: 6, limit: 1)
        #expect(flagged.rows.first?.acknowledgmentBreached == true && flagged.rows.first?.resolutionBreached == false)

        let empty = try await store.incidentMetrics(IncidentReportFilter(createdTo: Date(timeIntervalSince1970: 0)))
        #expect(empty.totalIncidents == 0 && empty.byLevel.isEmpty && empty.byCategory.isEmpty)
        #expect(empty.meanSecondsToResolve == nil && empty.meanSecondsToAcknowledge == nil && empty.slaCompliance == nil)
    }
}
