// Who is calling and whether they may: the client certificate's names matched against the configured
// identities (or, when the call carries `authorization: Bearer …`, the identity its token stands for), the
// permission the RPC needs, and the identity's token bucket when it has a rate limit.
import SignatureKeys
import Foundation
import IncidentCore
import RPC
import Synchronization

/// Turns a call's peer certificate (or its bearer token) into a permitted identity, or the status that refuses it.
package final class Authorizer: Sendable {
    private let config: ServiceConfig
    private let buckets = Mutex<[String: TokenBucket]>([:])
    private let clockStart = ContinuousClock.now
    private let tokens: BearerTokenVerifier

    init(config: ServiceConfig) {
        self.config = config
        // The server checked the keys at start (ServerOptions.resolve); keys that still fail accept nothing.
        self.tokens = (try? BearerTokenVerifier(settings: config.tokens, keys: OpenSSLSignatureKeys())) ?? .refusingAll
    }

    /// The caller's identity when it holds `permission` and is within its rate limit.
    func authorize(_ context: ServerContext, for permission: Permission) throws(RPCError) -> IdentityPolicy {
        let identity = try authenticate(context)
        do {
            try authorize(identity, for: permission)
        } catch {
            throw RPCError(error)
        }
        return identity
    }

    /// Whether `identity` (as a door authenticated it) holds `permission` and is within its rate limit.
    package func authorize(_ identity: IdentityPolicy, for permission: Permission) throws(DomainError) {
        try require(permission, of: identity)
        guard let limit = identity.rateLimit else { return }
        let now = Double((ContinuousClock.now - clockStart) / .milliseconds(1)) / 1000
        let decision = buckets.withLock { buckets in
            var bucket = buckets[identity.name] ?? TokenBucket(limit: limit, now: now)
            let decision = bucket.take(now: now)
            buckets[identity.name] = bucket
            return decision
        }
        if case .refused(let retryAfter) = decision {
            // Whole seconds, rounded up, as HTTP's Retry-After; at least 1 so clients do back off.
            let seconds = retryAfter.isFinite ? max(1, Int(retryAfter.rounded(.up))) : 60
            throw DomainError(.resourceExhausted,
                              "identity \(identity.name) is over its rate limit; retry after \(seconds)s",
                              retryAfterSeconds: seconds)
        }
    }

    /// The caller's identity when it holds `permission`, without touching its rate limit: admission asks this on
    /// the completion-queue thread, before the handler (which then calls `authorize`) runs.
    func permitted(_ context: ServerContext, for permission: Permission) throws(RPCError) -> IdentityPolicy {
        let identity = try authenticate(context)
        do {
            try require(permission, of: identity)
        } catch {
            throw RPCError(error)
        }
        return identity
    }

    private func require(_ permission: Permission, of identity: IdentityPolicy) throws(DomainError) {
        guard identity.permissions.contains(permission) else {
            throw DomainError(.permissionDenied,
                              "identity \(identity.name) lacks the \(permission.rawValue) permission")
        }
    }

    /// The token's identity when the call carries one, else the certificate's. The certificate is required
    /// either way (the TLS layer refuses calls without one); a bad token is never ignored in favour of it.
    func authenticate(_ context: ServerContext) throws(RPCError) -> IdentityPolicy {
        var values: [String] = []
        for value in context.requestMetadata.values("authorization") {
            guard case .string(let text) = value else {
                throw RPCError(.unauthenticated, "send one text authorization metadata value: Bearer <token>")
            }
            values.append(text)
        }
        do {
            return try authenticate(peer: context.peer, authorization: values)
        } catch {
            switch error.kind {
            case .unauthenticated: throw RPCError(.unauthenticated, error.message)
            case .unknownIdentity: throw RPCError(.permissionDenied, error.message)
            }
        }
    }

    /// The identity behind a door's credentials, whatever the transport: the bearer token's when `authorization`
    /// holds one (a bad token is never ignored in favour of the certificate), else the verified client
    /// certificate's. gRPC answers the failures UNAUTHENTICATED / PERMISSION_DENIED, HTTP 401 / 403.
    package func authenticate(peer: PeerIdentity?, authorization: [String]) throws(AuthenticationFailure)
        -> IdentityPolicy {
        guard !authorization.isEmpty else {
            guard let peer, let identity = config.identity(commonName: peer.commonName, uris: peer.uris,
                                                           dnsNames: peer.dnsNames) else {
                throw AuthenticationFailure(.unknownIdentity, "the client certificate is not a known identity")
            }
            return identity
        }
        guard authorization.count == 1 else {
            throw AuthenticationFailure(.unauthenticated, "send one text authorization metadata value: Bearer <token>")
        }
        let name: String
        do {
            name = try tokens.identity(forAuthorization: authorization[0])
        } catch {
            throw AuthenticationFailure(.unauthenticated, error.description)
        }
        guard let identity = config.identities.first(where: { $0.name == name }) else {
            throw AuthenticationFailure(.unknownIdentity,
                                        "the bearer token's identity \"\(name.prefix(128))\" is not a known identity")
        }
        return identity
    }

    /// Whether the caller may see encrypted payloads (checked after `authorize`, so the peer is known).
    package func mayReadPayload(_ identity: IdentityPolicy) -> Bool {
        identity.permissions.contains(.incidentReadPayload)
    }
}

/// Why a caller's credentials name no identity: no usable credential (`unauthenticated`) or one that is valid but
/// names nobody this server knows (`unknownIdentity`).
package struct AuthenticationFailure: Error, Sendable {
    /// The two ways authentication fails, which doors answer differently (401 and 403 on HTTP).
    package enum Kind: Sendable { case unauthenticated, unknownIdentity }
    package var kind: Kind
    /// Safe to show the caller: never the token itself.
    package var message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}
