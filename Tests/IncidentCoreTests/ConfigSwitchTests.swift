// The guide's config blocks as we accept them: `enabled: false` turns a block off, and severity words in
// conditions mean the level the configured severity_mapping gives them.
import Foundation
import Testing
@testable import IncidentCore

@Suite struct ConfigSwitchTests {
    @Test("severity words in rule, routing, webhook and Slack conditions use the configured severity_mapping")
    func conditionWordsUseTheConfiguredMapping() throws {
        let yaml = """
            severity_mapping:
              critical: P1
              high: P0
            integrations:
              llm-shield:
                routing:
                  rules:
                    - {name: hot, conditions: {severity: [high]}, team: red-team}
                auto_remediation:
                  actions:
                    - type: block_user
                      conditions:
                        severity: [critical]
                    - type: rate_limit
                      conditions:
                        severity: [P0]
              webhooks:
                - name: siem
                  url: https://siem.test/hook
                  triggers:
                    - event: incident_created
                      conditions:
                        severity: [critical]
            notifications:
              slack:
                webhook_url: https://hooks.slack.test/x
                channel_routing:
                  - severity: [high]
                    channel: "#hot"
            """
        let config = try ServiceConfig.parse(yaml: yaml, file: "im.yaml")
        #expect(config.remediation.rules[0].conditions.priorities == [.p1], "critical maps to P1 here")
        #expect(config.remediation.rules[1].conditions.priorities == [.p0])
        #expect(config.routingRules[0].conditions.priorities == [.p0], "high maps to P0 here")
        #expect(config.webhooks[0].triggers[0].priorities == [.p1])
        #expect(config.notifications.slack.channelRouting[0].priorities == [.p0])
    }

    @Test("integrations.llm-shield.enabled: false turns the whole block off, but it is still checked")
    func llmShieldSwitchedOff() throws {
        let block = """
            integrations:
              llm-shield:
                enabled: ENABLED
                routing: {default_team: red-team, auto_page: false}
                auto_remediation:
                  actions:
                    - type: block_user
                security: {redact_pii: false}
            """
        let on = try ServiceConfig.parse(yaml: block.replacingOccurrences(of: "ENABLED", with: "true"), file: "on.yaml")
        #expect(on.routing.defaultTeam == "red-team" && !on.routing.autoPage)
        #expect(on.remediation.rules.count == 1 && !on.security.redactPII)
        let off = try ServiceConfig.parse(yaml: block.replacingOccurrences(of: "ENABLED", with: "false"), file: "off.yaml")
        #expect(off.routing == ServiceConfig.defaults.routing)
        #expect(off.remediation.rules.isEmpty)
        #expect(off.security == ServiceConfig.defaults.security)
        let typo = "integrations:\n  llm-shield:\n    enabled: false\n    routing: {default_tem: x}\n"
        #expect(throws: ConfigError.self) { _ = try ServiceConfig.parse(yaml: typo, file: "typo.yaml") }
    }

    @Test("the guide's other integration blocks are accepted when switched off, refused when switched on")
    func otherIntegrationsSwitchedOff() throws {
        let off = "integrations:\n  llm-sentinel:\n    enabled: false\n    endpoint: x\n  jira:\n    enabled: false\n"
        #expect(try ServiceConfig.parse(yaml: off, file: "off.yaml").routing == ServiceConfig.defaults.routing)
        #expect {
            // An integration this server does not implement (and no source: it has no authentication block).
            _ = try ServiceConfig.parse(yaml: "integrations:\n  servicenow:\n    enabled: true\n", file: "on.yaml")
        } throws: { error in
            (error as? ConfigError)?.key == "integrations.servicenow"
        }
    }

    @Test("auto_remediation.enabled, webhooks' and Slack's enabled: false are honoured")
    func blockSwitches() throws {
        let yaml = """
            integrations:
              llm-shield:
                auto_remediation:
                  enabled: false
                  actions:
                    - type: block_user
              webhooks:
                - {name: siem, enabled: false, url: https://siem.test/hook, triggers: [{event: incident_created}]}
            notifications:
              slack: {enabled: false, webhook_url: https://hooks.slack.test/x}
              pagerduty: {enabled: false, integration_key: k}
            """
        let config = try ServiceConfig.parse(yaml: yaml, file: "im.yaml")
        var engine = RulesEngine(rules: config.ruleSet)
        let plan = engine.plan(for: EventFacts(source: "llm-shield", category: "security", eventType: "prompt_injection",
                                               severity: .critical, priority: .p0, tags: ["user_id": "u"]), now: 0)
        #expect(plan.actions.isEmpty)
        #expect(!config.webhooks[0].fires(on: "incident_created", priority: .p0))
        #expect(!config.notifications.slack.enabled && !config.notifications.pagerDuty.enabled)
    }
}
