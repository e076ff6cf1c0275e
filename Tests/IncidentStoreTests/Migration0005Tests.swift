// Schema version 5: the claim's expired-lease sweep reads only the running jobs through their index, whatever the
// size of the jobs table, and still dead-letters a job whose lease ran out on its last attempt.
import Foundation
import IncidentCore
import Testing
@testable import IncidentStore

@Suite("Schema v5: running jobs by lease end", .enabled(if: TestDatabase.shouldRun))
struct Migration0005Tests {
    @Test("the expired-lease sweep is an index scan on a large jobs table, not a read of every job")
    func sweepUsesTheRunningIndex() async throws {
        let (store, settings) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let sql = SQLClient(settings)
        defer { sql.close() }
        // A queue after a flood: many finished jobs and far-off timers, a few running.
        try await sql.execute("""
            INSERT INTO jobs (kind, priority, due_at, max_attempts, state, idempotency_key, lease_until)
            SELECT 'sla.check', 3, now() + interval '1 day', 5,
                   CASE WHEN n % 1000 = 0 THEN 'running' WHEN n % 2 = 0 THEN 'done' ELSE 'ready' END,
                   'bench-' || n, CASE WHEN n % 1000 = 0 THEN now() + interval '30 seconds' END
            FROM generate_series(1, 50000) AS n
            """)
        try await sql.execute("ANALYZE jobs")
        let plan = try await sql.execute("EXPLAIN (FORMAT TEXT) " + JobQueue.expiredLeaseSweepSQL)
        let text = try plan.allRows.map { try $0.decode(plan.columns[0], as: String.self) }.joined(separator: "\n")
        #expect(text.contains("jobs_running_lease"), "plan: \(text)")
        #expect(!text.contains("Seq Scan"), "plan: \(text)")
    }

    @Test("a job whose lease ran out on its last attempt is dead-lettered by the next claim, not run again")
    func expiredFinalAttemptIsDeadLettered() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let created = try await store.createIncident(Sample.request(jobs: [
            JobRequest(kind: "page", key: "p", priority: .p0, maxAttempts: 1),
        ]))
        _ = try #require(try await store.jobs.claim(worker: "crashed", lease: .milliseconds(200)).first)
        try await Task.sleep(for: .milliseconds(400))
        #expect(try await store.jobs.claim(worker: "survivor").isEmpty)
        #expect(try await store.jobs.counts(incidentID: created.incidentID).dead == 1)
    }
}

@Suite("Schema v6: ready jobs by priority and due time", .enabled(if: TestDatabase.shouldRun))
struct Migration0006Tests {
    @Test("a claim under many not-yet-due urgent timers reads the ready index per priority, not the timers")
    func claimSkipsTimersNotDue() async throws {
        let (store, settings) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let sql = SQLClient(settings)
        defer { sql.close() }
        // A flood's leftovers: 50,000 P0-P2 timers due tomorrow, and one P3 notification due now.
        try await sql.execute("""
            INSERT INTO jobs (kind, priority, due_at, max_attempts, idempotency_key)
            SELECT 'sla.check', n % 3, now() + interval '1 day', 5, 'timer-' || n FROM generate_series(1, 50000) AS n
            """)
        try await sql.execute("""
            INSERT INTO jobs (kind, priority, due_at, max_attempts, idempotency_key)
            VALUES ('notify.slack', 3, now() - interval '1 second', 5, 'due-now')
            """)
        try await sql.execute("ANALYZE jobs")
        let explain = "EXPLAIN (ANALYZE, FORMAT TEXT) " + JobQueue.claimSQL
            .replacingOccurrences(of: "$1", with: "'probe'").replacingOccurrences(of: "$2", with: "1")
            .replacingOccurrences(of: "$3", with: "30000").replacingOccurrences(of: "$4", with: "4")
        let plan = try await sql.execute(explain)
        let text = try plan.allRows.map { try $0.decode(plan.columns[0], as: String.self) }.joined(separator: "\n")
        #expect(text.contains("jobs_ready"), "plan: \(text)")
        #expect(!text.contains("Seq Scan"), "plan: \(text)")
        #expect(!text.contains("Rows Removed by Filter"), "plan: \(text)")
        // The EXPLAIN ANALYZE above leased it; the real claim gets it once that lease is given back.
        try await sql.execute("UPDATE jobs SET state = 'ready', lease_owner = NULL, lease_until = NULL WHERE idempotency_key = 'due-now'")
        let claimed = try await store.jobs.claim(worker: "w", limit: 1)
        #expect(claimed.map(\.idempotencyKey) == ["due-now"])
    }

    @Test("a job whose worker died goes back to ready and is claimed again with its attempts counted")
    func expiredLeaseIsReclaimed() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        _ = try await store.createIncident(Sample.request(jobs: [
            JobRequest(kind: "page", key: "p", priority: .p2, maxAttempts: 3),
        ]))
        let first = try #require(try await store.jobs.claim(worker: "crashed", lease: .seconds(3)).first)
        #expect(try await store.jobs.claim(worker: "survivor").isEmpty)
        try await Task.sleep(for: .milliseconds(3500))
        let again = try #require(try await store.jobs.claim(worker: "survivor").first)
        #expect(again.id == first.id && again.attempts == 2 && again.leaseToken != first.leaseToken)
        #expect(try await !store.jobs.complete(first))
        #expect(try await store.jobs.complete(again))
    }
}
