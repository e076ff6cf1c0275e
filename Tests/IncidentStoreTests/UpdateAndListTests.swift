// Conditional updates, audit entries, and keyset listing.
import Foundation
import IncidentCore
import Testing
@testable import IncidentStore

@Suite("Updates and listing", .enabled(if: TestDatabase.shouldRun))
struct UpdateAndListTests {
    @Test("an update with the current version applies; a stale version is a typed conflict")
    func optimisticConcurrency() async throws {
        let (store, settings) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let created = try await store.createIncident(Sample.request())
        let entry = TimelineEntry(at: Date(timeIntervalSince1970: 1_700_000_000), actor: "alice", kind: "note",
                                  message: "looking")
        let updated = try await store.updateIncident(IncidentUpdate(
            incidentID: created.incidentID, expectedVersion: 1, actor: "spiffe://alice", status: .acknowledged,
            assignedTeam: "blue", timelineEntries: [entry]))
        #expect(updated.version == 2)
        #expect(updated.position > created.position)

        await #expect(throws: StoreError.versionConflict(incidentID: created.incidentID.description, expected: 1,
                                                         actual: 2)) {
            _ = try await store.updateIncident(IncidentUpdate(
                incidentID: created.incidentID, expectedVersion: 1, actor: "spiffe://bob", status: .resolved))
        }
        let incident = try await store.incident(created.incidentID)
        #expect(incident.status == .acknowledged)
        #expect(incident.assignedTeam == "blue")
        #expect(incident.acknowledgedAt != nil)
        #expect(incident.resolvedAt == nil)
        var stamped = entry
        stamped.position = updated.position
        #expect(incident.timeline == [stamped], "the entry carries the position of the change that wrote it")
        #expect(incident.version == 2)

        let sql = SQLClient(settings)
        defer { sql.close() }
        let audit = try await sql.execute("""
            SELECT actor, old_value->>'status' AS old_status, new_value->>'status' AS new_status
            FROM audit_log WHERE incident_id = $1 AND action = 'updated'
            """, [created.incidentID.description])
        #expect(audit.rows.count == 1)
        #expect(try audit.first?.decode("actor", as: String.self) == "spiffe://alice")
        #expect(try audit.first?.decode("old_status", as: String.self) == "NEW")
        #expect(try audit.first?.decode("new_status", as: String.self) == "ACKNOWLEDGED")
    }

    @Test("updating or reading an unknown incident is notFound")
    func notFound() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let missing = IncidentID("INC-20200101-00001")!
        await #expect(throws: StoreError.notFound(incidentID: missing.description)) {
            _ = try await store.updateIncident(IncidentUpdate(incidentID: missing, expectedVersion: 1, actor: "a"))
        }
        await #expect(throws: StoreError.notFound(incidentID: missing.description)) {
            _ = try await store.incident(missing)
        }
    }

    @Test("listing pages newest first through a cursor and applies filters")
    func listing() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        var created: [IncidentID] = []
        for index in 0..<25 {
            // Sequential creates: each commits after the previous, so creation order is known.
            let severity: Severity = index.isMultiple(of: 5) ? .critical : .low
            created.append(try await store.createIncident(Sample.request(Sample.draft(severity: severity))).incidentID)
        }
        var seen: [IncidentID] = []
        var cursor: String?
        repeat {
            let page = try await store.listIncidents(IncidentQuery(cursor: cursor, limit: 7))
            seen += page.incidents.map(\.id)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen == created.reversed())

        let critical = try await store.listIncidents(IncidentQuery(severity: .critical, limit: 100))
        #expect(critical.incidents.map(\.id) == created.enumerated().filter { $0.offset.isMultiple(of: 5) }
            .map(\.element).reversed())
        #expect(critical.nextCursor == nil)
        let urgent = try await store.listIncidents(IncidentQuery(maxPriority: .p1, limit: 100))
        #expect(urgent.incidents.count == 5)

        await #expect(throws: StoreError.self) {
            _ = try await store.listIncidents(IncidentQuery(cursor: "garbage"))
        }
    }
}
