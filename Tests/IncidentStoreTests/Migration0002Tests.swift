// Schema version 2 on a database first migrated to version 1 (as a deployed one is), severity updates with
// their audit entry, multi-value and date-bounded listing, and the opening event id on reads.
import Foundation
import IncidentCore
import Testing
@testable import IncidentStore

@Suite("Schema v2: severity updates, list filters, event ids", .enabled(if: TestDatabase.shouldRun))
struct Migration0002Tests {
    @Test("a database at version 1 with incidents upgrades, keeps them, and takes severity updates")
    func upgradesFromVersion1() async throws {
        let settings = try await TestDatabase.fresh()
        let sql = SQLClient(settings)
        defer { sql.close() }
        let worker = ConnectionWorker(settings: settings, name: "migrate-v1", capacity: 1)
        #expect(try await worker.run { try Migrator.migrate($0, migrations: [.v1]) } == 1)
        worker.stop()
        // An incident written by the version-1 functions, as a deployed database holds.
        try await sql.execute("""
            SELECT * FROM im_create_incident('llm-shield', 'old-event', '\\x00'::bytea, 'llm-shield', 'high',
                1::smallint, 'old', '', '', '', 'security', '{"type": "", "id": "", "name": "", "metadata": {}}',
                '{}', '{}', NULL, NULL, 'team', 'policy', '[]', '[]', '[]')
            """)
        let store = try await IncidentStore.open(StoreConfiguration(connection: settings, poolSize: 2))
        defer { store.shutdown() }
        #expect(try await sql.scalar("SELECT max(version) FROM schema_versions", as: Int.self)
                    == IncidentStore.schemaVersion)

        let page = try await store.listIncidents(IncidentQuery())
        let old = try #require(page.incidents.first)
        #expect(old.eventID == "old-event")
        let updated = try await store.updateIncident(IncidentUpdate(
            incidentID: old.id, expectedVersion: old.version, actor: "secops", severity: .critical, priority: .p0))
        let incident = try await store.incident(old.id)
        #expect(incident.severity == .critical)
        #expect(incident.priority == .p0)
        #expect(incident.version == updated.version)
        let audit = try await sql.execute("""
            SELECT old_value->>'severity' AS old_severity, new_value->>'severity' AS new_severity,
                   old_value->>'priority' AS old_priority, new_value->>'priority' AS new_priority
            FROM audit_log WHERE incident_id = $1 AND action = 'updated'
            """, [old.id.description])
        let row = try #require(audit.first)
        #expect(try row.decode("old_severity", as: String.self) == "high")
        #expect(try row.decode("new_severity", as: String.self) == "critical")
        #expect(try row.decode("old_priority", as: String.self) == "1")
        #expect(try row.decode("new_priority", as: String.self) == "0")
        #expect(try await store.verifyAuditChain().isIntact)
    }

    @Test("several statuses, severities and categories match any; date bounds are [after, before)")
    func multiValueFilters() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        var ids: [IncidentID] = []
        for (index, severity) in [Severity.critical, .high, .low, .info, .high].enumerated() {
            var draft = Sample.draft(severity: severity)
            draft.category = index.isMultiple(of: 2) ? "security" : "privacy"
            ids.append(try await store.createIncident(Sample.request(draft)).incidentID)
        }
        _ = try await store.updateIncident(IncidentUpdate(incidentID: ids[1], expectedVersion: 1, actor: "t",
                                                          status: .acknowledged))
        var query = IncidentQuery()
        query.severities = [.high, .info]
        #expect(try await store.listIncidents(query).incidents.map(\.id) == [ids[4], ids[3], ids[1]])
        query.statuses = [.new, .resolved]
        #expect(try await store.listIncidents(query).incidents.map(\.id) == [ids[4], ids[3]])
        query = IncidentQuery()
        query.categories = ["privacy"]
        #expect(try await store.listIncidents(query).incidents.map(\.id) == [ids[3], ids[1]])

        let all = try await store.listIncidents(IncidentQuery()).incidents
        let second = try #require(all.first { $0.id == ids[1] })
        let fourth = try #require(all.first { $0.id == ids[3] })
        query = IncidentQuery()
        query.createdAfter = second.createdAt
        query.createdBefore = fourth.createdAt
        // Dates round-trip through epoch microseconds, so the bounds land exactly on the stored times.
        #expect(try await store.listIncidents(query).incidents.map(\.id) == [ids[2], ids[1]])
        #expect(all.allSatisfy { !$0.eventID.isEmpty })
    }
}
