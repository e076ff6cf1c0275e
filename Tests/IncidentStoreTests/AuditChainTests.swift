// The audit trail's SHA-256 chain: intact after real use, and any edit or truncation is detected.
import Foundation
import IncidentCore
import Testing
@testable import IncidentStore

@Suite("Audit chain", .enabled(if: TestDatabase.shouldRun))
struct AuditChainTests {
    private func populatedStore() async throws -> (IncidentStore, SQLClient) {
        let (store, settings) = try await TestDatabase.freshStore()
        let results = try await withThrowingTaskGroup(of: CreateIncidentResult.self) { group in
            for _ in 0..<20 { group.addTask { try await store.createIncident(Sample.request()) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for result in results.prefix(5) {
            _ = try await store.updateIncident(IncidentUpdate(
                incidentID: result.incidentID, expectedVersion: 1, actor: "spiffe://oncall", status: .inProgress))
        }
        return (store, SQLClient(settings))
    }

    @Test("the chain of a busy store verifies")
    func intactChain() async throws {
        let (store, sql) = try await populatedStore()
        defer { store.shutdown(); sql.close() }
        let report = try await store.verifyAuditChain()
        #expect(report.entries == 25)
        #expect(report.isIntact)
    }

    @Test("an altered audit row is detected at that row")
    func alteredRowDetected() async throws {
        let (store, sql) = try await populatedStore()
        defer { store.shutdown(); sql.close() }
        let target = try await sql.scalar("SELECT seq FROM audit_log ORDER BY seq OFFSET 7 LIMIT 1", as: Int64.self)
        try await sql.execute("UPDATE audit_log SET actor = 'someone-else' WHERE seq = $1", [target])
        let report = try await store.verifyAuditChain()
        #expect(!report.isIntact)
        #expect(report.firstBrokenSequence == target)
    }

    @Test("a re-hashed altered row breaks the link to the next one; a deleted tail breaks the head")
    func rehashAndTruncationDetected() async throws {
        let (store, sql) = try await populatedStore()
        defer { store.shutdown(); sql.close() }
        let target = try await sql.scalar("SELECT seq FROM audit_log ORDER BY seq OFFSET 3 LIMIT 1", as: Int64.self)
        // A forger who recomputes the altered row's own hash still breaks the next row's link.
        try await sql.execute("""
            UPDATE audit_log SET action = 'deleted',
                hash = im_audit_digest(prev_hash, seq, incident_id, actor, 'deleted', old_value, new_value, at)
            WHERE seq = $1
            """, [target])
        let rehashed = try await store.verifyAuditChain()
        #expect(rehashed.firstBrokenSequence.map { $0 > target } == true)

        let (fresh, freshSQL) = try await populatedStore()
        defer { fresh.shutdown(); freshSQL.close() }
        try await freshSQL.execute("DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log)")
        let truncated = try await fresh.verifyAuditChain()
        #expect(truncated.firstBrokenSequence == nil)
        #expect(!truncated.headMatches)
    }
}
