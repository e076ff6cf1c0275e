// Brings the database schema up to date at start-up, safely with several replicas starting at once.

/// Applies missing migrations under a session advisory lock and refuses a schema newer than the binary.
enum Migrator {
    /// An arbitrary constant naming our advisory lock ("incident" in ASCII).
    static let advisoryLockKey: Int64 = 0x696E_6369_6465_6E74

    /// Returns the schema version after migrating. Concurrent callers wait for the lock and then find
    /// nothing left to do.
    static func migrate(_ connection: PostgresConnection, migrations: [Migration] = Migration.all) throws -> Int {
        try connection.query("SELECT pg_advisory_lock($1)", [advisoryLockKey])
        defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [advisoryLockKey]) }
        try connection.query("""
            CREATE TABLE IF NOT EXISTS schema_versions (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let current = try connection.query("SELECT coalesce(max(version), 0) AS v FROM schema_versions")
            .first!.decode("v", as: Int.self)
        let known = migrations.last?.version ?? 0
        if current > known { throw StoreError.schemaTooNew(database: current, binary: known) }
        for migration in migrations where migration.version > current {
            try connection.query("BEGIN")
            do {
                try connection.query(migration.sql)
                try connection.query("INSERT INTO schema_versions (version, name) VALUES ($1, $2)",
                                     [migration.version, migration.name])
                try connection.query("COMMIT")
            } catch {
                if connection.isConnected { _ = try? connection.query("ROLLBACK") }
                throw error
            }
        }
        return max(current, known)
    }
}
