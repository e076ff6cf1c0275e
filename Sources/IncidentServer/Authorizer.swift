// Who is calling and whether they may: the client certificate's names matched against the configured
// identities, the permission the RPC needs, and the identity's token bucket when it has a rate limit.
import Foundation
import IncidentCore
import RPC
import Synchronization

/// Turns a call's peer certificate into a permitted identity, or the status that refuses it.
final class Authorizer: Sendable {
    private let config: ServiceConfig
    private let buckets = Mutex<[String: TokenBucket]>([:])
    private let clockStart = ContinuousClock.now

    init(config: ServiceConfig) {
        self.config = config
    }

    /// The caller's identity when it holds `permission` and is within its rate limit.
    func authorize(_ context: ServerContext, for permission: Permission) throws(RPCError) -> IdentityPolicy {
        guard let peer = context.peer,
              let identity = config.identity(commonName: peer.commonName, uris: peer.uris, dnsNames: peer.dnsNames)
        else {
            throw RPCError(.permissionDenied, "the client certificate is not a known identity")
        }
        guard identity.permissions.contains(permission) else {
            throw RPCError(.permissionDenied, "identity \(identity.name) lacks the \(permission.rawValue) permission")
        }
        if let limit = identity.rateLimit {
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
                var trailers = Metadata()
                trailers.addString(String(seconds), forKey: "retry-after")
                throw RPCError(.resourceExhausted,
                               "identity \(identity.name) is over its rate limit; retry after \(seconds)s",
                               trailingMetadata: trailers)
            }
        }
        return identity
    }

    /// Whether the caller may see encrypted payloads (checked after `authorize`, so the peer is known).
    func mayReadPayload(_ identity: IdentityPolicy) -> Bool {
        identity.permissions.contains(.incidentReadPayload)
    }
}
