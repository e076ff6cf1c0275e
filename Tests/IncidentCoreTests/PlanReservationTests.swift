// A plan reserves its guard-rail counts; releasing them (a replay, a failed write) leaves the engine as before.
import Testing
@testable import IncidentCore

@Suite struct PlanReservationTests {
    static let rules = RuleSet(
        remediation: [
            RemediationRule(name: "block", kind: .blockUser, conditions: RuleConditions(priorities: [.p0]),
                            cooldownSeconds: 300),
        ],
        defaults: RulesEngineTests.defaults,
        blastRadius: ["block_user": BlastRadiusCap(maxActions: 2, windowSeconds: 600)])

    func event(user: String) -> EventFacts {
        EventFacts(source: "llm-shield", category: "security", eventType: "prompt_injection", severity: .critical,
                   priority: .p0, tags: ["user_id": user, "tenant_id": "t-1"])
    }

    @Test func aReservedPlanHoldsTheCooldownUntilReleased() {
        var engine = RulesEngine(rules: Self.rules)
        let (first, reservation) = engine.reservePlan(for: event(user: "u-1"), now: 0)
        #expect(first.actions.map(\.state) == [.pending])
        #expect(!reservation.isEmpty)
        // While reserved, a concurrent event for the same user is suppressed.
        let (concurrent, none) = engine.reservePlan(for: event(user: "u-1"), now: 1)
        #expect(concurrent.actions.map(\.state) == [.suppressedByCooldown])
        #expect(none.isEmpty)
        engine.release(reservation)
        #expect(engine.reservePlan(for: event(user: "u-1"), now: 2).plan.actions.map(\.state) == [.pending])
    }

    @Test func releasedPlansDoNotCountTowardsTheBlastRadius() {
        var engine = RulesEngine(rules: Self.rules)
        _ = engine.reservePlan(for: event(user: "u-1"), now: 0)
        // Ten replays of another user's event: each reserved and released.
        for index in 0..<10 {
            let (plan, reservation) = engine.reservePlan(for: event(user: "u-2"), now: Double(index + 1))
            #expect(plan.actions.map(\.state) == [.pending])
            engine.release(reservation)
        }
        #expect(engine.reservePlan(for: event(user: "u-3"), now: 20).plan.actions.map(\.state) == [.pending])
        let capped = engine.reservePlan(for: event(user: "u-4"), now: 21).plan
        #expect(capped.actions.map(\.state) == [.cappedByBlastRadius])
    }
}
