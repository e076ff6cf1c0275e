// Versioned schema changes kept in the package, and the list the binary knows.

/// One schema change: applied once, in version order, inside a transaction.
struct Migration: Sendable {
    let version: Int
    let name: String
    let sql: String

    /// Every migration this binary knows, oldest first. Append only: never edit one that has shipped.
    static let all: [Migration] = [.v1, .v2, .v3, .v4, .v5, .v6, .v7, .v8, .v9, .v10]

    /// The newest schema this binary understands.
    static var latestVersion: Int { all.last?.version ?? 0 }
}
