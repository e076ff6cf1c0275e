// Why a bearer token was not accepted, in words a caller can act on. Never carries the token itself.

/// A refused bearer token; the service answers UNAUTHENTICATED with `description`.
public struct TokenRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem, for tests and logs.
    public enum Reason: String, Sendable, Hashable {
        case malformedHeader, malformed, unknownKey, algorithm, signature, expired, notYetValid, issuer, audience
        case identityClaim, notAccepted, lifetime, identityNotAllowed
    }

    public var reason: Reason
    public var detail: String

    public init(_ reason: Reason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    public var description: String {
        switch reason {
        case .malformed: "bearer token: not a valid JWT: it \(detail)"
        case .malformedHeader: detail
        default: "bearer token: \(detail)"
        }
    }
}
