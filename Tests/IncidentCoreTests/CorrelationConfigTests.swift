// Correlation keys and their config: which events share a key, what the key shows, and the `correlation` block.
import Foundation
import Testing
@testable import IncidentCore

@Suite struct CorrelationConfigTests {
    static func event(user: String?, type: String = "prompt_injection", source: String = "llm-shield") -> SecurityEvent {
        SecurityEvent(eventID: UUID().uuidString, source: source, eventType: type, category: "security",
                      title: "Prompt injection", severity: "critical",
                      tags: user.map { ["user_id": $0] } ?? [:])
    }

    @Test func llmShieldGroupsByUserAndTypeByDefault() throws {
        let config = CorrelationConfig()
        let alice = try #require(config.key(for: Self.event(user: "alice@example.com")))
        #expect(config.key(for: Self.event(user: "alice@example.com")) == alice)
        #expect(config.key(for: Self.event(user: "bob@example.com")) != alice)
        #expect(config.key(for: Self.event(user: "alice@example.com", type: "jailbreak")) != alice)
        #expect(alice.windowSeconds == 900)
        // The key names its fields and hides the values (an email here): readers see it, the index holds it.
        #expect(alice.value.hasPrefix("source,event_type,tags.user_id:"))
        #expect(!alice.value.contains("alice"))
        // Without the tag nothing is correlated; other sources are not correlated unless configured.
        #expect(config.key(for: Self.event(user: nil)) == nil)
        #expect(config.key(for: Self.event(user: "alice@example.com", source: "siem")) == nil)
    }

    @Test func valuesCannotRunTogether() {
        let rule = CorrelationRule(groupBy: [.tag("a"), .tag("b")], windowSeconds: 60)
        let first = SecurityEvent(eventID: "1", source: "s", title: "t", severity: "low", tags: ["a": "x:1", "b": "2"])
        let second = SecurityEvent(eventID: "2", source: "s", title: "t", severity: "low", tags: ["a": "x", "b": "1:2"])
        #expect(rule.key(for: first) != rule.key(for: second))
    }

    @Test func readsTheCorrelationBlock() throws {
        let config = try ServiceConfig.parse(yaml: """
            correlation:
              window: 5m
              group_by: [source, category, resource.id]
              sources:
                siem:
                  group_by: [source, tags.host, severity]
                  window: 30s
            """, file: "test.yaml")
        let correlation = config.correlation
        #expect(correlation.enabled)
        #expect(correlation.defaultRule == CorrelationRule(groupBy: [.source, .category, .resourceID], windowSeconds: 300))
        #expect(correlation.sources["siem"] == CorrelationRule(groupBy: [.source, .tag("host"), .severity],
                                                               windowSeconds: 30))
        // The built-in llm-shield grouping takes the block's window.
        #expect(correlation.rule(for: "llm-shield")?.windowSeconds == 300)
        #expect(correlation.rule(for: "llm-shield")?.groupBy == [.source, .eventType, .tag("user_id")])
        #expect(correlation.rule(for: "other")?.groupBy == [.source, .category, .resourceID])
    }

    @Test func offMeansEveryEventOpensItsOwnIncident() throws {
        let config = try ServiceConfig.parse(yaml: "correlation: {enabled: false}", file: "test.yaml")
        #expect(config.correlation.key(for: Self.event(user: "alice")) == nil)
    }

    @Test func refusesUnknownFieldsAndEmptyWindows() {
        #expect(throws: ConfigError.self) {
            _ = try ServiceConfig.parse(yaml: "correlation: {group_by: [source, user]}", file: "test.yaml")
        }
        #expect(throws: ConfigError.self) {
            _ = try ServiceConfig.parse(yaml: "correlation: {window: 0s}", file: "test.yaml")
        }
        #expect(throws: ConfigError.self) {
            _ = try ServiceConfig.parse(yaml: "correlation: {group_by_typo: [source]}", file: "test.yaml")
        }
    }

    @Test func aCreatePlanCarriesTheKeyAndPagesOnceWhenItRaises() throws {
        let decisions = IncidentDecisions(config: .defaults)
        let shield = IdentityPolicy(name: "llm-shield", permissions: [.eventCreate])
        let valid = try decisions.admit(Self.event(user: "mallory"), by: shield)
        var rules = RulesEngine(rules: ServiceConfig.defaults.ruleSet)
        let plan = decisions.create(valid, by: shield, now: Date(), rules: &rules, requestBytes: nil)
        #expect(plan.correlation == CorrelationConfig().key(for: valid.event))
        // A raise starts only the page of the new level, under a key of its own per level.
        #expect(plan.raiseJobs.map(\.kind) == [.pageTrigger])
        #expect(plan.raiseJobs.map(\.key) == ["page.trigger:raised:P0"])
    }
}
