// Connections that die mid-transaction and a server that stops and restarts under load.
import Foundation
import IncidentCore
import Testing
@testable import IncidentStore

@Suite("Connection failures", .enabled(if: TestDatabase.shouldRun))
struct ConnectionFailureTests {
    @Test("a connection killed mid-transaction fails its caller retryably, commits nothing, and is rebuilt")
    func killedMidTransaction() async throws {
        let settings = try await TestDatabase.fresh()
        let pool = ConnectionPool(settings: settings, size: 1)
        let killer = SQLClient(settings)
        defer { pool.shutdown(); killer.close() }
        _ = try await pool.withConnection { try $0.query("CREATE TABLE scratch (n integer)") }

        let victim = Task {
            try await pool.withTransaction { connection in
                try connection.query("INSERT INTO scratch VALUES (1)")
                try connection.query("SELECT pg_sleep(120)")
            }
        }
        #expect(try await eventually {
            try await killer.scalar("""
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND query LIKE '%pg_sleep(120)%'
                  AND pid <> pg_backend_pid()
                """, as: Int.self) == 1
        })
        try await killer.execute("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE datname = current_database() AND query LIKE '%pg_sleep(120)%' AND pid <> pg_backend_pid()
            """)
        do {
            _ = try await victim.value
            Issue.record("the killed transaction reported success")
        } catch let error as StoreError {
            #expect(error.isRetryable, "got \(error)")
        }
        #expect(try await killer.scalar("SELECT count(*) FROM scratch", as: Int.self) == 0)
        // The same pooled connection reconnects on next use.
        let value = try await pool.withConnection {
            try $0.query("SELECT 41 + 1 AS v").first!.decode("v", as: Int.self)
        }
        #expect(value == 42)
    }

    @Test("with the server stopped, writes fail retryably without hanging; after restart they succeed again")
    func serverRestartUnderWrites() async throws {
        let cluster = try ThrowawayCluster()
        defer { cluster.destroy() }
        let store = try await IncidentStore.open(StoreConfiguration(connection: cluster.settings, poolSize: 2))
        defer { store.shutdown() }

        // Writers keep going for the whole test, recording what was acked and what failed.
        let stop = Flag()
        let outcomes = Task {
            try await withThrowingTaskGroup(of: ([IncidentID], [StoreError]).self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var acked: [IncidentID] = []
                        var failures: [StoreError] = []
                        while !stop.isSet {
                            do {
                                acked.append(try await store.createIncident(Sample.request()).incidentID)
                            } catch let error as StoreError {
                                failures.append(error)
                                try await Task.sleep(for: .milliseconds(20))
                            }
                        }
                        return (acked, failures)
                    }
                }
                return try await group.reduce(into: ([IncidentID](), [StoreError]())) {
                    $0.0 += $1.0
                    $0.1 += $1.1
                }
            }
        }
        let progress = Progress(store: store)
        #expect(try await eventually { await progress.grew(by: 20) })
        try cluster.stop()
        // While it is down, a create fails with a retryable error well within its timeouts.
        do {
            _ = try await store.createIncident(Sample.request())
            Issue.record("a create succeeded with the server stopped")
        } catch let error as StoreError {
            #expect(error.isRetryable, "got \(error)")
        }
        try cluster.start()
        // The same store recovers by itself.
        let recovered = try await eventually(timeout: .seconds(60)) {
            (try? await store.createIncident(Sample.request())) != nil
        }
        #expect(recovered)
        #expect(try await eventually { await progress.grew(by: 20) })
        stop.set()
        let (acked, failures) = try await outcomes.value
        #expect(!failures.isEmpty)
        #expect(failures.allSatisfy { $0.isRetryable })
        // Nothing acked was lost.
        let sql = SQLClient(cluster.settings)
        defer { sql.close() }
        let stored = Set(try await sql.execute("SELECT id FROM incidents").allRows.map {
            try IncidentID($0.decode("id", as: String.self))!
        })
        #expect(Set(acked).isSubset(of: stored))
    }
}

/// A thread-safe stop flag for the writer loops.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

/// Watches the committed position grow.
actor Progress {
    let store: IncidentStore
    var baseline: Int64?

    init(store: IncidentStore) {
        self.store = store
    }

    /// True once the position is `count` past where it was on the first call (resets after true).
    func grew(by count: Int64) async -> Bool {
        guard let latest = try? await store.latestPosition() else { return false }
        guard let baseline else {
            self.baseline = latest
            return false
        }
        if latest >= baseline + count {
            self.baseline = nil
            return true
        }
        return false
    }
}
