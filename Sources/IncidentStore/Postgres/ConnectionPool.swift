// A fixed set of connections, each on its own thread, shared by the store's short operations.

/// A bounded pool: `size` connections, each with a bounded work queue. Work goes to the least busy one, except
/// urgent work (`StoreUrgency`), which has a connection of its own.
final class ConnectionPool: Sendable {
    private let workers: [ConnectionWorker]
    /// Used only by urgent work, so a P0 page's reads and writes never queue behind a flood's.
    private let urgentWorker: ConnectionWorker

    init(settings: ConnectionSettings, size: Int, queueCapacity: Int = 1024) {
        precondition(size > 0, "a pool needs at least one connection")
        workers = (0..<size).map {
            ConnectionWorker(settings: settings, name: "pg-pool-\($0)", capacity: queueCapacity)
        }
        urgentWorker = ConnectionWorker(settings: settings, name: "pg-pool-urgent", capacity: queueCapacity)
    }

    /// Runs `body` on a pooled connection's thread. Postgres errors come back as `StoreError`.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws
        -> T
    {
        let worker = StoreUrgency.isUrgent ? urgentWorker : workers.min { $0.load < $1.load }!
        do {
            return try await worker.run(body)
        } catch let error as PostgresError {
            throw error.storeError
        }
    }

    /// Runs `body` inside BEGIN … COMMIT, rolling back when it throws.
    func withTransaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws
        -> T
    {
        try await withConnection { connection in
            try connection.query("BEGIN")
            do {
                let value = try body(connection)
                try connection.query("COMMIT")
                return value
            } catch {
                if connection.isConnected && connection.isInTransaction { _ = try? connection.query("ROLLBACK") }
                throw error
            }
        }
    }

    /// Connections in the pool.
    var size: Int { workers.count }

    /// Connections with work queued or running now (a cheap sample, for metrics).
    var busyCount: Int { workers.reduce(0) { $0 + ($1.load > 0 ? 1 : 0) } }

    /// Stops every connection thread.
    func shutdown() {
        workers.forEach { $0.stop() }
        urgentWorker.stop()
    }
}

/// Marks store work done for the most urgent incidents (a P0's page): it runs on a connection of its own.
public enum StoreUrgency {
    /// Set with `StoreUrgency.$isUrgent.withValue(true) { … }` around urgent work; read by the pool.
    @TaskLocal public static var isUrgent = false
}
