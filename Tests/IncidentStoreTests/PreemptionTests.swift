// P0 preempts the write in flight, on a real Postgres: a create of lower priority is being written (stalled on a
// lock another connection holds) when a P0 arrives; the P0 cancels it, is written first, and the cancelled create
// is written after it, once, with nothing lost.
import Foundation
import IncidentCore
import Testing
@testable import IncidentStore

@Suite("P0 preempts the write in flight", .enabled(if: TestDatabase.shouldRun))
struct PreemptionTests {
    @Test("a P0 cancels the lower-priority write in flight, commits first, and the cancelled create follows once")
    func p0PreemptsTheWriteInFlight() async throws {
        let settings = try await TestDatabase.fresh()
        let store = try await IncidentStore.open(StoreConfiguration(connection: settings, poolSize: 2, writers: 1))
        defer { store.shutdown() }
        // Every create takes the chain head's row lock first (im_begin_changes): holding it stalls the writer.
        let blocker = SQLClient(settings)
        defer { blocker.close() }
        try await blocker.execute("BEGIN")
        try await blocker.execute("SELECT 1 FROM chain_head WHERE id = 1 FOR UPDATE")
        let observer = SQLClient(settings)
        defer { observer.close() }
        func lockWaiters() async throws -> Int {
            try await observer.scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                + "AND datname = current_database()",
                                      as: Int.self)
        }

        let low = Task { try await store.createIncident(Sample.request(Sample.draft(eventID: "low", severity: .low))) }
        #expect(try await eventually { try await lockWaiters() == 1 }, "the low create never reached the lock")
        #expect(store.writeQueueDepths == [0, 0, 0, 0, 0])

        let p0 = Task {
            try await store.createIncident(Sample.request(Sample.draft(eventID: "p0", severity: .critical)))
        }
        // The low create's statement is cancelled and it waits in its lane again; the P0 now waits on the lock.
        #expect(try await eventually { store.writePreemptions == 1 }, "the P0 did not preempt the write in flight")
        #expect(try await eventually { store.writeQueueDepths == [0, 0, 0, 1, 0] })
        #expect(try await eventually { try await lockWaiters() == 1 }, "the P0 is not the write waiting for the lock")

        try await blocker.execute("COMMIT")
        let p0Result = try await p0.value
        let lowResult = try await low.value
        #expect(!p0Result.duplicate && !lowResult.duplicate)
        #expect(p0Result.position < lowResult.position, "the P0 was not written first")
        #expect(store.writePreemptions == 1)

        let sql = SQLClient(settings)
        defer { sql.close() }
        let events = try await sql.execute("SELECT event_id FROM events ORDER BY event_id").allRows
            .map { try $0.decode("event_id", as: String.self) }
        #expect(events == ["low", "p0"])
        let changes = try await sql.scalar("SELECT count(*) FROM change_log", as: Int.self)
        #expect(changes == 2)
    }

    @Test("a create preempted once is not preempted again: a stream of P0 creates cannot starve it")
    func preemptedCreateIsNotPreemptedTwice() async throws {
        let settings = try await TestDatabase.fresh()
        let store = try await IncidentStore.open(StoreConfiguration(connection: settings, poolSize: 2, writers: 1))
        defer { store.shutdown() }
        // An uncommitted event row with the low create's key stalls only that create's write (on the key), while
        // it holds the chain head: the P0 creates are stalled by it, not by the blocker.
        let blocker = SQLClient(settings)
        defer { blocker.close() }
        try await blocker.execute("BEGIN")
        try await blocker.execute(
            "INSERT INTO events (source, event_id, content_hash) VALUES ('llm-shield', 'low', '\\x00')")
        let observer = SQLClient(settings)
        defer { observer.close() }
        func lockWaiters() async throws -> Int {
            try await observer.scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                + "AND datname = current_database()", as: Int.self)
        }
        func create(_ eventID: String, _ severity: Severity) -> Task<CreateIncidentResult, any Error> {
            Task { try await store.createIncident(Sample.request(Sample.draft(eventID: eventID, severity: severity))) }
        }

        let low = create("low", .low)
        #expect(try await eventually { try await lockWaiters() == 1 })
        // The first P0 preempts it and is written at once.
        let first = try await create("p0-first", .critical).value
        #expect(store.writePreemptions == 1)
        // The low create is written again and stalls again; a second P0 must now wait (in its lane) for it.
        #expect(try await eventually { try await lockWaiters() == 1 })
        let second = create("p0-second", .critical)
        #expect(try await eventually { store.writeQueueDepths == [1, 0, 0, 0, 0] })
        try await Task.sleep(for: .milliseconds(300))
        #expect(store.writeQueueDepths == [1, 0, 0, 0, 0], "the second P0 did not wait for the low create")
        #expect(try await lockWaiters() == 1)
        #expect(store.writePreemptions == 1)

        try await blocker.execute("ROLLBACK")
        let lowResult = try await low.value
        let secondResult = try await second.value
        #expect(first.position < lowResult.position && lowResult.position < secondResult.position)
        #expect(store.writePreemptions == 1)
    }

    @Test("a P0 cancels a set-based batch in flight; the whole batch is written after it, each create once")
    func p0PreemptsABatch() async throws {
        let settings = try await TestDatabase.fresh()
        let store = try await IncidentStore.open(StoreConfiguration(connection: settings, poolSize: 2, writers: 1))
        defer { store.shutdown() }
        let observer = SQLClient(settings)
        defer { observer.close() }
        func lockWaiters() async throws -> Int {
            try await observer.scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                + "AND datname = current_database()", as: Int.self)
        }
        func create(_ eventID: String, _ severity: Severity) -> Task<CreateIncidentResult, any Error> {
            Task { try await store.createIncident(Sample.request(Sample.draft(eventID: eventID, severity: severity))) }
        }
        // The chain head's lock stalls a first create while three more queue up behind it; an uncommitted event row
        // with b2's key then stalls the batch of those three.
        let chainBlocker = SQLClient(settings)
        defer { chainBlocker.close() }
        try await chainBlocker.execute("BEGIN")
        try await chainBlocker.execute("SELECT 1 FROM chain_head WHERE id = 1 FOR UPDATE")
        let keyBlocker = SQLClient(settings)
        defer { keyBlocker.close() }
        try await keyBlocker.execute("BEGIN")
        try await keyBlocker.execute(
            "INSERT INTO events (source, event_id, content_hash) VALUES ('llm-shield', 'b2', '\\x00')")
        let first = create("first", .low)
        #expect(try await eventually { try await lockWaiters() == 1 })
        let batch = ["b1", "b2", "b3"].map { create($0, .low) }
        #expect(try await eventually { store.writeQueueDepths == [0, 0, 0, 3, 0] })
        try await chainBlocker.execute("COMMIT")
        _ = try await first.value
        #expect(try await eventually {
            guard store.writeQueueDepths == [0, 0, 0, 0, 0] else { return false }
            return try await lockWaiters() == 1
        })

        let p0 = try await create("p0", .critical).value
        #expect(store.writePreemptions == 1)
        try await keyBlocker.execute("ROLLBACK")
        var positions: [Int64] = []
        for task in batch { positions.append(try await task.value.position) }
        #expect(positions.allSatisfy { $0 > p0.position }, "the P0 was not written before the batch")
        #expect(store.writePreemptions == 1)
        let events = try await observer.scalar("SELECT count(*) FROM events", as: Int.self)
        #expect(events == 5)
    }
}
