import Testing
@testable import IncidentCore

@Suite struct RulesEngineTests {
    static let defaults = RoutingDefaults(defaultTeam: "security-team", escalationPolicy: "security-critical", autoPage: true)

    /// The integration spec's llm-shield rules.
    static let specRules = RuleSet(
        remediation: [
            RemediationRule(name: "block", kind: .blockUser,
                            conditions: RuleConditions(priorities: [.p0], eventTypes: ["prompt_injection", "data_leakage"])),
            RemediationRule(name: "throttle", kind: .rateLimit,
                            conditions: RuleConditions(priorities: [.p1], eventTypes: ["policy_violation"])),
        ],
        defaults: defaults)

    func event(_ type: String, priority: Int, tags: [String: String] = ["user_id": "user-789", "tenant_id": "t-1"]) -> EventFacts {
        EventFacts(source: "llm-shield", category: "security", eventType: type,
                   severity: Severity.allCases[priority], priority: Priority(rawValue: priority)!, tags: tags)
    }

    @Test func specRulesBlockTheUserOnAP0PromptInjectionAndPage() {
        var engine = RulesEngine(rules: Self.specRules)
        let plan = engine.plan(for: event("prompt_injection", priority: 0), now: 0)
        #expect(plan.team == "security-team")
        #expect(plan.escalationPolicy == "security-critical")
        #expect(plan.page)
        #expect(plan.actions.count == 1)
        #expect(plan.actions.first?.kind == .blockUser)
        #expect(plan.actions.first?.parameters["user_id"] == "user-789")
        #expect(plan.actions.first?.state == .pending)
    }

    @Test func lowPrioritiesNeitherPageNorAct() {
        var engine = RulesEngine(rules: Self.specRules)
        let plan = engine.plan(for: event("prompt_injection", priority: 2), now: 0)
        #expect(!plan.page)
        #expect(plan.actions.isEmpty)
    }

    @Test func rateLimitsTheTenantOnP1PolicyViolations() {
        var engine = RulesEngine(rules: Self.specRules)
        let plan = engine.plan(for: event("policy_violation", priority: 1), now: 0)
        #expect(plan.page)
        #expect(plan.actions.map(\.kind) == [.rateLimit])
        #expect(plan.actions.first?.parameters["tenant_id"] == "t-1")
    }

    @Test func aMissingParameterSkipsTheActionWithAReason() {
        var engine = RulesEngine(rules: Self.specRules)
        let plan = engine.plan(for: event("prompt_injection", priority: 0, tags: [:]), now: 0)
        #expect(plan.actions.first?.state == .skipped(reason: "the event has no user_id"))
    }

    @Test func cooldownStopsAFloodFromBlockingTheSameUserAgain() {
        var engine = RulesEngine(rules: Self.specRules)
        let states = (0..<1000).map { i in engine.plan(for: event("prompt_injection", priority: 0), now: Double(i) / 100).actions[0].state }
        #expect(states.filter { $0 == .pending }.count == 1)
        #expect(states.filter { $0 == .suppressedByCooldown }.count == 999)
        // Another user is another subject; after the cooldown the first may be blocked again.
        let other = engine.plan(for: event("prompt_injection", priority: 0, tags: ["user_id": "u-2"]), now: 10)
        #expect(other.actions[0].state == .pending)
        #expect(engine.plan(for: event("prompt_injection", priority: 0), now: 301).actions[0].state == .pending)
    }

    @Test func blastRadiusCapStopsAutomationAndPagesAHuman() {
        var rules = Self.specRules
        rules.blastRadius = ["block_user": BlastRadiusCap(maxActions: 3, windowSeconds: 60)]
        var engine = RulesEngine(rules: rules)
        var states: [PlannedActionState] = []
        var lastPlan: IncidentPlan?
        for i in 0..<5 {
            let plan = engine.plan(for: event("prompt_injection", priority: 0, tags: ["user_id": "u\(i)", "tenant_id": "t-1"]), now: Double(i))
            states.append(plan.actions[0].state)
            lastPlan = plan
        }
        #expect(states == [.pending, .pending, .pending, .cappedByBlastRadius, .cappedByBlastRadius])
        #expect(lastPlan?.pageReasons.contains("blast-radius cap reached") == true)
        // Another tenant has its own window; the window slides.
        #expect(engine.plan(for: event("prompt_injection", priority: 0, tags: ["user_id": "x", "tenant_id": "t-2"]), now: 5).actions[0].state == .pending)
        #expect(engine.plan(for: event("prompt_injection", priority: 0, tags: ["user_id": "y", "tenant_id": "t-1"]), now: 61).actions[0].state == .pending)
    }

    @Test func approvalAndDryRun() {
        var engine = RulesEngine(rules: RuleSet(remediation: [
            RemediationRule(name: "careful", kind: .blockUser, conditions: RuleConditions(), requiresApproval: true, approvalTTLSeconds: 900),
            RemediationRule(name: "rehearsal", kind: .custom("quarantine_model"), conditions: RuleConditions(), dryRun: true),
        ], defaults: Self.defaults))
        let plan = engine.plan(for: event("data_leakage", priority: 3), now: 0)
        #expect(plan.actions.map(\.state) == [.awaitingApproval(expiresAfterSeconds: 900), .dryRun])
    }

    @Test func firstMatchingRoutingRuleDecides() {
        var engine = RulesEngine(rules: RuleSet(routing: [
            RoutingRule(name: "pii", conditions: RuleConditions(eventTypes: ["data_leakage"], tags: ["environment": "production"]),
                        team: "privacy", escalationPolicy: "privacy-oncall", channels: ["slack:#privacy"]),
            RoutingRule(name: "all-prod", conditions: RuleConditions(tags: ["environment": "*"]), team: "sre", escalationPolicy: "sre"),
        ], defaults: Self.defaults))
        let leak = engine.plan(for: event("data_leakage", priority: 2, tags: ["environment": "production"]), now: 0)
        #expect(leak.team == "privacy" && leak.routingRule == "pii" && leak.channels == ["slack:#privacy"])
        let other = engine.plan(for: event("prompt_injection", priority: 2, tags: ["environment": "staging"]), now: 0)
        #expect(other.team == "sre")
        let untagged = engine.plan(for: event("prompt_injection", priority: 2, tags: [:]), now: 0)
        #expect(untagged.team == "security-team" && untagged.routingRule == nil)
    }

    @Test func parametersComeFromTagsThenResource() {
        let facts = EventFacts(source: "s", category: "c", eventType: "e", severity: .high, priority: .p1,
                               tags: ["session_id": "sess-1"], resourceType: "user", resourceID: "u-42",
                               resourceMetadata: ["tenant_id": "acme"])
        #expect(facts.parameter("session_id") == "sess-1")
        #expect(facts.parameter("tenant_id") == "acme")
        #expect(facts.parameter("user_id") == "u-42")
        #expect(facts.parameter("org_id") == nil)
    }
}
