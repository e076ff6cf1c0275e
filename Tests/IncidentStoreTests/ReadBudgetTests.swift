// What reads cost: the encrypted payload is read only for callers allowed to see it, List pages and change-feed
// batches stop at a byte budget and page on, and the timeline is folded before a row outgrows one gRPC message
// (schema v7). All on a real Postgres.
import Foundation
import IncidentCore
import Testing
@testable import IncidentStore

@Suite("Read budgets and the timeline cap", .enabled(if: TestDatabase.shouldRun))
struct ReadBudgetTests {
    static func bigDraft(_ bytes: Int) -> IncidentDraft {
        var draft = Sample.draft()
        draft.encryptedPayload = (0..<bytes).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        return draft
    }

    @Test("the payload is read only when asked for, by Get, List and the change feed")
    func payloadOnlyWhenAsked() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let created = try await store.createIncident(Sample.request())
        #expect(try await store.incident(created.incidentID).encryptedPayload == nil)
        #expect(try await store.incident(created.incidentID, includePayload: true).encryptedPayload == [1, 2, 3, 0, 255])
        var query = IncidentQuery()
        #expect(try await store.listIncidents(query).incidents.map(\.encryptedPayload) == [nil])
        query.includePayload = true
        #expect(try await store.listIncidents(query).incidents.map(\.encryptedPayload) == [[1, 2, 3, 0, 255]])
        #expect(try await store.changes(after: 0).map(\.incident.encryptedPayload) == [nil])
        #expect(try await store.changes(after: 0, includePayload: true).map(\.incident.encryptedPayload)
                == [[1, 2, 3, 0, 255]])
    }

    @Test("a List page stops at its byte budget and pages on; every incident is listed once")
    func listPagesByBytes() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        var created: [IncidentID] = []
        for _ in 0..<5 { created.append(try await store.createIncident(Sample.request(Self.bigDraft(300_000))).incidentID) }
        var query = IncidentQuery(limit: 50)
        query.includePayload = true
        query.byteBudget = 700_000
        var pages: [[IncidentID]] = []
        repeat {
            let page = try await store.listIncidents(query)
            #expect(page.incidents.allSatisfy { $0.encryptedPayload?.count == 300_000 })
            pages.append(page.incidents.map(\.id))
            query.cursor = page.nextCursor
        } while query.cursor != nil && pages.count < 10
        // Two fit under the budget and the third crosses it: 3 + 2.
        #expect(pages.map(\.count) == [3, 2])
        #expect(pages.flatMap { $0 } == created.reversed())
        // Without payloads the same budget holds them all.
        var light = IncidentQuery(limit: 50)
        light.byteBudget = 700_000
        let page = try await store.listIncidents(light)
        #expect(page.incidents.count == 5 && page.nextCursor == nil)
    }

    @Test("a change-feed batch stops at its byte budget and says so; reading on finds every change")
    func feedBatchesByBytes() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        for _ in 0..<5 { _ = try await store.createIncident(Sample.request(Self.bigDraft(300_000))) }
        var after: Int64 = 0
        var sizes: [Int] = []
        while true {
            let batch = try await store.changeBatch(after: after, limit: 100, includePayload: true, byteBudget: 700_000)
            guard let last = batch.changes.last else { break }
            sizes.append(batch.changes.count)
            #expect(batch.stoppedAtByteBudget == (batch.changes.count == 3))
            after = last.position
        }
        #expect(sizes == [3, 2])
        let light = try await store.changeBatch(after: 0, limit: 100, byteBudget: 700_000)
        #expect(light.changes.count == 5 && !light.stoppedAtByteBudget)
    }

    @Test("a database at version 6 upgrades to 7 keeping every payload byte; an old long timeline folds on its next update")
    func upgradesFromVersion6() async throws {
        let settings = try await TestDatabase.fresh()
        let sql = SQLClient(settings)
        defer { sql.close() }
        let worker = ConnectionWorker(settings: settings, name: "migrate-v6", capacity: 1)
        #expect(try await worker.run { try Migrator.migrate($0, migrations: [.v1, .v2, .v3, .v4, .v5, .v6]) } == 6)
        worker.stop()
        let payload = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 3) }
        let timeline = "[" + (0..<700).map { #"{"at": 1700000000, "actor": "a", "kind": "note", "message": "\#($0)"}"# }
            .joined(separator: ",") + "]"
        try await sql.execute("""
            SELECT * FROM im_create_incident('llm-shield', 'old-event', '\\x00'::bytea, 'llm-shield', 'high',
                1::smallint, 'old', '', '', '', 'security', '{"type": "", "id": "", "name": "", "metadata": {}}',
                '{}', '{}', $1::bytea, NULL, 'team', 'policy', $2::jsonb, '[]', '[]')
            """, [ByteaValue(payload), timeline])
        let store = try await IncidentStore.open(StoreConfiguration(connection: settings, poolSize: 2))
        defer { store.shutdown() }
        #expect(try await sql.scalar("SELECT max(version) FROM schema_versions", as: Int.self) == Migration.latestVersion)
        let old = try #require(try await store.listIncidents(IncidentQuery()).incidents.first)
        #expect(try await store.incident(old.id, includePayload: true).encryptedPayload == payload)
        #expect(old.timeline.count == 700)
        _ = try await store.updateIncident(IncidentUpdate(incidentID: old.id, expectedVersion: old.version, actor: "a",
                                                          status: .acknowledged))
        let updated = try await store.incident(old.id, includePayload: true)
        #expect(updated.timeline.count == 400 && updated.timeline[5].kind == "timeline_folded")
        #expect(updated.encryptedPayload == payload)
    }

    @Test("past 500 entries the timeline folds its middle into one entry; the head and the newest stay")
    func timelineFoldsByEntries() async throws {
        let (store, settings) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let created = try await store.createIncident(Sample.request())
        let first = TimelineEntry(at: Date(timeIntervalSince1970: 1_700_000_000), actor: "a", kind: "note", message: "0")
        let entries = (0..<600).map {
            TimelineEntry(at: Date(timeIntervalSince1970: 1_700_000_000 + Double($0)), actor: "a", kind: "note",
                          message: "\($0)")
        }
        _ = try await store.updateIncident(IncidentUpdate(incidentID: created.incidentID, expectedVersion: 1,
                                                          actor: "a", timelineEntries: entries))
        // Appended entries come back stamped with their change's position (schema v8); compare them without it.
        let folded = try await store.incident(created.incidentID).timeline.map(\.unstamped)
        #expect(folded.count == 400)
        #expect(folded.first == first)
        #expect(folded.last == entries.last)
        let fold = try #require(folded.first { $0.kind == "timeline_folded" })
        #expect(fold.message.hasPrefix("201 earlier entries folded"))
        #expect(folded[5] == fold && folded[6] == entries[206])

        // Under the cap again: the next append does not fold; a later fold counts the earlier one's entries.
        _ = try await store.updateIncident(IncidentUpdate(incidentID: created.incidentID, expectedVersion: 2,
                                                          actor: "a", timelineEntries: [first]))
        #expect(try await store.incident(created.incidentID).timeline.count == 401)
        _ = try await store.updateIncident(IncidentUpdate(incidentID: created.incidentID, expectedVersion: 3,
                                                          actor: "a", timelineEntries: Array(entries.prefix(100))))
        let again = try await store.incident(created.incidentID).timeline
        #expect(again.count == 400)
        #expect(again.filter { $0.kind == "timeline_folded" }.count == 1)
        #expect(again[5].message.hasPrefix("\(201 + 101) earlier entries folded"))

        // Nothing is lost: the audit log has every appended entry.
        let sql = SQLClient(settings)
        defer { sql.close() }
        let appended = try await sql.scalar("""
            SELECT sum(jsonb_array_length(new_value->'timeline_appended'))::bigint FROM audit_log
            WHERE incident_id = $1 AND action = 'updated'
            """, [created.incidentID.description], as: Int64.self)
        #expect(appended == 701)
    }

    @Test("past 512 KiB of timeline it folds by bytes: 4 KiB notes cannot grow a row past one message")
    func timelineFoldsByBytes() async throws {
        let (store, settings) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let created = try await store.createIncident(Sample.request())
        let note = String(repeating: "n", count: 4096)
        for version in Int64(1)...3 {
            _ = try await store.updateIncident(IncidentUpdate(
                incidentID: created.incidentID, expectedVersion: version, actor: "a",
                timelineEntries: (0..<100).map { _ in TimelineEntry(at: Date(), actor: "a", kind: "note", message: note) }))
        }
        let timeline = try await store.incident(created.incidentID).timeline
        #expect(timeline.contains { $0.kind == "timeline_folded" })
        let sql = SQLClient(settings)
        defer { sql.close() }
        let bytes = try await sql.scalar("SELECT octet_length(timeline::text) FROM incidents WHERE id = $1",
                                         [created.incidentID.description], as: Int.self)
        #expect(bytes <= 393_216)
        #expect(timeline.count < 100)
    }
}

private extension TimelineEntry {
    /// The entry as it was appended, before the database stamped its change's position on it.
    var unstamped: TimelineEntry {
        var entry = self
        entry.position = 0
        return entry
    }
}
