// The change feed never skips a change, even when a transaction holding an earlier position commits late.
import Foundation
import IncidentCore
import Testing
@testable import IncidentStore

@Suite("Change feed", .enabled(if: TestDatabase.shouldRun))
struct ChangeFeedTests {
    @Test("a writer behind an uncommitted earlier position waits; readers see neither, then both in order")
    func lateCommitIsNotSkipped() async throws {
        let (store, settings) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let first = try await store.createIncident(Sample.request())
        let second = try await store.createIncident(Sample.request())
        let base = try await store.latestPosition()

        // A transaction takes a position and does not commit yet.
        let slow = SQLClient(settings)
        let observer = SQLClient(settings)
        defer { slow.close(); observer.close() }
        try await slow.execute("BEGIN")
        let slowPosition = try await slow.scalar("""
            SELECT change_position
            FROM im_update_incident($1, 1, 'slow', 'ACKNOWLEDGED', NULL, NULL, NULL, NULL, NULL, NULL)
            """, [first.incidentID.description], as: Int64.self)

        // A second writer starts meanwhile and must queue behind it.
        let fast = Task {
            try await store.updateIncident(IncidentUpdate(
                incidentID: second.incidentID, expectedVersion: 1, actor: "fast", status: .acknowledged))
        }
        let waiting = try await eventually {
            try await observer.scalar("""
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock'
                """, as: Int.self) == 1
        }
        #expect(waiting)
        #expect(try await store.changes(after: base).isEmpty)

        try await slow.execute("COMMIT")
        let fastResult = try await fast.value
        #expect(fastResult.position > slowPosition)
        let seen = try await store.changes(after: base)
        #expect(seen.map(\.position) == [slowPosition, fastResult.position])
        #expect(seen.map(\.incident.id) == [first.incidentID, second.incidentID])
    }

    @Test("a reader following concurrent writers sees every committed change exactly once, in order")
    func completenessUnderConcurrentWriters() async throws {
        let (store, settings) = try await TestDatabase.freshStore()
        let other = try await IncidentStore.open(StoreConfiguration(connection: settings, poolSize: 2, writers: 2))
        defer { store.shutdown(); other.shutdown() }

        let reader = Task { () throws -> [Int64] in
            var cursor: Int64 = 0
            var positions: [Int64] = []
            while true {
                // Cancelled once every writer was acked: an empty read that started after that means nothing is
                // left (one that started before may have missed the last commit).
                let cancelledBefore = Task.isCancelled
                let page = try await store.changes(after: cursor, limit: 37)
                if page.isEmpty {
                    if cancelledBefore { break }
                    if Task.isCancelled { continue }
                    _ = try? await store.waitForChanges(after: cursor, timeout: .milliseconds(500))
                    continue
                }
                positions += page.map(\.position)
                cursor = page.last!.position
            }
            return positions
        }
        let acked = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for writer in 0..<6 {
                let target = writer.isMultiple(of: 2) ? store : other
                group.addTask {
                    var positions: [Int64] = []
                    for _ in 0..<30 {
                        let created = try await target.createIncident(Sample.request())
                        positions.append(created.position)
                        let updated = try await target.updateIncident(IncidentUpdate(
                            incidentID: created.incidentID, expectedVersion: 1, actor: "w\(writer)",
                            status: .inProgress))
                        positions.append(updated.position)
                    }
                    return positions
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        reader.cancel()
        let read = try await reader.value
        #expect(read == read.sorted())
        #expect(Set(read).count == read.count)
        #expect(Set(read) == Set(acked))
        let sql = SQLClient(settings)
        defer { sql.close() }
        let all = try await sql.execute("SELECT position FROM change_log ORDER BY position").allRows
            .map { try $0.decode("position", as: Int64.self) }
        #expect(read == all)
    }

    @Test("waitForChanges wakes for a commit and times out when nothing commits")
    func waitForChanges() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let position = try await store.latestPosition()
        #expect(try await store.waitForChanges(after: position, timeout: .milliseconds(300)) == false)
        let waiter = Task { try await store.waitForChanges(after: position, timeout: .seconds(60)) }
        _ = try await store.createIncident(Sample.request())
        #expect(try await waiter.value)
    }
}
