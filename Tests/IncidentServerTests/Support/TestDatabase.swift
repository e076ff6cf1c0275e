// Fresh databases on the Postgres that `make test` started (DATABASE_URL), one per test; the same approach
// and naming as Tests/IncidentStoreTests/Support, so either suite's clean-up drops the other's leftovers.
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

    static let processStart = Int(Date().timeIntervalSince1970)

    /// Drops a test database, ending the connections still using it.
    static func drop(_ settings: ConnectionSettings) async throws {
        guard let url, let name = settings.databaseName else { throw Missing() }
        // Instant on an idle cluster, but ~30 s was seen while the whole suite writes to it on a busy 2-core machine.
        let admin = ConnectionWorker(settings: ConnectionSettings(url: url, operationTimeout: .seconds(120)),
                                     name: "test-admin", capacity: 10)
        defer { admin.stop() }
        let statement = Statement("DROP DATABASE \(name) WITH (FORCE)", [])
        _ = try await admin.run { try $0.run(statement) }
    }

    /// Creates an empty database and returns settings that reach it.
    static func fresh() async throws -> ConnectionSettings {
        guard let url else { throw Missing() }
        let name = "im_test_\(processStart)_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let admin = ConnectionWorker(settings: ConnectionSettings(url: url), name: "test-admin", capacity: 10)
        defer { admin.stop() }
        // The name is ours, made of digits and hex: safe to place in the statement.
        let statement = Statement("CREATE DATABASE \(name)", [])
        _ = try await admin.run { try $0.run(statement) }
        return ConnectionSettings(url: url, databaseName: name, operationTimeout: .seconds(60))
    }
}
