// PagerDuty takes about 120 events a minute per integration key and drops what it answers 429.
// The budget keeps us under that, and keeps the last part of it for P0: a flood of P1 pages can
// never use up the room a P0 page needs.
import IncidentCore

/// A per-key send budget in which P0 goes first.
public struct OutboundBudget: Sendable {
    private var buckets: [String: TokenBucket] = [:]
    private let limit: RateLimit
    /// Tokens only P0 may use.
    private let p0Reserve: Double

    public init(eventsPerMinute: Double = 120, burst: Double = 20, p0Reserve: Double = 5) {
        limit = RateLimit(requestsPerMinute: eventsPerMinute, burst: burst)
        self.p0Reserve = min(p0Reserve, burst - 1)
    }

    /// Takes room for one event to `key` at `priority`; `.refused` says when to try again.
    public mutating func take(key: String, priority: Priority, now: Double) -> TokenBucket.Decision {
        var bucket = buckets[key] ?? TokenBucket(limit: limit, now: now)
        defer { buckets[key] = bucket }
        if priority == .p0 { return bucket.take(now: now) }
        // Others must leave the reserve: peek by taking the reserve plus one, then give the reserve back.
        var probe = bucket
        for _ in 0..<Int(p0Reserve) {
            if case .refused(let after) = probe.take(now: now) { return .refused(retryAfterSeconds: after) }
        }
        if case .refused(let after) = probe.take(now: now) { return .refused(retryAfterSeconds: after) }
        return bucket.take(now: now)
    }
}
