// A circuit breaker per integration or executor: after a run of failures, stop calling it for a cool-off, so a
// dead endpoint is not hammered by every queued job and its jobs wait (they retry later) instead of burning their
// attempts. After the cool-off one call probes it; success closes the breaker, failure opens it again.
import Synchronization

/// The breaker's state machine; time comes in as an argument so it is tested without clocks.
public struct CircuitBreaker: Sendable, Hashable {
    /// Consecutive failures that open the breaker.
    public let threshold: Int
    /// Seconds an open breaker refuses calls.
    public let coolOffSeconds: Double
    private var failures = 0
    private var openUntil: Double?
    private var probing = false

    public init(threshold: Int, coolOffSeconds: Double) {
        self.threshold = max(1, threshold)
        self.coolOffSeconds = coolOffSeconds
    }

    /// Whether a call may go out at `now`; when not, how many seconds until the next probe.
    public mutating func permit(now: Double) -> (allowed: Bool, retryAfterSeconds: Double) {
        guard let until = openUntil else { return (true, 0) }
        if now < until || probing { return (false, max(0, until - now)) }
        // Cool-off over: exactly one caller probes.
        probing = true
        return (true, 0)
    }

    /// Records how a permitted call went.
    public mutating func record(success: Bool, now: Double) {
        probing = false
        if success {
            failures = 0
            openUntil = nil
            return
        }
        failures += 1
        if failures >= threshold || openUntil != nil { openUntil = now + coolOffSeconds }
    }

    /// True while calls are refused.
    public func isOpen(now: Double) -> Bool {
        guard let until = openUntil else { return false }
        return now < until || probing
    }
}

/// Wraps a delivery with one breaker per integration (`pagerduty`, `remediation:block_user`, ...). Only failures
/// that say the endpoint is unwell count (timeouts, 5xx, 429, connection errors); a 4xx is about the request.
public final class BreakerDelivery: HTTPDelivery {
    private let inner: any HTTPDelivery
    private let breakers = Mutex<[String: CircuitBreaker]>([:])
    private let template: CircuitBreaker
    private let clock: @Sendable () -> Double

    public init(_ inner: any HTTPDelivery, threshold: Int, coolOffSeconds: Double,
                clock: @escaping @Sendable () -> Double) {
        self.inner = inner
        self.template = CircuitBreaker(threshold: threshold, coolOffSeconds: coolOffSeconds)
        self.clock = clock
    }

    public func deliver(_ request: OutboundRequest) async -> DeliveryOutcome {
        await exchange(request).outcome
    }

    public func exchange(_ request: OutboundRequest) async -> HTTPAnswer {
        let key = request.integration
        let permit = breakers.withLock { breakers in
            var breaker = breakers[key] ?? template
            defer { breakers[key] = breaker }
            return breaker.permit(now: clock())
        }
        guard permit.allowed else {
            return HTTPAnswer(outcome: .retryable(reason: "circuit open for \(key)",
                                                  retryAfterSeconds: permit.retryAfterSeconds))
        }
        let answer = await inner.exchange(request)
        let success: Bool
        switch answer.outcome {
        case .delivered, .permanent: success = true
        case .retryable: success = false
        }
        breakers.withLock { breakers in
            var breaker = breakers[key] ?? template
            breaker.record(success: success, now: clock())
            breakers[key] = breaker
        }
        return answer
    }

    /// Whether the breaker of `integration` refuses calls now.
    public func isOpen(_ integration: String) -> Bool {
        breakers.withLock { $0[integration]?.isOpen(now: clock()) ?? false }
    }
}
