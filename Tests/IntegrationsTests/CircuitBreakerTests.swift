// The circuit breaker per integration: opens after consecutive failures, probes once after its cool-off, and
// keeps one endpoint's trouble from stopping calls to another.
import Foundation
import HTTPTestSupport
@testable import Integrations
import Testing

@Suite struct CircuitBreakerTests {
    @Test func opensAfterConsecutiveFailuresAndProbesOnceAfterTheCoolOff() {
        var breaker = CircuitBreaker(threshold: 3, coolOffSeconds: 10)
        for second in 0..<2 {
            #expect(breaker.permit(now: Double(second)).allowed)
            breaker.record(success: false, now: Double(second))
        }
        #expect(breaker.permit(now: 2).allowed)
        breaker.record(success: false, now: 2)
        // Open: refused until the cool-off ends, saying when.
        let refused = breaker.permit(now: 5)
        #expect(!refused.allowed)
        #expect(refused.retryAfterSeconds == 7)
        // One probe after the cool-off; others wait for its outcome.
        #expect(breaker.permit(now: 12).allowed)
        #expect(!breaker.permit(now: 12.5).allowed)
        breaker.record(success: false, now: 13)
        #expect(!breaker.permit(now: 20).allowed)
        #expect(breaker.permit(now: 23).allowed)
        breaker.record(success: true, now: 23)
        #expect(breaker.permit(now: 23.1).allowed)
        #expect(!breaker.isOpen(now: 23.1))
    }

    @Test func aSuccessResetsTheCount() {
        var breaker = CircuitBreaker(threshold: 2, coolOffSeconds: 10)
        breaker.record(success: false, now: 0)
        breaker.record(success: true, now: 1)
        breaker.record(success: false, now: 2)
        #expect(breaker.permit(now: 3).allowed)
    }

    @Test func anOpenBreakerStopsCallsToThatEndpointOnly() async throws {
        let receiver = try LoopbackHTTPReceiver()
        defer { receiver.stop() }
        receiver.script(Array(repeating: .init(status: 503), count: 10))
        let delivery = BreakerDelivery(LiveHTTPDelivery(), threshold: 2, coolOffSeconds: 60, clock: { 0 })
        let shield = OutboundRequest(integration: "remediation:block_user", url: receiver.url + "/block", body: [],
                                     idempotencyKey: "k")
        for _ in 0..<2 { _ = await delivery.deliver(shield) }
        guard case .retryable(let reason, _) = await delivery.deliver(shield) else {
            Issue.record("an open breaker let a call through")
            return
        }
        #expect(reason == "circuit open for remediation:block_user")
        #expect(receiver.received.count == 2)
        #expect(delivery.isOpen("remediation:block_user"))
        // Another endpoint is unaffected.
        var slack = shield
        slack.integration = "slack"
        _ = await delivery.deliver(slack)
        #expect(receiver.received.count == 3)
    }
}
