import Testing
@testable import IncidentCore

@Suite struct TokenBucketTests {
    @Test func allowsTheBurstThenRefusesWithARetryHint() {
        var bucket = TokenBucket(limit: RateLimit(requestsPerMinute: 60, burst: 3), now: 0)
        #expect(bucket.take(now: 0) == .allowed)
        #expect(bucket.take(now: 0) == .allowed)
        #expect(bucket.take(now: 0) == .allowed)
        #expect(bucket.take(now: 0) == .refused(retryAfterSeconds: 1))
    }

    @Test func refillsAtTheSustainedRateUpToTheBurst() {
        var bucket = TokenBucket(limit: RateLimit(requestsPerMinute: 1000, burst: 100), now: 0)
        for _ in 0..<100 { #expect(bucket.take(now: 0) == .allowed) }
        #expect(bucket.take(now: 0) != .allowed)
        // 1000/min is 16.67/s: after 0.6 s ten tokens are back.
        var allowed = 0
        for _ in 0..<20 where bucket.take(now: 0.6) == .allowed { allowed += 1 }
        #expect(allowed == 10)
        // A long quiet period refills only to the burst.
        var afterQuiet = 0
        for _ in 0..<500 where bucket.take(now: 3600) == .allowed { afterQuiet += 1 }
        #expect(afterQuiet == 100)
    }
}
