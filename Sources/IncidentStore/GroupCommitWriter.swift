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
    private let preemption = BatchPreemption()
    /// Creates refused for load so far, per priority (index 0 is P0), for metrics.
    private let refused = Mutex([Int](repeating: 0, count: 5))

    init(settings: ConnectionSettings, writers: Int, maxBatch: Int, queueCapacity: Int) {
        pending = PendingCreates(capacity: queueCapacity)
        self.maxBatch = maxBatch
        for index in 0..<writers {
            let thread = Thread { [pending, maxBatch, preemption] in
                Self.run(pending: pending, settings: settings, maxBatch: maxBatch, preemption: preemption)
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
                if priority == .p0 { preemption.preempt() }
            case .admittedDisplacing(let victim):
                if priority == .p0 { preemption.preempt() }
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

    /// How many batches of less urgent creates an arriving P0 preempted since start.
    var preemptionCount: Int { preemption.preemptionCount }

    /// Stops taking creates; queued ones are still written.
    func shutdown() {
        pending.close()
        preemption.stop()
    }

    private static func run(pending: PendingCreates, settings: ConnectionSettings, maxBatch: Int,
                            preemption: BatchPreemption) {
        let connection = PostgresConnection(settings: settings)
        var previousBatch = 0
        while true {
            // Wait briefly for about as many creates as the last batch answered: those callers are coming back.
            // P0 creates are written in a batch of their own, not behind hundreds of others in theirs, and an
            // arriving P0 preempts the batch of others being written (BatchPreemption).
            let batch = pending.takeBatch(limit: maxBatch, gather: (target: previousBatch, linger: .milliseconds(2)),
                                          alone: Priority.p0.rawValue)
            if batch.isEmpty { break }
            previousBatch = batch.count
            // A create preempted once is not preempted again (a stream of P0 cannot starve it), and a cancel of its
            // write is not taken for a preemption twice.
            let role: PreemptionRole =
                if batch.contains(where: \.wasPreempted) { .unwatched }
                else if batch.contains(where: { $0.priority == .p0 }) { .restoring(preemption) }
                else { .preemptible(preemption) }
            switch write(batch, on: connection, preemption: role, lateCancels: preemption) {
            case .answered:
                break
            case .preempted(let unwritten):
                pending.restore(unwritten.map { create in
                    var create = create
                    create.wasPreempted = true
                    return (element: create, priority: create.priority.rawValue)
                })
                preemption.notePreempted()
            }
        }
        preemption.stop()
        connection.close()
    }

    /// What became of a batch given to `write`.
    enum WriteOutcome {
        /// Every caller was answered (written, or failed with its error).
        case answered
        /// A P0 preempted the write: these creates were not written nor answered, and go back to the lanes.
        case preempted([PendingCreate])
    }

    /// The batch as one set-based statement (`im_create_batch`); the per-create pipeline is the fallback.
    static let batchSQL = """
        SELECT ord, incident_id, outcome, version, change_position AS position FROM im_create_batch(
            $1::text[], $2::text[], $3::bytea[], $4::text[], $5::text[], $6::smallint[], $7::text[], $8::text[],
            $9::text[], $10::text[], $11::text[], $12::jsonb[], $13::jsonb[], $14::jsonb[], $15::bytea[],
            $16::text[], $17::text[], $18::text[], $19::jsonb[], $20::jsonb[], $21::jsonb[], $22::text[],
            $23::bigint[], $24::jsonb[])
        """

    /// What a batch's write has to do with P0 preemption (`BatchPreemption`).
    enum PreemptionRole {
        /// Outside preemption: a cancel fails its creates (a batch holding a create preempted once, which is never
        /// preempted again).
        case unwatched
        /// Not cancelled for an arriving P0 (the batch holds a P0), but a cancel meant for an earlier batch may
        /// still land on it: the creates it cancelled come back `.preempted`.
        case restoring(BatchPreemption)
        /// An arriving P0 may cancel it midway; the creates a cancel stopped come back `.preempted`.
        case preemptible(BatchPreemption)

        /// Whom an arriving P0 may cancel the write through.
        var cancellableBy: BatchPreemption? {
            if case .preemptible(let preemption) = self { preemption } else { nil }
        }

        /// Who can tell whether a cancel was a preemption, so the cancelled creates go back to the lanes.
        var restoringThrough: BatchPreemption? {
            switch self {
            case .unwatched: nil
            case .restoring(let preemption), .preemptible(let preemption): preemption
            }
        }
    }

    /// Writes a batch, cancellable and restorable as its `preemption` role says. With `lateCancels`, a cancel that a
    /// recent preemption explains but that is not restored (it reached this write, not the one it was meant for)
    /// makes the write run again instead of failing its creates.
    static func write(_ batch: [PendingCreate], on connection: PostgresConnection,
                      preemption role: PreemptionRole = .unwatched,
                      lateCancels: BatchPreemption? = nil) -> WriteOutcome {
        let restoring = role.restoringThrough
        if batch.count > 1 {
            switch writeAsOneStatement(batch, on: connection, preemption: role.cancellableBy) {
            case .answered: return .answered
            case .cancelled:
                if restoring?.explainsCancel() == true { return .preempted(batch) }
                // A cancel meant for an earlier batch can reach the session late (the server signals the backend
                // after PQcancel returns): nothing was written, so the batch is written again, not failed.
                if lateCancels?.explainsCancel() == true {
                    return writeAsPipeline(batch, on: connection, preemption: nil, restoring: nil,
                                           lateCancels: lateCancels)
                }
                return failAll(batch, .unavailable(reason: "the database cancelled the write"))
            case .fallBack:
                // Finding a bad create among many is not interrupted.
                return writeAsPipeline(batch, on: connection, preemption: nil, restoring: restoring,
                                       lateCancels: lateCancels)
            }
        }
        return writeAsPipeline(batch, on: connection, preemption: role.cancellableBy, restoring: restoring,
                               lateCancels: lateCancels)
    }

    /// What the set-based path did with a batch.
    private enum OneStatementOutcome {
        case answered
        /// The server cancelled a statement: nothing was written, no caller answered.
        case cancelled
        /// A data error: nothing was written, the per-create pipeline must find the culprit.
        case fallBack
    }

    /// Tries the set-based path. A data error in any create falls back to the pipeline path, which finds the
    /// culprit and fails it alone.
    private static func writeAsOneStatement(_ batch: [PendingCreate], on connection: PostgresConnection,
                                            preemption: BatchPreemption?) -> OneStatementOutcome {
        let columns = batch[0].statement.binds.indices.map { column in
            TextArray(elements: batch.map { $0.statement.binds[column] })
        }
        let statement = Statement(batchSQL, columns, preparedAs: "im_create_batch9")
        let outcomes: [Result<QueryResult, PostgresError>]
        do {
            outcomes = try pipeline([Statement("BEGIN"), statement, Statement("COMMIT")], on: connection,
                                    preemptibleBy: preemption)
        } catch {
            let failure = (error as? PostgresError)?.storeError ?? .unavailable(reason: "connection lost")
            batch.forEach { $0.continuation.resume(throwing: failure) }
            return .answered
        }
        if let failed = outcomes.first(where: { if case .failure = $0 { true } else { false } }),
           case .failure(let error) = failed {
            rollBack(connection)
            if error.isCancellation { return .cancelled }
            if !error.isDataError && !error.isTransient {
                failAll(batch, error.storeError)
                return .answered
            }
            return .fallBack
        }
        guard case .success(let result) = outcomes[1], result.rows.count == batch.count else {
            failAll(batch, .internalFailure(reason: "batch create returned the wrong number of rows"))
            return .answered
        }
        // Rows come set-based ones first, then those written one by one; `ord` is each one's place in the batch.
        var rows = [Row?](repeating: nil, count: batch.count)
        for row in result.allRows {
            if let ord = try? row.decode("ord", as: Int.self), (1...batch.count).contains(ord) { rows[ord - 1] = row }
        }
        for (create, row) in zip(batch, rows) {
            guard let row else {
                create.continuation.resume(throwing: StoreError.internalFailure(reason: "batch create lost a row"))
                continue
            }
            create.continuation.resume(with: Result { try decodeRow(row) })
        }
        return .answered
    }

    /// Runs one pipeline; with `preemption`, an arriving P0 may cancel it meanwhile, and no cancel meant for it is
    /// still on its way when this returns.
    private static func pipeline(_ statements: [Statement], on connection: PostgresConnection,
                                 preemptibleBy preemption: BatchPreemption?) throws
        -> [Result<QueryResult, PostgresError>]
    {
        try connection.connectIfNeeded()
        if let preemption, let canceller = connection.canceller {
            preemption.writing(preemptibleThrough: canceller)
        }
        defer { preemption?.finished() }
        return try connection.pipeline(statements)
    }

    /// Ends a failed transaction. A cancel meant for the statement before may land on the ROLLBACK itself, so a
    /// second try follows a first that left the session in the transaction.
    private static func rollBack(_ connection: PostgresConnection) {
        for _ in 0..<2 where connection.isConnected && connection.isInTransaction {
            _ = try? connection.query("ROLLBACK")
        }
    }

    @discardableResult
    private static func failAll(_ batch: [PendingCreate], _ error: StoreError) -> WriteOutcome {
        batch.forEach { $0.continuation.resume(throwing: error) }
        return .answered
    }

    /// One statement per create in one transaction; a data error fails its create alone and the rest are written
    /// again. With `preemption`, the first attempt may be cancelled by an arriving P0; with `restoring`, creates
    /// whose write a preemption cancelled are returned `.preempted` instead of failed.
    /// With `lateCancels`, a cancel that a recent preemption explains but that is not restored (it reached a later
    /// write than the one it was meant for) makes the write run again, a few times at most.
    private static func writeAsPipeline(_ batch: [PendingCreate], on connection: PostgresConnection,
                                        preemption: BatchPreemption?, restoring: BatchPreemption?,
                                        lateCancels: BatchPreemption? = nil) -> WriteOutcome {
        var remaining = batch
        var transientRetries = 0
        var lateCancelRetries = 0
        var preemption = preemption
        while !remaining.isEmpty {
            let outcomes: [Result<QueryResult, PostgresError>]
            do {
                outcomes = try pipeline([Statement("BEGIN")] + remaining.map(\.statement) + [Statement("COMMIT")],
                                        on: connection, preemptibleBy: preemption)
            } catch {
                let failure = (error as? PostgresError)?.storeError ?? .unavailable(reason: "connection lost")
                remaining.forEach { $0.continuation.resume(throwing: failure) }
                return .answered
            }
            // Only the first attempt may be preempted: a retry is finishing what was begun.
            preemption = nil
            guard let failed = outcomes.firstIndex(where: { if case .failure = $0 { true } else { false } }),
                  case .failure(let error) = outcomes[failed] else {
                for (index, create) in remaining.enumerated() {
                    create.continuation.resume(with: Result { try decode(outcomes[index + 1]) })
                }
                return .answered
            }
            rollBack(connection)
            if error.isDataError && (1...remaining.count).contains(failed) {
                remaining.remove(at: failed - 1).continuation.resume(throwing: error.storeError)
            } else if error.isTransient && error.kind == .server && transientRetries < 3 {
                transientRetries += 1
            } else if error.isCancellation, restoring?.explainsCancel() == true {
                return .preempted(remaining)
            } else if error.isCancellation, lateCancelRetries < 3, lateCancels?.explainsCancel() == true {
                lateCancelRetries += 1
            } else {
                remaining.forEach { $0.continuation.resume(throwing: error.storeError) }
                return .answered
            }
        }
        return .answered
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
            var result = CreateIncidentResult(
                incidentID: id, duplicate: outcome == "duplicate",
                version: try row.decode("version"), position: try row.decode("position"))
            result.correlated = outcome == "correlated" || outcome == "correlated_raised"
            result.raised = outcome == "correlated_raised"
            return result
        }
    }
}
