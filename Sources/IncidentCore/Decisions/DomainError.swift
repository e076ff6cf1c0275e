// What a decision refuses, in the domain's words: a kind any front door can translate (gRPC status, HTTP code) and
// a message that names the field the caller can fix. Messages never carry secrets, payloads or unredacted PII.

/// A refused request or change, with the field to fix; each door maps `code` to its own status (one table).
public struct DomainError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Why the request was refused, independent of any transport.
    public enum Code: String, Sendable, Hashable, CaseIterable {
        /// The request itself is wrong (a field is missing, malformed or out of range).
        case invalidArgument
        /// The incident or action named does not exist.
        case notFound
        /// The incident is not in a state that allows the change (a status move, an expired approval).
        case failedPrecondition
        /// The incident changed since the caller read it; read it again and retry.
        case aborted
        /// The caller is known but may not do this.
        case permissionDenied
        /// The event id was already used with different content.
        case alreadyExists
        /// The caller (or the server) is over a limit; retry later.
        case resourceExhausted
        /// A dependency (the database) is down; retry.
        case unavailable
    }

    public var code: Code
    /// For the caller: starts with the field (`status: cannot move from …`) where there is one.
    public var message: String
    /// Whole seconds the caller should wait before retrying (rate limits), when known.
    public var retryAfterSeconds: Int?

    public init(_ code: Code, _ message: String, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
