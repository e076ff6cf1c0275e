// Group commit: many callers' creates written in one pipelined transaction, each acked only after COMMIT.
import Foundation
import IncidentCore
import Synchronization

/// Writer threads, each owning one connection, that drain `PendingCreates` in batches, most urgent first.
///
/// A batch is written in one transaction and one round trip (BEGIN, statement(s), COMMIT as a pipeline), and
/// every caller is completed only after COMMIT returned. The fast path sends the whole batch as one set-based
/// `im_create_batch` call; when it reports a data error, the batch is written again as one `im_create_incident`
/// per create, where the failing create is found, answered `invalid` alone, and the rest written once more.
/// A lost connection fails the batch with a retryable error: its outcome is then unknown, and a retry is safe
/// because creates are idempotent by `(source, event_id)`.
final class GroupCommitWriter: Sendable {
    private let pending: PendingCreates
    private let maxBatch: Int
    /// Creates refused for load so far, per priority (index 0 is P0), for metrics.
    private let refused = Mutex([Int](repeating: 0, count: 5))

    init(settings: ConnectionSettings, writers: Int, maxBatch: Int, queueCapacity: Int) {
        pending = PendingCreates(capacity: queueCapacity)
        self.maxBatch = maxBatch
        for index in 0..<writers {
            let thread = Thread { [pending, maxBatch] in
                Self.run(pending: pending, settings: settings, maxBatch: maxBatch)
            }
            thread.name = "pg-writer-\(index)"
            thread.start()
        }
    }

    /// Queues a create and returns once its transaction committed (or failed).
    func create(_ request: CreateIncidentRequest) async throws -> CreateIncidentResult {
        let statement = try request.statement()
        let priority = request.draft.priority
        return try await withCheckedThrowingContinuation { continuation in
            let create = PendingCreate(statement: statement, priority: priority, continuation: continuation)
            switch pending.push(create, priority: priority.rawValue) {
            case .admitted:
                break
            case .admittedDisplacing(let victim):
                // Resumed outside the lanes' lock (push returned): the victim's caller learns at once.
                countRefusal(victim.priority.rawValue)
                victim.continuation.resume(throwing: StoreError.overloaded(refusedPriority: victim.priority))
            case .refused:
                countRefusal(priority.rawValue)
                continuation.resume(throwing: StoreError.overloaded(refusedPriority: priority))
            case .closed:
                continuation.resume(throwing: StoreError.unavailable(reason: "the store is shutting down"))
            }
        }
    }

    /// How many creates wait for a writer at each priority (index 0 is P0).
    var queueDepths: [Int] { pending.depths }

    /// How many creates were refused for load at each priority since start (index 0 is P0).
    var refusalCounts: [Int] { refused.withLock { $0 } }

    private func countRefusal(_ priority: Int) {
        refused.withLock { $0[min(max(priority, 0), $0.count - 1)] += 1 }
    }

    /// Stops taking creates; queued ones are still written.
    func shutdown() {
        pending.close()
    }

    private static func run(pending: PendingCreates, settings: ConnectionSettings, maxBatch: Int) {
        let connection = PostgresConnection(settings: settings)
        var previousBatch = 0
        while true {
            // Wait briefly for about as many creates as the last batch answered: those callers are coming back.
            // P0 creates are written in a batch of their own: they wait for the batch being written, not also for
            // hundreds of others in theirs.
            let batch = pending.takeBatch(limit: maxBatch, gather: (target: previousBatch, linger: .milliseconds(2)),
                                          alone: Priority.p0.rawValue)
            if batch.isEmpty { break }
            previousBatch = batch.count
            write(batch, on: connection)
        }
        connection.close()
    }

    /// The batch as one set-based statement (`im_create_batch`); the per-create pipeline is the fallback.
    static let batchSQL = """
        SELECT ord, incident_id, outcome, version, change_position AS position FROM im_create_batch(
            $1::text[], $2::text[], $3::bytea[], $4::text[], $5::text[], $6::smallint[], $7::text[], $8::text[],
            $9::text[], $10::text[], $11::text[], $12::jsonb[], $13::jsonb[], $14::jsonb[], $15::bytea[],
            $16::text[], $17::text[], $18::text[], $19::jsonb[], $20::jsonb[], $21::jsonb[])
        """

    static func write(_ batch: [PendingCreate], on connection: PostgresConnection) {
        if batch.count > 1 && writeAsOneStatement(batch, on: connection) { return }
        writeAsPipeline(batch, on: connection)
    }

    /// Tries the set-based path; true when every caller has been answered. A data error in any create
    /// returns false so the pipeline path can find the culprit and fail it alone.
    private static func writeAsOneStatement(_ batch: [PendingCreate], on connection: PostgresConnection) -> Bool {
        let columns = batch[0].statement.binds.indices.map { column in
            TextArray(elements: batch.map { $0.statement.binds[column] })
        }
        let statement = Statement(batchSQL, columns, preparedAs: "im_create_batch")
        let outcomes: [Result<QueryResult, PostgresError>]
        do {
            try connection.connectIfNeeded()
            outcomes = try connection.pipeline([Statement("BEGIN"), statement, Statement("COMMIT")])
        } catch {
            let failure = (error as? PostgresError)?.storeError ?? .unavailable(reason: "connection lost")
            batch.forEach { $0.continuation.resume(throwing: failure) }
            return true
        }
        if let failed = outcomes.first(where: { if case .failure = $0 { true } else { false } }),
           case .failure(let error) = failed {
            if connection.isConnected && connection.isInTransaction { _ = try? connection.query("ROLLBACK") }
            return !error.isDataError && !error.isTransient ? failAll(batch, error.storeError) : false
        }
        guard case .success(let result) = outcomes[1], result.rows.count == batch.count else {
            return failAll(batch, .internalFailure(reason: "batch create returned the wrong number of rows"))
        }
        for (create, row) in zip(batch, result.allRows) {
            create.continuation.resume(with: Result { try decodeRow(row) })
        }
        return true
    }

    private static func failAll(_ batch: [PendingCreate], _ error: StoreError) -> Bool {
        batch.forEach { $0.continuation.resume(throwing: error) }
        return true
    }

    private static func writeAsPipeline(_ batch: [PendingCreate], on connection: PostgresConnection) {
        var remaining = batch
        var transientRetries = 0
        while !remaining.isEmpty {
            let outcomes: [Result<QueryResult, PostgresError>]
            do {
                try connection.connectIfNeeded()
                outcomes = try connection.pipeline(
                    [Statement("BEGIN")] + remaining.map(\.statement) + [Statement("COMMIT")])
            } catch {
                let failure = (error as? PostgresError)?.storeError ?? .unavailable(reason: "connection lost")
                remaining.forEach { $0.continuation.resume(throwing: failure) }
                return
            }
            guard let failed = outcomes.firstIndex(where: { if case .failure = $0 { true } else { false } }),
                  case .failure(let error) = outcomes[failed] else {
                for (index, create) in remaining.enumerated() {
                    create.continuation.resume(with: Result { try decode(outcomes[index + 1]) })
                }
                return
            }
            if connection.isConnected && connection.isInTransaction { _ = try? connection.query("ROLLBACK") }
            if error.isDataError && (1...remaining.count).contains(failed) {
                remaining.remove(at: failed - 1).continuation.resume(throwing: error.storeError)
            } else if error.isTransient && error.kind == .server && transientRetries < 3 {
                transientRetries += 1
            } else {
                remaining.forEach { $0.continuation.resume(throwing: error.storeError) }
                return
            }
        }
    }

    private static func decode(_ outcome: Result<QueryResult, PostgresError>) throws -> CreateIncidentResult {
        guard let row = try decoding({ try outcome.get().first }) else {
            throw StoreError.internalFailure(reason: "create returned no incident")
        }
        return try decodeRow(row)
    }

    private static func decodeRow(_ row: Row) throws -> CreateIncidentResult {
        try decoding { try decodeOutcome(row) }
    }

    private static func decodeOutcome(_ row: Row) throws -> CreateIncidentResult {
        guard let id = IncidentID(try row.decode("incident_id", as: String.self)) else {
            throw StoreError.internalFailure(reason: "create returned a malformed incident id")
        }
        switch try row.decode("outcome", as: String.self) {
        case "conflict":
            throw StoreError.duplicateConflict(existingIncidentID: id.description)
        case let outcome:
            return CreateIncidentResult(
                incidentID: id, duplicate: outcome == "duplicate",
                version: try row.decode("version"), position: try row.decode("position"))
        }
    }
}
