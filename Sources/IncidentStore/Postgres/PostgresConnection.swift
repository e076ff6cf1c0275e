// The one owner of a libpq connection: connect, run statements and pipelines, receive notifications.
internal import CLibPQ
import Glibc

/// A statement and its parameters, sent with `PQsendQueryParams` so values never become SQL text.
struct Statement: Sendable {
    let sql: String
    let binds: [String?]
    /// When set, the statement is prepared once per connection under this name and then only executed: the
    /// server skips parsing and planning it again (the hot path of group commit).
    let preparedName: String?

    init(_ sql: String, _ binds: [(any PostgresEncodable)?] = [], preparedAs preparedName: String? = nil) {
        self.sql = sql
        self.binds = binds.map { $0?.postgresText }
        self.preparedName = preparedName
    }

    private init(sql: String, binds: [String?], preparedName: String?) {
        self.sql = sql
        self.binds = binds
        self.preparedName = preparedName
    }

    /// The same statement, prepared under `name`.
    func prepared(as name: String) -> Statement {
        Statement(sql: sql, binds: binds, preparedName: name)
    }
}

/// Cancels the statement a connection's server session runs, from any thread (`PQcancel` is thread-safe). The
/// server ignores a cancel that reaches a session between statements; one that reaches a later statement than the
/// one meant cancels that one instead, so callers must treat a cancelled statement as possibly not theirs.
final class QueryCanceller: @unchecked Sendable {
    private let cancel: OpaquePointer

    fileprivate init(_ cancel: OpaquePointer) {
        self.cancel = cancel
    }

    deinit { PQfreeCancel(cancel) }

    /// Sends the cancel request and returns once the server took it; false when it could not be sent. Blocks for
    /// a connection to the server: keep it off threads that answer callers.
    @discardableResult
    func send() -> Bool {
        var message = [CChar](repeating: 0, count: 256)
        return PQcancel(cancel, &message, Int32(message.count)) == 1
    }
}

/// A libpq connection used from exactly one thread. All I/O is non-blocking with `poll`, so every wait has a
/// deadline: a dead server yields a retryable error, never a hang.
final class PostgresConnection {
    let settings: ConnectionSettings
    private var handle: OpaquePointer?
    /// The current session's canceller, made on first use.
    private var currentCanceller: QueryCanceller?
    /// Names prepared on the current server session; a new session starts empty.
    private var prepared: Set<String> = []
    /// Names given to statements with parameters that were not named by their caller: each is prepared on first
    /// use, so the server parses and plans it once per session instead of on every call (parsing and planning
    /// were the largest share of Postgres's CPU under a create flood: job claims, settles, reads). Bounded, so
    /// statements built from varying text (list filters) cannot pile up on the server.
    private var automaticNames: [String: String] = [:]
    private static let automaticNameLimit = 256

    init(settings: ConnectionSettings) {
        self.settings = settings
    }

    deinit { close() }

    /// Whether the connection is open and libpq has not seen it fail.
    var isConnected: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// The server process serving this connection, for `pg_terminate_backend` in tests and operations.
    var backendPID: Int32 { handle.map { PQbackendPID($0) } ?? 0 }

    /// Opens the connection if it is not open and healthy.
    func connectIfNeeded() throws {
        if isConnected { return }
        close()
        let pairs = settings.keywordValues
        let connection = withCStringArray(pairs.map(\.0) + [nil]) { keywords in
            withCStringArray(pairs.map(\.1) + [nil]) { values in
                PQconnectdbParams(keywords, values, 1)
            }
        }
        guard let connection else { throw PostgresError(.connect, message: "out of memory opening connection") }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(.connect, message: message.trimmingTrailingNewlines)
        }
        guard PQsetnonblocking(connection, 1) == 0 else {
            PQfinish(connection)
            throw PostgresError(.connection, message: "cannot make the connection non-blocking")
        }
        handle = connection
    }

    /// Drops the connection; the next use reconnects.
    func close() {
        if let handle { PQfinish(handle) }
        handle = nil
        currentCanceller = nil
        prepared.removeAll()
    }

    /// Stops the statement this session runs, from another thread; nil when not connected.
    var canceller: QueryCanceller? {
        if currentCanceller == nil, let handle, let cancel = PQgetCancel(handle) {
            currentCanceller = QueryCanceller(cancel)
        }
        return currentCanceller
    }

    /// Runs one statement and returns its rows; a server error is thrown.
    @discardableResult
    func query(_ sql: String, _ binds: [(any PostgresEncodable)?] = []) throws -> QueryResult {
        try run(Statement(sql, binds))
    }

    /// Runs one statement and returns its rows; a server error is thrown.
    @discardableResult
    func run(_ statement: Statement) throws -> QueryResult {
        let statement = named(statement)
        let handle = try openHandle()
        let deadline = ContinuousClock.now + settings.operationTimeout
        if statement.preparedName != nil {
            try prepareIfNeeded([statement], on: handle, deadline: deadline)
            try send(statement, on: handle)
        } else if statement.binds.isEmpty {
            // The simple protocol: allows several statements in one string (migrations); no values travel in it.
            guard PQsendQuery(handle, statement.sql) == 1 else { throw connectionFailure(handle) }
        } else {
            try send(statement, on: handle)
        }
        try flush(handle, deadline: deadline)
        var outcome: Result<QueryResult, PostgresError>?
        while let result = try nextResult(handle, deadline: deadline) {
            let converted = convert(result, on: handle)
            PQclear(result)
            if case .failure = outcome {} else { outcome = converted }
        }
        if case .failure(let error) = outcome, error.kind == .connection { close() }
        guard let outcome else { return QueryResult(columns: [], rows: [], affectedRows: 0) }
        return try outcome.get()
    }

    /// Sends all statements in one pipeline segment (one round trip) and returns each one's outcome in order.
    /// After the first failure the server skips the rest (`pipelineAborted`). A lost connection is thrown.
    func pipeline(_ statements: [Statement]) throws -> [Result<QueryResult, PostgresError>] {
        let statements = statements.map(named)
        let handle = try openHandle()
        let deadline = ContinuousClock.now + settings.operationTimeout
        try prepareIfNeeded(statements, on: handle, deadline: deadline)
        guard PQenterPipelineMode(handle) == 1 else {
            throw PostgresError(.connection, message: "cannot enter pipeline mode")
        }
        do {
            for statement in statements { try send(statement, on: handle) }
            guard PQpipelineSync(handle) == 1 else { throw connectionFailure(handle) }
            try flush(handle, deadline: deadline)
            var outcomes: [Result<QueryResult, PostgresError>] = []
            outcomes.reserveCapacity(statements.count)
            for _ in statements {
                guard let result = try nextResult(handle, deadline: deadline) else {
                    throw connectionFailure(handle)
                }
                outcomes.append(convert(result, on: handle))
                PQclear(result)
                // Each statement's results end with a NULL.
                while let extra = try nextResult(handle, deadline: deadline) { PQclear(extra) }
            }
            guard let sync = try nextResult(handle, deadline: deadline) else { throw connectionFailure(handle) }
            let status = PQresultStatus(sync)
            PQclear(sync)
            guard status == PGRES_PIPELINE_SYNC else { throw connectionFailure(handle) }
            guard PQexitPipelineMode(handle) == 1 else { throw connectionFailure(handle) }
            if let lost = outcomes.lazy.compactMap({ $0.failure }).first(where: { $0.kind == .connection }) {
                close()
                throw lost
            }
            return outcomes
        } catch {
            close()
            throw error
        }
    }

    /// Whether the session is inside a transaction block (open or failed), so a caller knows to roll back.
    var isInTransaction: Bool {
        guard let handle else { return false }
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// Waits up to `timeout` for the socket to become readable, then returns the channels notified since the
    /// last call. Throws when the connection is lost.
    func awaitNotifications(timeout: Duration) throws -> [String] {
        let handle = try openHandle()
        var channels = drainNotifications(handle)
        if !channels.isEmpty { return channels }
        if try waitForSocket(handle, events: Int16(POLLIN), deadline: ContinuousClock.now + timeout,
                             timeoutIsError: false) {
            guard PQconsumeInput(handle) == 1 else { throw connectionFailure(handle) }
        }
        channels = drainNotifications(handle)
        if PQstatus(handle) != CONNECTION_OK { throw connectionFailure(handle) }
        return channels
    }

    /// `statement` with a name to prepare it under when it has parameters and none, while names remain.
    private func named(_ statement: Statement) -> Statement {
        guard statement.preparedName == nil, !statement.binds.isEmpty else { return statement }
        if let name = automaticNames[statement.sql] { return statement.prepared(as: name) }
        guard automaticNames.count < Self.automaticNameLimit else { return statement }
        let name = "im_auto_\(automaticNames.count)"
        automaticNames[statement.sql] = name
        return statement.prepared(as: name)
    }

    // MARK: - libpq plumbing

    private func openHandle() throws -> OpaquePointer {
        try connectIfNeeded()
        guard let handle else { throw PostgresError(.connection, message: "not connected") }
        return handle
    }

    private func send(_ statement: Statement, on handle: OpaquePointer) throws {
        let sent = withCStringArray(statement.binds) { values in
            if let name = statement.preparedName {
                PQsendQueryPrepared(handle, name, Int32(statement.binds.count), values, nil, nil, 0)
            } else {
                PQsendQueryParams(handle, statement.sql, Int32(statement.binds.count), nil, values, nil, nil, 0)
            }
        }
        guard sent == 1 else { throw connectionFailure(handle) }
    }

    /// Prepares the named statements this session has not seen yet (outside any pipeline).
    private func prepareIfNeeded(_ statements: [Statement], on handle: OpaquePointer,
                                 deadline: ContinuousClock.Instant) throws {
        for statement in statements {
            guard let name = statement.preparedName, !prepared.contains(name) else { continue }
            guard PQsendPrepare(handle, name, statement.sql, Int32(statement.binds.count), nil) == 1 else {
                throw connectionFailure(handle)
            }
            try flush(handle, deadline: deadline)
            var failure: PostgresError?
            while let result = try nextResult(handle, deadline: deadline) {
                if case .failure(let error) = convert(result, on: handle) { failure = failure ?? error }
                PQclear(result)
            }
            if let failure {
                if failure.kind == .connection { close() }
                throw failure
            }
            prepared.insert(name)
        }
    }

    /// Pushes buffered output, reading input meanwhile so a server busy writing results cannot deadlock us.
    private func flush(_ handle: OpaquePointer, deadline: ContinuousClock.Instant) throws {
        while true {
            let status = PQflush(handle)
            if status == 0 { return }
            if status < 0 { throw connectionFailure(handle) }
            if try waitForSocket(handle, events: Int16(POLLIN | POLLOUT), deadline: deadline) {
                guard PQconsumeInput(handle) == 1 else { throw connectionFailure(handle) }
            }
        }
    }

    /// The next result, waiting for input without blocking past the deadline; nil ends a statement's results.
    private func nextResult(_ handle: OpaquePointer, deadline: ContinuousClock.Instant) throws -> OpaquePointer? {
        while PQisBusy(handle) == 1 {
            _ = try waitForSocket(handle, events: Int16(POLLIN), deadline: deadline)
            guard PQconsumeInput(handle) == 1 else { throw connectionFailure(handle) }
        }
        return PQgetResult(handle)
    }

    /// Polls the socket until it is ready (true) or the deadline passes: then either false, or when the timeout
    /// is an error, the connection is dropped and a timeout thrown.
    private func waitForSocket(_ handle: OpaquePointer, events: Int16, deadline: ContinuousClock.Instant,
                               timeoutIsError: Bool = true) throws -> Bool {
        let socket = PQsocket(handle)
        guard socket >= 0 else { throw connectionFailure(handle) }
        var descriptor = pollfd(fd: socket, events: events, revents: 0)
        while true {
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero {
                guard timeoutIsError else { return false }
                close()
                throw PostgresError(.timeout, message: "no answer from the database in time")
            }
            let (seconds, attoseconds) = remaining.components
            let millis = Int32(min(seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1, 1000))
            let ready = poll(&descriptor, 1, millis)
            if ready > 0 { return true }
            if ready < 0 && errno != EINTR { throw PostgresError(.connection, message: "poll failed") }
        }
    }

    private func convert(_ result: OpaquePointer, on handle: OpaquePointer) -> Result<QueryResult, PostgresError> {
        let status = PQresultStatus(result)
        switch status {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_SINGLE_TUPLE:
            let fieldCount = Int(PQnfields(result))
            let rowCount = Int(PQntuples(result))
            let columns = (0..<fieldCount).map { String(cString: PQfname(result, Int32($0))) }
            var rows: [[String?]] = []
            rows.reserveCapacity(rowCount)
            for row in 0..<rowCount {
                rows.append((0..<fieldCount).map { field in
                    PQgetisnull(result, Int32(row), Int32(field)) == 1
                        ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(field)))
                })
            }
            let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
            return .success(QueryResult(columns: columns, rows: rows, affectedRows: affected))
        case PGRES_PIPELINE_ABORTED:
            return .failure(PostgresError(.pipelineAborted, message: "skipped after an earlier failure"))
        default:
            let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
                ?? String(cString: PQresultErrorMessage(result))
            let lost = PQstatus(handle) != CONNECTION_OK || sqlState == nil
            return .failure(PostgresError(lost ? .connection : .server, sqlState: sqlState, message: message))
        }
    }

    private func connectionFailure(_ handle: OpaquePointer) -> PostgresError {
        let message = String(cString: PQerrorMessage(handle)).trimmingTrailingNewlines
        close()
        return PostgresError(.connection, message: message.isEmpty ? "connection lost" : message)
    }

    private func drainNotifications(_ handle: OpaquePointer) -> [String] {
        var channels: [String] = []
        while let notification = PQnotifies(handle) {
            channels.append(String(cString: notification.pointee.relname))
            PQfreemem(notification)
        }
        return channels
    }
}

/// Lends `body` a NULL-safe C array of C strings that lives exactly as long as the call.
private func withCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let owned: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
    defer { owned.forEach { free($0) } }
    let borrowed = owned.map { UnsafePointer($0) }
    return borrowed.withUnsafeBufferPointer { body($0.baseAddress!) }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

extension String {
    fileprivate var trimmingTrailingNewlines: String {
        var text = self
        while text.last?.isNewline == true { text.removeLast() }
        return text
    }
}
