// P0 preempts the write in flight, on a real Postgres: a create of lower priority is being written (stalled on a
// lock another connection holds) when a P0 arrives; the P0 cancels it, is written first, and the cancelled create
// is written after it, once, with nothing lost.
import Foundation
import IncidentCore
import Synchronization
import Testing
@testable import IncidentStore

@Suite("P0 preempts the write in flight", .enabled(if: TestDatabase.shouldRun))
struct PreemptionTests {
    @Test("a P0 cancels the lower-priority write in flight, commits first, and the cancelled create follows once")
    func p0PreemptsTheWriteInFlight() async throws {
        let writer = try await OneWriter()
        defer { writer.close() }
        let blocker = writer.client()
        try await blocker.begin(holding: holdChainHead)

        let low = writer.create("low", .low)
        #expect(try await eventually { try await writer.observer.lockWaiters() == 1 },
                "the low create never reached the lock")
        #expect(writer.store.writeQueueDepths == [0, 0, 0, 0, 0])

        let p0 = writer.create("p0", .critical)
        // The low create's statement is cancelled and it waits in its lane again; the P0 now waits on the lock.
        #expect(try await eventually { writer.store.writePreemptions == 1 },
                "the P0 did not preempt the write in flight")
        #expect(try await eventually { writer.store.writeQueueDepths == [0, 0, 0, 1, 0] })
        #expect(try await eventually { try await writer.observer.lockWaiters() == 1 },
                "the P0 is not the write waiting for the lock")

        try await blocker.execute("COMMIT")
        let p0Result = try await p0.value
        let lowResult = try await low.value
        #expect(!p0Result.duplicate && !lowResult.duplicate)
        #expect(p0Result.position < lowResult.position, "the P0 was not written first")
        #expect(writer.store.writePreemptions == 1)

        let events = try await writer.observer.execute("SELECT event_id FROM events ORDER BY event_id").allRows
            .map { try $0.decode("event_id", as: String.self) }
        #expect(events == ["low", "p0"])
        let changes = try await writer.observer.scalar("SELECT count(*) FROM change_log", as: Int.self)
        #expect(changes == 2)
    }

    @Test("a create preempted once is not preempted again: a stream of P0 creates cannot starve it")
    func preemptedCreateIsNotPreemptedTwice() async throws {
        let writer = try await OneWriter()
        defer { writer.close() }
        // An uncommitted event row with the low create's key stalls only that create's write (on the key), while
        // it holds the chain head: the P0 creates are stalled by it, not by the blocker.
        let blocker = writer.client()
        try await blocker.begin(holding: OneWriter.holdEventKey("low"))

        let low = writer.create("low", .low)
        #expect(try await eventually { try await writer.observer.lockWaiters() == 1 })
        // The first P0 preempts it and is written at once.
        let first = try await writer.create("p0-first", .critical).value
        #expect(writer.store.writePreemptions == 1)
        // The low create is written again and stalls again; a second P0 must now wait (in its lane) for it.
        #expect(try await eventually { try await writer.observer.lockWaiters() == 1 })
        let second = writer.create("p0-second", .critical)
        #expect(try await eventually { writer.store.writeQueueDepths == [1, 0, 0, 0, 0] })
        try await Task.sleep(for: .milliseconds(300))
        #expect(writer.store.writeQueueDepths == [1, 0, 0, 0, 0], "the second P0 did not wait for the low create")
        #expect(try await writer.observer.lockWaiters() == 1)
        #expect(writer.store.writePreemptions == 1)

        try await blocker.execute("ROLLBACK")
        let lowResult = try await low.value
        let secondResult = try await second.value
        #expect(first.position < lowResult.position && lowResult.position < secondResult.position)
        #expect(writer.store.writePreemptions == 1)
    }

    @Test("a P0 cancels a set-based batch in flight; the whole batch is written after it, each create once")
    func p0PreemptsABatch() async throws {
        let writer = try await OneWriter()
        defer { writer.close() }
        // The chain head's lock stalls a first create while three more queue up behind it; an uncommitted event row
        // with b2's key then stalls the batch of those three.
        let chainBlocker = writer.client()
        try await chainBlocker.begin(holding: holdChainHead)
        let keyBlocker = writer.client()
        try await keyBlocker.begin(holding: OneWriter.holdEventKey("b2"))
        let first = writer.create("first", .low)
        #expect(try await eventually { try await writer.observer.lockWaiters() == 1 })
        let batch = ["b1", "b2", "b3"].map { writer.create($0, .low) }
        #expect(try await eventually { writer.store.writeQueueDepths == [0, 0, 0, 3, 0] })
        try await chainBlocker.execute("COMMIT")
        _ = try await first.value
        #expect(try await eventually {
            guard writer.store.writeQueueDepths == [0, 0, 0, 0, 0] else { return false }
            return try await writer.observer.lockWaiters() == 1
        })

        let p0 = try await writer.create("p0", .critical).value
        #expect(writer.store.writePreemptions == 1)
        try await keyBlocker.execute("ROLLBACK")
        var positions: [Int64] = []
        for task in batch { positions.append(try await task.value.position) }
        #expect(positions.allSatisfy { $0 > p0.position }, "the P0 was not written before the batch")
        #expect(writer.store.writePreemptions == 1)
        let events = try await writer.observer.scalar("SELECT count(*) FROM events", as: Int.self)
        #expect(events == 5)
    }
}

/// A fresh store with one group-commit writer, a connection watching it, and the test's other connections.
private final class OneWriter: Sendable {
    let settings: ConnectionSettings
    let store: IncidentStore
    let observer: SQLClient
    private let clients = Mutex<[SQLClient]>([])

    init() async throws {
        settings = try await TestDatabase.fresh()
        store = try await IncidentStore.open(StoreConfiguration(connection: settings, poolSize: 2, writers: 1))
        observer = SQLClient(settings)
    }

    /// An uncommitted event row with this key: the create of that event waits on it, holding the chain head.
    static func holdEventKey(_ eventID: String) -> String {
        "INSERT INTO events (source, event_id, content_hash) VALUES ('llm-shield', '\(eventID)', '\\x00')"
    }

    /// Another connection, closed with the fixture.
    func client() -> SQLClient {
        let client = SQLClient(settings)
        clients.withLock { $0.append(client) }
        return client
    }

    func create(_ eventID: String, _ severity: Severity) -> Task<CreateIncidentResult, any Error> {
        Task { [store] in
            try await store.createIncident(Sample.request(Sample.draft(eventID: eventID, severity: severity)))
        }
    }

    func close() {
        clients.withLock { $0.forEach { $0.close() } }
        observer.close()
        store.shutdown()
    }
}
