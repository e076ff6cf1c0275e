// How domain and store failures become gRPC statuses. Messages name what the caller can fix and never
// carry SQL, row data or payloads. Domain refusals go through one table with a column per door, so an HTTP door
// answers the same refusal the same way.
import IncidentCore
import IncidentStore
import RPC

/// The answer each door gives a domain refusal: one row per `DomainError.Code`.
package enum DomainErrorAnswer {
    /// The gRPC status and the HTTP status code of `code`.
    static func row(_ code: DomainError.Code) -> (grpc: StatusCode, http: Int) {
        switch code {
        case .invalidArgument: (.invalidArgument, 400)
        case .permissionDenied: (.permissionDenied, 403)
        case .notFound: (.notFound, 404)
        case .aborted: (.aborted, 409)
        case .alreadyExists: (.alreadyExists, 409)
        case .failedPrecondition: (.failedPrecondition, 412)
        case .resourceExhausted: (.resourceExhausted, 429)
        case .unavailable: (.unavailable, 503)
        }
    }

    /// The HTTP status code of `code`, for HTTP doors.
    package static func httpStatus(_ code: DomainError.Code) -> Int { row(code).http }
}

extension RPCError {
    /// The status for a domain refusal, through `DomainErrorAnswer`; a retry delay travels as `retry-after`
    /// trailing metadata (whole seconds, as HTTP's Retry-After).
    init(_ error: DomainError) {
        var trailers = Metadata()
        if let seconds = error.retryAfterSeconds { trailers.addString(String(seconds), forKey: "retry-after") }
        self.init(DomainErrorAnswer.row(error.code).grpc, error.message, trailingMetadata: trailers)
    }
}

extension RPCError {
    /// The status for an error thrown by the intake, the store or below; `RPCError`s pass through unchanged. Store
    /// failures a caller can act on go through `DomainError(StoreError)`, the same refusals an HTTP door answers.
    static func from(_ error: any Error, log: ServerLog, method: String) -> RPCError {
        if let rpc = error as? RPCError { return rpc }
        if let domain = error as? DomainError { return RPCError(domain) }
        // A caller that went away (a stream closed by its client) is not a server problem.
        if error is CancellationError { return RPCError(.cancelled, "the call was cancelled") }
        if let validation = error as? EventValidationError { return RPCError(DomainError(validation)) }
        guard let store = error as? StoreError else {
            log.error("\(method): unexpected error \(type(of: error))")
            return RPCError(.internal, "internal error")
        }
        // The database's own text may name tables or values: it goes to the log, never to the caller.
        switch store {
        case .unavailable, .schemaTooNew, .internalFailure: log.error("\(method): \(store)")
        default: break
        }
        return DomainError(store).map(RPCError.init) ?? RPCError(.internal, "internal error")
    }
}
