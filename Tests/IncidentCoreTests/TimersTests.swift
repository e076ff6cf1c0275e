import Testing
@testable import IncidentCore

@Suite struct EscalationPolicyTests {
    @Test func walksTheLevelsThenRepeatsThenStops() {
        let policy = EscalationPolicy(name: "security-critical", levels: [
            EscalationLevel(targets: ["primary"], timeoutMinutes: 5),
            EscalationLevel(targets: ["secondary", "manager"], timeoutMinutes: 10),
        ], repeats: 1)
        #expect(policy.step(0).targets == ["primary"] && policy.step(0).timeoutSeconds == 300)
        let steps = sequence(first: policy.step(0)) { policy.step(after: $0.index) }.map(\.targets)
        #expect(steps == [["primary"], ["secondary", "manager"], ["primary"], ["secondary", "manager"]])
    }

    @Test func singleLevelPolicyUsesTheSpecTimeout() {
        let policy = EscalationPolicy.single(name: "security-critical", team: "security-team")
        #expect(policy.step(0).timeoutSeconds == 900)
        #expect(policy.step(after: 2) == nil)
    }
}

@Suite struct SLAClockTests {
    let sla = SLAPolicy.defaults

    @Test func acknowledgementClockStopsWhenAcknowledged() {
        #expect(!sla.isBreached(.acknowledge, priority: 0, createdAt: 0, acknowledgedAt: 299, resolvedAt: nil, now: 10_000))
        #expect(sla.isBreached(.acknowledge, priority: 0, createdAt: 0, acknowledgedAt: 301, resolvedAt: nil, now: 10_000))
        #expect(!sla.isBreached(.acknowledge, priority: 0, createdAt: 0, acknowledgedAt: nil, resolvedAt: nil, now: 300))
        #expect(sla.isBreached(.acknowledge, priority: 0, createdAt: 0, acknowledgedAt: nil, resolvedAt: nil, now: 301))
        // Resolving without a separate acknowledgement also stops the acknowledgement clock.
        #expect(!sla.isBreached(.acknowledge, priority: 0, createdAt: 0, acknowledgedAt: nil, resolvedAt: 100, now: 10_000))
    }

    @Test func resolutionClockDependsOnPriority() {
        #expect(sla.deadlines(priority: 1, createdAt: 1000) == [.acknowledge: 1900, .resolve: 1000 + 86400])
        #expect(sla.isBreached(.resolve, priority: 0, createdAt: 0, acknowledgedAt: 1, resolvedAt: nil, now: 4 * 3600 + 1))
        #expect(!sla.isBreached(.resolve, priority: 3, createdAt: 0, acknowledgedAt: 1, resolvedAt: nil, now: 4 * 3600 + 1))
        #expect(sla.deadlines(priority: 9, createdAt: 0).isEmpty)
    }
}
