// What the store's failures mean to a caller, once for every door: the ones a caller can act on become domain
// refusals (answered through DomainErrorAnswer like any other); the rest are the server's own failures.
import IncidentCore
import IncidentStore

extension DomainError {
    /// The refusal a caller sees for `failure`; nil for failures that are the server's (an internal error, a
    /// schema from a newer binary), which no door explains beyond "internal error".
    package init?(_ failure: StoreError) {
        switch failure {
        case .duplicateConflict(let existing):
            self.init(.alreadyExists, "event_id was already used with different content by incident \(existing)")
        case .notFound(let id):
            self.init(.notFound, "incident \(id) not found")
        case .versionConflict(let id, let expected, let actual):
            self.init(.aborted, "incident \(id) is at version \(actual), not the expected \(expected); read it again")
        case .overloaded(let priority):
            self.init(.resourceExhausted, "write queue full; \(priority) refused; retry with backoff")
        case .unavailable:
            self.init(.unavailable, "the database is unavailable; retry")
        case .invalid(let reason):
            self.init(.invalidArgument, reason)
        case .schemaTooNew, .internalFailure:
            return nil
        }
    }

    /// An event the validator refused, as a refusal naming its field.
    package init(_ failure: EventValidationError) {
        self.init(.invalidArgument, failure.description)
    }
}
