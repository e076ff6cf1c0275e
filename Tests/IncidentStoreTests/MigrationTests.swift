// Migrations: idempotent, safe to run concurrently, and refusing a newer schema.
import Testing
@testable import IncidentStore

@Suite("Migrations", .enabled(if: TestDatabase.shouldRun))
struct MigrationTests {
    @Test("several replicas migrating at once apply each migration exactly once")
    func concurrentMigrations() async throws {
        let settings = try await TestDatabase.fresh()
        let versions = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 { group.addTask { try await IncidentStore.migrate(settings) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(versions == Array(repeating: IncidentStore.schemaVersion, count: 4))
        let sql = SQLClient(settings)
        defer { sql.close() }
        #expect(try await sql.scalar("SELECT count(*) FROM schema_versions", as: Int.self) == Migration.all.count)
        // And once more, later: nothing to do, nothing breaks.
        #expect(try await IncidentStore.migrate(settings) == IncidentStore.schemaVersion)
        #expect(try await sql.scalar("SELECT count(*) FROM schema_versions", as: Int.self) == Migration.all.count)
    }

    @Test("a database migrated by a newer binary is refused")
    func refusesNewerSchema() async throws {
        let settings = try await TestDatabase.fresh()
        try await IncidentStore.migrate(settings)
        let sql = SQLClient(settings)
        defer { sql.close() }
        try await sql.execute("INSERT INTO schema_versions (version, name) VALUES ($1, 'from the future')",
                              [IncidentStore.schemaVersion + 1])
        await #expect(throws: StoreError.schemaTooNew(database: IncidentStore.schemaVersion + 1,
                                                     binary: IncidentStore.schemaVersion)) {
            _ = try await IncidentStore.open(StoreConfiguration(connection: settings))
        }
    }
}
