// Correlation in the store: keyed events fold into the open incident holding their key, one open incident per key
// with concurrent writers in one batch and across two stores (replicas), windows, resolutions and raises.
import Foundation
import IncidentCore
import Testing
@testable import IncidentStore

@Suite("Correlation", .enabled(if: TestDatabase.shouldRun))
struct CorrelationTests {
    static func key(_ user: String, window: Double = 900) -> CorrelationKey {
        CorrelationKey(value: "source,event_type,tags.user_id:\(user)", windowSeconds: window)
    }

    static func request(user: String, severity: Severity = .high, window: Double = 900, jobs: [JobRequest] = [],
                        raiseJobs: [JobRequest] = [], eventID: String = UUID().uuidString) -> CreateIncidentRequest {
        var draft = Sample.draft(eventID: eventID, severity: severity, tags: ["user_id": user])
        draft.priority = severity.defaultPriority
        return CreateIncidentRequest(draft: draft, actor: "spiffe://llm-shield", jobs: jobs,
                                     correlation: key(user, window: window), raiseJobs: raiseJobs)
    }

    @Test("500 concurrent events of one key through two stores and many batches: one incident, every event on it")
    func oneIncidentPerKeyAcrossStores() async throws {
        let (first, settings) = try await TestDatabase.freshStore(writers: 3)
        let second = try await IncidentStore.open(StoreConfiguration(connection: settings, poolSize: 2, writers: 3))
        defer {
            first.shutdown()
            second.shutdown()
        }
        let page = JobRequest(kind: "page.trigger", key: "page.trigger", priority: .p1)
        let results = try await withThrowingTaskGroup(of: CreateIncidentResult.self) { group in
            for index in 0..<500 {
                let store = index.isMultiple(of: 2) ? first : second
                // Two users interleaved: two keys, two incidents.
                let user = index % 5 == 0 ? "bob" : "alice"
                group.addTask { try await store.createIncident(Self.request(user: user, jobs: [page])) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 500)
        #expect(results.filter { !$0.correlated && !$0.duplicate }.count == 2)
        #expect(results.filter(\.correlated).count == 498)
        #expect(Set(results.map(\.incidentID)).count == 2)
        let sql = SQLClient(settings)
        defer { sql.close() }
        #expect(try await sql.scalar("SELECT count(*) FROM incidents", as: Int.self) == 2)
        let counts = try await sql.execute("SELECT event_count FROM incidents ORDER BY event_count").allRows
            .map { try $0.decode("event_count", as: Int.self) }
        #expect(counts == [100, 400])
        #expect(try await sql.scalar("SELECT count(*) FROM events", as: Int.self) == 500)
        #expect(try await sql.scalar("SELECT count(DISTINCT incident_id) FROM events", as: Int.self) == 2)
        // Folded events start nothing: one page per incident.
        #expect(try await sql.scalar("SELECT count(*) FROM jobs WHERE kind = 'page.trigger'", as: Int.self) == 2)
        // Batches really were shared by several events (the set-based path and the fold in one transaction).
        #expect(try await sql.scalar("SELECT count(DISTINCT xmin::text) FROM change_log", as: Int.self) < 500)
        // The timeline stays compact: 20 itemized entries, then one summary line per minute.
        let big = try #require(results.first { r in results.filter { $0.incidentID == r.incidentID }.count == 400 })
        let incident = try await first.incident(big.incidentID)
        #expect(incident.eventCount == 400)
        #expect(incident.timeline.filter { $0.kind == TimelineKind.correlated }.count == 20)
        let summaries = incident.timeline.filter { $0.kind == TimelineKind.correlatedSummary }
        #expect((1...2).contains(summaries.count))
        #expect(summaries.compactMap { Int($0.details["count"] ?? "") }.reduce(0, +) == 379)
        #expect(incident.correlationKey == Self.key("alice").value)
        #expect(try #require(incident.lastEventAt) >= (try #require(incident.firstEventAt)))
        // The audit chain stays intact with folds mixed into set-based batches.
        #expect(try await first.verifyAuditChain().isIntact)
        // Folds are changes for streams: one per incident and batch, its audit entry naming each folded event.
        let foldChanges = try await sql.scalar("SELECT count(*) FROM change_log WHERE kind = 'event_correlated'",
                                               as: Int.self)
        #expect((2..<498).contains(foldChanges), "folds in one batch share one change")
        #expect(try await sql.scalar("SELECT sum(jsonb_array_length(new_value -> 'correlated_event_ids'))::int "
                                     + "FROM audit_log WHERE action = 'event_correlated'", as: Int.self) == 498)
    }

    @Test("the database refuses a second open holder of a key even if a writer tried one")
    func uniqueIndexHolds() async throws {
        let (store, settings) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let created = try await store.createIncident(Self.request(user: "carol"))
        let sql = SQLClient(settings)
        defer { sql.close() }
        func copy(id: String, holdsSlot: Bool) async throws {
            _ = try await sql.execute("""
                INSERT INTO incidents (id, status, severity, priority, title, source, created_at, updated_at,
                                       position, correlation_key, correlation_slot)
                SELECT $2, 'NEW', severity, priority, title, source, now(), now(), 0, correlation_key, $3
                FROM incidents WHERE id = $1
                """, [created.incidentID.description, id, holdsSlot])
        }
        // The same open key without the slot is fine (an old incident of the key); a second holder is refused.
        try await copy(id: "INC-20990101-00001", holdsSlot: false)
        await #expect(throws: (any Error).self) { try await copy(id: "INC-20990101-00002", holdsSlot: true) }
        #expect(try await sql.scalar("SELECT count(*) FROM incidents", as: Int.self) == 2)
    }

    @Test("a replay of a folded event stays a duplicate of the incident it folded into")
    func replayOfFoldedEvent() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let opener = try await store.createIncident(Self.request(user: "dave"))
        let folded = Self.request(user: "dave")
        let fold = try await store.createIncident(folded)
        let replay = try await store.createIncident(folded)
        #expect(fold.correlated && fold.incidentID == opener.incidentID)
        #expect(replay.duplicate && !replay.correlated && replay.incidentID == opener.incidentID)
    }

    @Test("after the window a new incident opens and links the old one; the old one no longer absorbs")
    func windowExpiry() async throws {
        let (store, settings) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let first = try await store.createIncident(Self.request(user: "erin", window: 60))
        let within = try await store.createIncident(Self.request(user: "erin", window: 60))
        #expect(within.correlated && within.incidentID == first.incidentID)
        // Its last event two minutes ago: the 60 s window ran out (set in the database, not waited for).
        let sql = SQLClient(settings)
        defer { sql.close() }
        _ = try await sql.execute("UPDATE incidents SET last_event_at = now() - interval '2 minutes'")
        let after = try await store.createIncident(Self.request(user: "erin", window: 60))
        #expect(!after.correlated && after.incidentID != first.incidentID)
        #expect(try await store.incident(after.incidentID).relatedIncidents == [first.incidentID.description])
        let next = try await store.createIncident(Self.request(user: "erin", window: 60))
        #expect(next.correlated && next.incidentID == after.incidentID)
        // The old incident is still open but holds no slot any more.
        #expect(try await store.incident(first.incidentID).status == .new)
        #expect(try await store.incident(first.incidentID).eventCount == 2)
    }

    @Test("a resolved incident never absorbs: the next event opens a new incident linking it")
    func resolvedNeverAbsorbs() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let first = try await store.createIncident(Self.request(user: "frank"))
        _ = try await store.updateIncident(IncidentUpdate(incidentID: first.incidentID, expectedVersion: 1,
                                                          actor: "oncall", status: .resolved))
        let next = try await store.createIncident(Self.request(user: "frank"))
        #expect(!next.correlated && next.incidentID != first.incidentID)
        let incident = try await store.incident(next.incidentID)
        #expect(incident.relatedIncidents == [first.incidentID.description])
        #expect(try await store.incident(first.incidentID).eventCount == 1)
    }

    @Test("a more severe folded event raises the incident and enqueues its raise jobs once")
    func raise() async throws {
        let (store, settings) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let raisePage = [JobRequest(kind: "page.trigger", key: "page.trigger:raised:P0", priority: .p0)]
        let opener = try await store.createIncident(Self.request(user: "gina", severity: .high))
        let lower = try await store.createIncident(Self.request(user: "gina", severity: .low, raiseJobs: raisePage))
        #expect(lower.correlated && !lower.raised)
        let critical = try await store.createIncident(Self.request(user: "gina", severity: .critical,
                                                                   raiseJobs: raisePage))
        #expect(critical.correlated && critical.raised && critical.incidentID == opener.incidentID)
        let again = try await store.createIncident(Self.request(user: "gina", severity: .critical,
                                                                raiseJobs: raisePage))
        #expect(again.correlated && !again.raised)
        let incident = try await store.incident(opener.incidentID)
        #expect(incident.priority == .p0 && incident.severity == .critical)
        #expect(incident.timeline.contains { $0.kind == TimelineKind.severityChanged })
        let sql = SQLClient(settings)
        defer { sql.close() }
        #expect(try await sql.scalar("SELECT count(*) FROM jobs WHERE kind = 'page.trigger'", as: Int.self) == 1)
    }

    @Test("an incident's events page in arrival order with their redacted copies")
    func eventsPage() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        var ids: [String] = []
        var incident: IncidentID?
        for index in 0..<7 {
            let id = "evt-\(index)"
            ids.append(id)
            incident = try await store.createIncident(Self.request(user: "hank", eventID: id)).incidentID
        }
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try await store.incidentEvents(of: try #require(incident), cursor: cursor, limit: 3)
            #expect(page.events.count <= 3)
            seen += page.events.map(\.eventID)
            #expect(page.events.allSatisfy { $0.tags == ["user_id": "hank"] && $0.title == "Prompt injection detected" })
            cursor = page.nextCursor
        } while cursor != nil
        #expect(seen == ids)
        await #expect(throws: StoreError.self) {
            _ = try await store.incidentEvents(of: IncidentID("INC-20990101-00009")!, cursor: nil, limit: 3)
        }
        await #expect(throws: StoreError.self) {
            _ = try await store.incidentEvents(of: try #require(incident), cursor: "bogus", limit: 3)
        }
    }
}
