// How domain and store failures become gRPC statuses. Messages name what the caller can fix and never
// carry SQL, row data or payloads.
import IncidentCore
import IncidentStore
import RPC

extension RPCError {
    /// The status for an error thrown by the store or below; `RPCError`s pass through unchanged.
    static func from(_ error: any Error, log: ServerLog, method: String) -> RPCError {
        if let rpc = error as? RPCError { return rpc }
        // A caller that went away (a stream closed by its client) is not a server problem.
        if error is CancellationError { return RPCError(.cancelled, "the call was cancelled") }
        if let validation = error as? EventValidationError {
            return RPCError(.invalidArgument, validation.description)
        }
        guard let store = error as? StoreError else {
            log.error("\(method): unexpected error \(type(of: error))")
            return RPCError(.internal, "internal error")
        }
        switch store {
        case .duplicateConflict(let existing):
            return RPCError(.alreadyExists,
                            "event_id was already used with different content by incident \(existing)")
        case .notFound(let id):
            return RPCError(.notFound, "incident \(id) not found")
        case .versionConflict(let id, let expected, let actual):
            return RPCError(.aborted,
                            "incident \(id) is at version \(actual), not the expected \(expected); read it again")
        case .overloaded(let priority):
            return RPCError(.resourceExhausted, "write queue full; \(priority) refused; retry with backoff")
        case .unavailable:
            log.error("\(method): \(store)")
            return RPCError(.unavailable, "the database is unavailable; retry")
        case .invalid(let reason):
            return RPCError(.invalidArgument, reason)
        case .schemaTooNew, .internalFailure:
            log.error("\(method): \(store)")
            return RPCError(.internal, "internal error")
        }
    }
}
