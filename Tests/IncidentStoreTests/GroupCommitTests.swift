// Group commit: callers acked only after commit, dedupe under races, a bad create fails alone.
import Foundation
import IncidentCore
import Testing
@testable import IncidentStore

@Suite("Group commit", .enabled(if: TestDatabase.shouldRun))
struct GroupCommitTests {
    @Test("every concurrent caller is acked with a unique id, and every acked incident is in the database")
    func concurrentCreates() async throws {
        let (store, settings) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let results = try await withThrowingTaskGroup(of: CreateIncidentResult.self) { group in
            for index in 0..<300 {
                let severity = Severity.allCases[index % Severity.allCases.count]
                group.addTask { try await store.createIncident(Sample.request(Sample.draft(severity: severity))) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 300)
        #expect(Set(results.map(\.incidentID)).count == 300)
        #expect(results.allSatisfy { !$0.duplicate && $0.version == 1 })
        #expect(Set(results.map(\.position)).count == 300)
        // Read back on an independent connection: acked means committed.
        let sql = SQLClient(settings)
        defer { sql.close() }
        let stored = try await sql.execute("SELECT id FROM incidents").allRows
            .map { try $0.decode("id", as: String.self) }
        #expect(Set(stored) == Set(results.map(\.incidentID.description)))
        // Group commit actually grouped: far fewer transactions than creates.
        let transactions = try await sql.scalar("SELECT count(DISTINCT xmin::text) FROM incidents", as: Int.self)
        #expect(transactions < 150)
        // Ids count up per UTC day with no gaps.
        for (_, ids) in Dictionary(grouping: results.map(\.incidentID), by: \.day) {
            #expect(ids.map(\.counter).sorted() == Array(1...ids.count))
        }
    }

    @Test("the same event sent concurrently through two stores yields one incident; every caller gets its id")
    func dedupeRaceAcrossConnections() async throws {
        let (first, settings) = try await TestDatabase.freshStore()
        let second = try await IncidentStore.open(StoreConfiguration(connection: settings, poolSize: 2, writers: 3))
        defer {
            first.shutdown()
            second.shutdown()
        }
        let events = (0..<5).map { _ in Sample.draft() }
        let results = try await withThrowingTaskGroup(of: (String, CreateIncidentResult).self) { group in
            for copy in 0..<40 {
                for event in events {
                    let store = copy.isMultiple(of: 2) ? first : second
                    group.addTask { (event.eventID, try await store.createIncident(Sample.request(event))) }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let byEvent = Dictionary(grouping: results, by: \.0)
        for (_, outcomes) in byEvent {
            #expect(Set(outcomes.map(\.1.incidentID)).count == 1)
            #expect(outcomes.filter { !$0.1.duplicate }.count == 1)
        }
        let sql = SQLClient(settings)
        defer { sql.close() }
        #expect(try await sql.scalar("SELECT count(*) FROM incidents", as: Int.self) == 5)
        #expect(try await sql.scalar("SELECT min(event_count) FROM incidents", as: Int.self) == 40)
        #expect(try await sql.scalar("SELECT count(*) FROM events", as: Int.self) == 5)
    }

    @Test("a replay is a duplicate of the same incident; the same event id with other content is a conflict")
    func replayAndConflict() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let draft = Sample.draft(content: "original")
        let created = try await store.createIncident(Sample.request(draft))
        let replay = try await store.createIncident(Sample.request(draft))
        #expect(!created.duplicate)
        #expect(replay.duplicate)
        #expect(replay.incidentID == created.incidentID)
        #expect(replay.version == 2)
        #expect(try await store.incident(created.incidentID).eventCount == 2)

        var different = draft
        different.contentHash = Array("something else".utf8)
        await #expect(throws: StoreError.duplicateConflict(existingIncidentID: created.incidentID.description)) {
            _ = try await store.createIncident(Sample.request(different))
        }
        #expect(try await store.incident(created.incidentID).eventCount == 2)
    }

    @Test("a create the database refuses fails alone; the rest of its batch commits")
    func badCreateFailsAlone() async throws {
        // One writer with big batches so the bad create shares a transaction with good ones.
        let (store, settings) = try await TestDatabase.freshStore(writers: 1, maxBatch: 1000)
        defer { store.shutdown() }
        // jsonb refuses \u0000 (SQLSTATE 22P05): the store must isolate it.
        let bad = Sample.draft(eventID: "bad-one", tags: ["note": "nul\u{0}byte"])
        let outcomes = await withTaskGroup(of: (String, Result<CreateIncidentResult, StoreError>).self) { group in
            for index in 0..<120 {
                let draft = index == 60 ? bad : Sample.draft()
                group.addTask {
                    do {
                        return (draft.eventID, .success(try await store.createIncident(Sample.request(draft))))
                    } catch let error as StoreError {
                        return (draft.eventID, .failure(error))
                    } catch {
                        return (draft.eventID, .failure(.internalFailure(reason: "\(error)")))
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let failures = outcomes.filter { if case .failure = $0.1 { true } else { false } }
        #expect(failures.count == 1)
        #expect(failures.first?.0 == "bad-one")
        if case .failure(let error) = failures.first?.1 {
            guard case .invalid = error else {
                Issue.record("expected invalid, got \(error)")
                return
            }
            #expect(!error.description.contains("nul"))
        }
        let sql = SQLClient(settings)
        defer { sql.close() }
        #expect(try await sql.scalar("SELECT count(*) FROM incidents", as: Int.self) == 119)
        #expect(try await sql.scalar("SELECT count(*) FROM events WHERE event_id = 'bad-one'", as: Int.self) == 0)
    }

    @Test("incidents read back with every field, whether written alone or in a set-based batch")
    func roundTrip() async throws {
        let (store, _) = try await TestDatabase.freshStore(writers: 1)
        defer { store.shutdown() }
        var drafts = (0..<40).map { index in
            Sample.draft(severity: .critical, title: "Title \"\(index)\" with \\ and {braces}, commas",
                         tags: ["quote": "a\"b", "backslash": "c\\d", "unicode": "é✓"])
        }
        drafts[3].encryptedPayload = nil
        drafts[4].requestHash = nil
        let results = try await withThrowingTaskGroup(of: (IncidentDraft, CreateIncidentResult).self) { group in
            for draft in drafts { group.addTask { (draft, try await store.createIncident(Sample.request(draft))) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for (draft, created) in results {
            let incident = try await store.incident(created.incidentID, includePayload: true)
            #expect(incident.status == .new)
            #expect(incident.severity == .critical)
            #expect(incident.priority == .p0)
            #expect(incident.title == draft.title)
            #expect(incident.description == draft.description)
            #expect(incident.resource == draft.resource)
            #expect(incident.metrics == draft.metrics)
            #expect(incident.tags == draft.tags)
            #expect(incident.encryptedPayload == draft.encryptedPayload)
            #expect(incident.requestHash == draft.requestHash)
            #expect(incident.eventCount == 1)
            #expect(incident.version == 1)
            #expect(incident.position == created.position)
            #expect(abs(incident.createdAt.timeIntervalSinceNow) < 600)
        }
        #expect(try await store.verifyAuditChain().isIntact)
    }
}
