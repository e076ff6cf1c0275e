// Group commit: many callers' creates written in one pipelined transaction, each acked only after COMMIT.
import Foundation
import IncidentCore

/// Writer threads, each owning one connection, that drain `PendingCreates` in batches.
///
/// A batch is BEGIN, one `im_create_incident` per create, COMMIT, sent as one pipeline (one round trip, one
/// fsync). When one create's data is refused, the whole transaction rolls back, that caller alone gets
/// `invalid`, and the rest are written again. A lost connection fails the batch with a retryable error: the
/// outcome is then unknown, and a retry is safe because creates are idempotent by `(source, event_id)`.
final class GroupCommitWriter: Sendable {
    private let pending: PendingCreates
    private let maxBatch: Int

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
        let priority = request.draft.priority.rawValue
        return try await withCheckedThrowingContinuation { continuation in
            if !pending.push(PendingCreate(statement: statement, continuation: continuation), priority: priority) {
                continuation.resume(throwing: StoreError.unavailable(reason: "write queue full or closed"))
            }
        }
    }

    /// Stops taking creates; queued ones are still written.
    func shutdown() {
        pending.close()
    }

    private static func run(pending: PendingCreates, settings: ConnectionSettings, maxBatch: Int) {
        let connection = PostgresConnection(settings: settings)
        while true {
            let batch = pending.takeBatch(limit: maxBatch)
            if batch.isEmpty { break }
            write(batch, on: connection)
        }
        connection.close()
    }

    static func write(_ batch: [PendingCreate], on connection: PostgresConnection) {
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
        guard let row = try outcome.get().first, let id = IncidentID(try row.decode("incident_id", as: String.self))
        else { throw StoreError.internalFailure(reason: "create returned no incident") }
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
