// How often and how far apart failed deliveries are tried again before they are dead-lettered.

/// Exponential backoff with full jitter, capped; after `maxAttempts` the work is dead-lettered.
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var baseDelaySeconds: Double
    public var maxDelaySeconds: Double

    public init(maxAttempts: Int = 8, baseDelaySeconds: Double = 1, maxDelaySeconds: Double = 300) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelaySeconds = baseDelaySeconds
        self.maxDelaySeconds = maxDelaySeconds
    }

    /// What to do after attempt number `attempt` (1-based) ended with `outcome`.
    public enum Decision: Sendable, Hashable {
        case done
        case retry(afterSeconds: Double)
        case deadLetter(reason: String)
    }

    /// Decides; `random` returns a value in 0..<1 (injected so tests are deterministic).
    public func decide(after outcome: DeliveryOutcome, attempt: Int, random: () -> Double = { Double.random(in: 0..<1) }) -> Decision {
        switch outcome {
        case .delivered:
            return .done
        case .permanent(let reason):
            return .deadLetter(reason: reason)
        case .retryable(let reason, let hint):
            guard attempt < maxAttempts else { return .deadLetter(reason: "\(reason); gave up after \(attempt) attempts") }
            // Full jitter spreads a burst of retries from many incidents instead of synchronizing them.
            let ceiling = min(maxDelaySeconds, baseDelaySeconds * Double(1 << min(attempt - 1, 30)))
            let delay = ceiling * random()
            return .retry(afterSeconds: max(delay, min(hint ?? 0, maxDelaySeconds)))
        }
    }
}
