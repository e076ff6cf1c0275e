// The errors the store reports; the service maps each case to a gRPC status.
import IncidentCore

/// Why a store operation failed. Descriptions never carry SQL text or row data.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database cannot be reached or dropped the connection; the outcome of a write in flight is unknown,
    /// so callers retry (creates are idempotent by `(source, event_id)`). Maps to UNAVAILABLE.
    case unavailable(reason: String)
    /// The write queue is full and this create was the least urgent waiting (or arriving): refused for load.
    /// Retry later with backoff; P0 is never refused this way. Maps to RESOURCE_EXHAUSTED.
    case overloaded(refusedPriority: Priority)
    /// An update named a version that is no longer current. Maps to ABORTED / FAILED_PRECONDITION.
    case versionConflict(incidentID: String, expected: Int64, actual: Int64)
    /// No incident with this id. Maps to NOT_FOUND.
    case notFound(incidentID: String)
    /// The `(source, event_id)` already fed an incident with different content. Maps to ALREADY_EXISTS.
    case duplicateConflict(existingIncidentID: String)
    /// The database refused a value (too long, out of range, violated a rule). Maps to INVALID_ARGUMENT.
    case invalid(reason: String)
    /// The database schema is newer than this binary understands; refuse to run against it.
    case schemaTooNew(database: Int, binary: Int)
    /// Anything else; a bug or a misconfigured database. Maps to INTERNAL.
    case internalFailure(reason: String)

    /// Whether trying again later may succeed.
    public var isRetryable: Bool {
        switch self {
        case .unavailable, .overloaded: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .unavailable(let reason): "database unavailable (retry): \(reason)"
        case .overloaded(let priority): "write queue full; \(priority) refused"
        case .versionConflict(let id, let expected, let actual):
            "incident \(id) is at version \(actual), not the expected \(expected)"
        case .notFound(let id): "incident \(id) not found"
        case .duplicateConflict(let id): "event id already used with different content by incident \(id)"
        case .invalid(let reason): "invalid value: \(reason)"
        case .schemaTooNew(let database, let binary):
            "database schema version \(database) is newer than this binary's \(binary); upgrade the binary"
        case .internalFailure(let reason): "internal store error: \(reason)"
        }
    }
}
