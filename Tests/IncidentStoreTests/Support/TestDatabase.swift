// Fresh databases on the Postgres that `make test` started (DATABASE_URL), one per test.
import Foundation
import IncidentCore
@testable import IncidentStore

enum TestDatabase {
    static var url: String? { ProcessInfo.processInfo.environment["DATABASE_URL"] }

    /// Run when a database is configured, and always in CI, where a missing one must fail rather than skip.
    static var shouldRun: Bool { url != nil || ProcessInfo.processInfo.environment["CI"] == "true" }

    struct Missing: Error, CustomStringConvertible {
        var description: String { "DATABASE_URL is not set: run the tests through `make test`" }
    }

    /// Creates an empty database and returns settings that reach it.
    static func fresh() async throws -> ConnectionSettings {
        guard let url else { throw Missing() }
        let admin = SQLClient(ConnectionSettings(url: url))
        defer { admin.close() }
        await Cleanup.shared.dropEarlierRuns(admin)
        let name = "im_test_\(processStart)_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        // The name is ours, made of digits and hex: safe to place in the statement.
        try await admin.execute("CREATE DATABASE \(name)")
        return ConnectionSettings(url: url, databaseName: name, operationTimeout: .seconds(60))
    }

    /// Seconds since 1970 when this test process started; names its databases so a later run can drop them.
    static let processStart = Int(Date().timeIntervalSince1970)

    /// Drops the databases of earlier test runs (older than a minute before this one), once per process.
    actor Cleanup {
        static let shared = Cleanup()
        private var done = false

        func dropEarlierRuns(_ admin: SQLClient) async {
            guard !done else { return }
            done = true
            guard let rows = try? await admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE 'im\\_test\\_%'").allRows else { return }
            for row in rows {
                guard let name = try? row.decode("datname", as: String.self),
                      let started = Int(name.split(separator: "_").dropFirst(2).first ?? ""),
                      started < processStart - 60,
                      name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
                _ = try? await admin.execute("DROP DATABASE IF EXISTS \(name)")
            }
        }
    }

    /// A store on a fresh, migrated database.
    static func freshStore(writers: Int = 2, maxBatch: Int = 512) async throws -> (IncidentStore, ConnectionSettings) {
        let settings = try await fresh()
        let store = try await IncidentStore.open(
            StoreConfiguration(connection: settings, poolSize: 3, writers: writers, maxBatch: maxBatch))
        return (store, settings)
    }
}

/// Direct SQL for tests, on its own connection thread.
final class SQLClient: Sendable {
    private let worker: ConnectionWorker

    init(_ settings: ConnectionSettings) {
        worker = ConnectionWorker(settings: settings, name: "test-sql", capacity: 100)
    }

    @discardableResult
    func execute(_ sql: String, _ binds: [(any PostgresEncodable)?] = []) async throws -> QueryResult {
        let statement = Statement(sql, binds)
        return try await worker.run { try $0.run(statement) }
    }

    func scalar<T: PostgresDecodable & Sendable>(_ sql: String, _ binds: [(any PostgresEncodable)?] = [],
                                                   as type: T.Type = T.self) async throws -> T {
        let result = try await execute(sql, binds)
        return try result.first!.decode(result.columns[0], as: T.self)
    }

    func close() { worker.stop() }

    /// Opens a transaction and runs `sql` in it (taking a lock another test connection will then wait for).
    func begin(holding sql: String) async throws {
        try await execute("BEGIN")
        try await execute(sql)
    }

    /// Connections of this database waiting for a lock. Ask from a connection outside any transaction: a
    /// transaction sees pg_stat_activity as it was at its first look.
    func lockWaiters() async throws -> Int {
        try await scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            + "AND datname = current_database()", as: Int.self)
    }
}

/// Holds the chain head's row lock, which every create takes first (im_begin_changes): it stalls the writer.
let holdChainHead = "SELECT 1 FROM chain_head WHERE id = 1 FOR UPDATE"

/// Builders for test incidents.
enum Sample {
    static func draft(source: String = "llm-shield", eventID: String = UUID().uuidString,
                      severity: Severity = .high, title: String = "Prompt injection detected",
                      content: String = "same", tags: [String: String] = ["env": "test"]) -> IncidentDraft {
        IncidentDraft(
            source: source, eventID: eventID, contentHash: Array(content.utf8), severity: severity, title: title,
            description: "A test incident", sourceVersion: "1.2", eventType: "prompt_injection",
            category: "llm",
            resource: Resource(type: "llm_endpoint", id: "ep-1", name: "chat", metadata: ["region": "eu"]),
            metrics: ["score": 0.97], tags: tags, encryptedPayload: [1, 2, 3, 0, 255], requestHash: "abc123",
            assignedTeam: "secops", escalationPolicy: "default")
    }

    static func request(_ draft: IncidentDraft = Sample.draft(), jobs: [JobRequest] = []) -> CreateIncidentRequest {
        CreateIncidentRequest(draft: draft, actor: "spiffe://llm-shield", jobs: jobs)
    }
}

/// Polls an async condition until it holds or the timeout passes; for outcomes that arrive asynchronously.
func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
