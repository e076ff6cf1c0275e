// How the store is sized and where its database is.

/// Settings for `IncidentStore.open`.
public struct StoreConfiguration: Sendable {
    public var connection: ConnectionSettings
    /// Connections for reads, updates and jobs.
    public var poolSize: Int
    /// Group-commit writers, each with its own connection. One is best: change writers serialize on the change
    /// log's lock anyway, so a second writer only splits batches (measured: ~5.5k vs ~3.5k creates/s at 64
    /// callers). More help only when replicas share the database, where each replica brings its own.
    public var writers: Int
    /// Most creates written in one transaction.
    public var maxBatch: Int
    /// Most creates waiting for a writer; beyond it creates fail fast with a retryable error.
    public var writeQueueCapacity: Int
    /// Whether to run a LISTEN connection that wakes `waitForChanges`.
    public var listensForChanges: Bool

    public init(connection: ConnectionSettings, poolSize: Int = 4, writers: Int = 1, maxBatch: Int = 512,
                writeQueueCapacity: Int = 100_000, listensForChanges: Bool = true) {
        self.connection = connection
        self.poolSize = poolSize
        self.writers = writers
        self.maxBatch = maxBatch
        self.writeQueueCapacity = writeQueueCapacity
        self.listensForChanges = listensForChanges
    }
}
