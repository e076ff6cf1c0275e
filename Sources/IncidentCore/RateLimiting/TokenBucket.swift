// Per-identity request budget: `requests_per_minute` refills continuously up to `burst`.
// A pure value: the caller passes the time, so tests need no clock and no sleeping.

/// A rate limit as the config states it.
public struct RateLimit: Sendable, Hashable {
    /// Sustained rate.
    public var requestsPerMinute: Double
    /// How many requests may arrive at once after a quiet period.
    public var burst: Double

    public init(requestsPerMinute: Double, burst: Double) {
        self.requestsPerMinute = requestsPerMinute
        self.burst = max(burst, 1)
    }
}

/// A token bucket for one identity.
public struct TokenBucket: Sendable {
    /// The outcome of asking for one request's token.
    public enum Decision: Sendable, Equatable {
        case allowed
        /// Refused; a token will be available after this many seconds.
        case refused(retryAfterSeconds: Double)
    }

    public let limit: RateLimit
    private var tokens: Double
    private var lastRefill: Double

    /// A full bucket at time `now` (seconds on any monotonic clock).
    public init(limit: RateLimit, now: Double) {
        self.limit = limit
        self.tokens = limit.burst
        self.lastRefill = now
    }

    /// Takes one token if there is one.
    public mutating func take(now: Double) -> Decision {
        let perSecond = limit.requestsPerMinute / 60
        if now > lastRefill {
            tokens = min(limit.burst, tokens + (now - lastRefill) * perSecond)
            lastRefill = now
        }
        if tokens >= 1 {
            tokens -= 1
            return .allowed
        }
        guard perSecond > 0 else { return .refused(retryAfterSeconds: .infinity) }
        return .refused(retryAfterSeconds: (1 - tokens) / perSecond)
    }
}
