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
        let name = "im_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = SQLClient(ConnectionSettings(url: url))
        // The name is ours, made of hex digits: safe to place in the statement.
        try await admin.execute("CREATE DATABASE \(name)")
        admin.close()
        return ConnectionSettings(url: url, databaseName: name, operationTimeout: .seconds(60))
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
}

/// Builders for test incidents.
enum Sample {
    static func draft(source: String = "llm-shield", eventID: String = UUID().uuidString,
                      severity: Severity = .high, title: String = "Prompt injection detected",
                      content: String = "same", tags: [String: String] = ["env": "test"]) -> IncidentDraft {
        IncidentDraft(
            source: source, eventID: eventID, contentHash: Array(content.utf8), severity: severity, title: title,
            description: "A test incident", sourceVersion: "1.2", eventType: "prompt_injection",
            category: "llm", resource: Resource(type: "llm_endpoint", id: "ep-1", name: "chat", metadata: ["region": "eu"]),
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
