// What went wrong talking to Postgres, before the store turns it into a StoreError.

/// A failure reported by libpq or the server. The server's message stays here, for debugging only.
struct PostgresError: Error, Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        /// A new connection could not be made (server down, wrong address or credentials, TLS refused).
        case connect
        /// The connection is gone; it must be rebuilt.
        case connection
        /// The server rejected a statement; `sqlState` says why.
        case server
        /// A statement did not run because an earlier one in the same pipeline failed.
        case pipelineAborted
        /// No answer within the operation timeout; the connection is dropped.
        case timeout
        /// A row did not decode into the Swift type asked for.
        case decoding
    }

    let kind: Kind
    /// The five-character SQLSTATE for server errors, e.g. `23505`.
    let sqlState: String?
    /// libpq's or the server's primary message. May name values: never shown to clients.
    let message: String

    init(_ kind: Kind, sqlState: String? = nil, message: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
    }

    var description: String { "\(kind) \(sqlState ?? "-"): \(message)" }

    /// Errors caused by one statement's data: failing only that statement's caller is right.
    var isDataError: Bool {
        guard kind == .server, let sqlState else { return false }
        return sqlState.hasPrefix("22") || sqlState.hasPrefix("23") || sqlState == "P0001"
    }

    /// The server cancelled the statement (`query_canceled`: a cancel request or a statement timeout).
    var isCancellation: Bool { kind == .server && sqlState == "57014" }

    /// Errors where running the same transaction again can succeed.
    var isTransient: Bool {
        switch kind {
        case .connect, .connection, .timeout: return true
        case .server:
            guard let sqlState else { return false }
            // serialization failure, deadlock, admin shutdown, crash shutdown, cannot connect now, too many connections
            return ["40001", "40P01", "57P01", "57P02", "57P03", "53300"].contains(sqlState) || sqlState.hasPrefix("08")
        default: return false
        }
    }

    /// The client-safe error: no SQL, no values.
    var storeError: StoreError {
        switch kind {
        case .connect:
            return .unavailable(reason: "cannot connect to the database; check that it runs and its address, "
                + "credentials and TLS settings")
        case .timeout: return .unavailable(reason: "database timed out")
        default: if isTransient { return .unavailable(reason: "connection lost") }
        }
        if isDataError { return .invalid(reason: "the database rejected a value (SQLSTATE \(sqlState ?? "?"))") }
        return .internalFailure(reason: "database error (SQLSTATE \(sqlState ?? "?"))")
    }
}
