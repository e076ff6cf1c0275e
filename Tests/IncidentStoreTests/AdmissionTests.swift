// Admission by priority on a real, slowed-down Postgres: a small write queue fills while the writer waits for a
// lock another connection holds; low priorities are refused (arriving or displaced, including one whose write a
// P0 preempted), P0 always gets in, and every create that was acknowledged is in the database once the lock is
// released.
import Foundation
import IncidentCore
import Testing
@testable import IncidentStore

@Suite("Admission by priority", .enabled(if: TestDatabase.shouldRun))
struct AdmissionTests {
    @Test("a full write queue refuses P3 and P2 first, takes every P0, and loses nothing it acknowledged")
    func fullQueueShedsLeastUrgent() async throws {
        let settings = try await TestDatabase.fresh()
        let store = try await IncidentStore.open(StoreConfiguration(
            connection: settings, poolSize: 2, writers: 1, maxBatch: 16, writeQueueCapacity: 4))
        defer { store.shutdown() }
        let blocker = SQLClient(settings)
        defer { blocker.close() }
        try await blocker.begin(holding: holdChainHead)

        let outcomes = Outcomes()
        func send(_ label: String, _ severity: Severity) -> Task<Void, Never> {
            let request = Sample.request(Sample.draft(eventID: label, severity: severity))
            return Task { await outcomes.record(label, await Result { try await store.createIncident(request) }) }
        }
        func waitForDepths(_ expected: [Int]) async throws {
            #expect(try await eventually(timeout: .seconds(20)) { store.writeQueueDepths == expected },
                    "queue depths \(store.writeQueueDepths), expected \(expected)")
        }

        // The first create is taken by the writer, which then waits for the lock.
        var tasks = [send("p4-in-flight", .info)]
        try await waitForDepths([0, 0, 0, 0, 0])
        let observer = SQLClient(settings)
        defer { observer.close() }
        #expect(try await eventually { try await observer.lockWaiters() == 1 })
        for index in 0..<4 {
            tasks.append(send("p3-waiting-\(index)", .low))
            try await waitForDepths([0, 0, 0, index + 1, 0])
        }
        // Full: arriving P3s are refused at once.
        for index in 0..<2 {
            tasks.append(send("p3-arriving-\(index)", .low))
        }
        for task in tasks.suffix(2) { await task.value }
        // A P2 displaces the newest waiting P3.
        tasks.append(send("p2", .medium))
        try await waitForDepths([0, 0, 1, 3, 0])
        // The first P0 displaces the newest waiting P3 and preempts the P4 being written, which waits again in
        // its lane; the P0 is written next (and waits for the lock in turn).
        tasks.append(send("p0-0", .critical))
        #expect(try await eventually { store.writePreemptions == 1 }, "the P0 did not preempt the write in flight")
        try await waitForDepths([0, 0, 1, 2, 1])
        // The next P0s displace the least urgent waiting: the preempted P4, the P3s, then the P2; then they go past
        // the bound.
        for index in 1..<5 {
            tasks.append(send("p0-\(index)", .critical))
        }
        try await waitForDepths([4, 0, 0, 0, 0])

        try await blocker.execute("COMMIT")
        for task in tasks { await task.value }
        let results = await outcomes.all

        let refused = results.filter { if case .failure = $0.value { true } else { false } }
        #expect(Set(refused.keys) == Set((0..<4).map { "p3-waiting-\($0)" }
            + ["p3-arriving-0", "p3-arriving-1", "p2", "p4-in-flight"]))
        for (label, outcome) in refused {
            guard case .failure(let error) = outcome, let storeError = error as? StoreError,
                  case .overloaded(let priority) = storeError else {
                Issue.record("\(label) failed with something other than overloaded: \(outcome)")
                continue
            }
            #expect(storeError.isRetryable)
            #expect(priority == (label == "p2" ? .p2 : label == "p4-in-flight" ? .p4 : .p3))
            #expect(storeError.description == "write queue full; \(priority) refused")
        }
        let acknowledged = results.compactMap { label, outcome in (try? outcome.get()).map { (label, $0) } }
        #expect(Set(acknowledged.map(\.0)) == Set((0..<5).map { "p0-\($0)" }))

        // Acknowledged means committed; refused means not written.
        let sql = SQLClient(settings)
        defer { sql.close() }
        let stored = try await sql.execute("SELECT event_id FROM events").allRows
            .map { try $0.decode("event_id", as: String.self) }
        #expect(Set(stored) == Set(acknowledged.map(\.0)))
        #expect(store.writeQueueDepths == [0, 0, 0, 0, 0])
    }
}

/// Outcomes of concurrent creates by label.
private actor Outcomes {
    private(set) var all: [String: Result<CreateIncidentResult, any Error>] = [:]

    func record(_ label: String, _ outcome: Result<CreateIncidentResult, any Error>) {
        all[label] = outcome
    }
}

extension Result where Failure == any Error {
    /// The outcome of an async throwing body.
    init(_ body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
