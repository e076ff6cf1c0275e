// The config blocks of what acts on the world, in the integration spec's shapes: notifications (PagerDuty, Slack),
// integrations.webhooks, auto_remediation.executors and jobs; unknown keys and bad values name themselves.
import Foundation
import Testing
@testable import IncidentCore

@Suite struct IntegrationsConfigTests {
    static let yaml = """
        notifications:
          pagerduty:
            enabled: true
            api_key: ${PAGERDUTY_API_KEY}
            integration_key: ${PAGERDUTY_INTEGRATION_KEY}
            service_routing:
              - severity: [P0, P1]
                service_id: ${PD_CRITICAL_KEY}
              - severity: [P2]
                service_id: "PYYYYYY"
              - default: "PZZZZZZ"
            auto_resolve: true
            escalate_on_timeout: true
            escalation_timeout_minutes: 15
          slack:
            enabled: true
            webhook_url: ${SLACK_WEBHOOK_URL}
            bot_token: ${SLACK_BOT_TOKEN}
            channel_routing:
              - severity: [P0, P1]
                channel: "#incidents-critical"
              - category: [security]
                channel: "#security-alerts"
              - default: "#incidents-general"
            message_format: blocks
            mention_on_create: true
            mention_groups:
              P0: ["@oncall", "@incident-commander"]
              P1: ["@oncall"]
        integrations:
          webhooks:
            - name: "custom-monitoring-system"
              enabled: true
              url: https://monitoring.example.com/webhooks/incidents
              authentication:
                type: bearer
                token: ${MONITORING_WEBHOOK_TOKEN}
              triggers:
                - event: incident_created
                  conditions:
                    severity: [P0, P1]
                - event: incident_resolved
              method: POST
              headers:
                X-Source: llm-incident-manager
              retry:
                max_attempts: 3
                backoff: exponential
              timeout_ms: 10000
          llm-shield:
            auto_remediation:
              enabled: true
              actions:
                - type: block_user
                  conditions: {severity: [P0]}
              executors:
                block_user:
                  url: https://shield.internal/admin/block
                  signing_secret: ${SHIELD_ADMIN_SECRET}
                  timeout: 5s
        jobs:
          workers: 8
          poll_interval: 100ms
          lease: 1m
        """

    @Test func readsTheSpecShapes() throws {
        let config = try ServiceConfig.parse(yaml: Self.yaml, file: "test.yaml")
        let pagerDuty = config.notifications.pagerDuty
        #expect(pagerDuty.integrationKey(for: .p0) == "${PD_CRITICAL_KEY}")
        #expect(pagerDuty.integrationKey(for: .p2) == "PYYYYYY")
        #expect(pagerDuty.integrationKey(for: .p4) == "PZZZZZZ")
        #expect(pagerDuty.escalationTimeoutMinutes == 15)
        let slack = config.notifications.slack
        #expect(slack.channelRouting.map(\.channel) == ["#incidents-critical", "#security-alerts"])
        #expect(slack.defaultChannel == "#incidents-general")
        #expect(slack.mentionGroups[.p0] == ["@oncall", "@incident-commander"])
        let webhook = try #require(config.webhooks.first)
        #expect(webhook.fires(on: "incident_created", priority: .p1))
        #expect(!webhook.fires(on: "incident_created", priority: .p2))
        #expect(webhook.fires(on: "incident_resolved", priority: .p3))
        #expect(!webhook.fires(on: "escalated", priority: .p0))
        #expect(webhook.timeoutSeconds == 10)
        #expect(webhook.bearerToken == "${MONITORING_WEBHOOK_TOKEN}")
        #expect(config.remediation.executors["block_user"]?.timeoutSeconds == 5)
        #expect(config.jobs.workers == 8)
        #expect(config.jobs.pollIntervalSeconds == 0.1)
        #expect(config.jobs.leaseSeconds == 60)
    }

    @Test func serviceRoutingTakesIntegrationOrRoutingKeysAndAutoResolveTurnsOff() throws {
        let config = try ServiceConfig.parse(yaml: """
            notifications:
              pagerduty:
                service_routing:
                  - {severity: [P0], integration_key: "${PD_P0_KEY}"}
                  - {severity: [P1], routing_key: "${PD_P1_KEY}"}
                  - default: "${PD_OTHER_KEY}"
                auto_resolve: false
            """, file: "pd.yaml")
        let pagerDuty = config.notifications.pagerDuty
        #expect(pagerDuty.integrationKey(for: .p0) == "${PD_P0_KEY}")
        #expect(pagerDuty.integrationKey(for: .p1) == "${PD_P1_KEY}")
        #expect(pagerDuty.integrationKey(for: .p3) == "${PD_OTHER_KEY}")
        #expect(!pagerDuty.autoResolve)
        #expect(try ServiceConfig.parse(yaml: "notifications:\n  pagerduty:\n    enabled: true\n", file: "d.yaml")
                    .notifications.pagerDuty.autoResolve)
        #expect(throws: ConfigError.self) {
            try ServiceConfig.parse(yaml: """
                notifications:
                  pagerduty:
                    service_routing: [{severity: [P0], integration_key: "${A}", routing_key: "${B}"}]
                """, file: "both.yaml")
        }
    }

    @Test func slackButtonSettingsTakeASecretReferenceAndMapUsersToConfiguredIdentities() throws {
        let head = "identities:\n  secops: {permissions: [incident:update]}\nnotifications:\n  slack:\n"
        let config = try ServiceConfig.parse(yaml: head + """
                signing_secret: ${SLACK_SIGNING_SECRET}
                user_mapping: {U0ALICE: secops}
            """, file: "slack.yaml")
        #expect(config.notifications.slack.signingSecret == "${SLACK_SIGNING_SECRET}")
        #expect(config.notifications.slack.userMapping == ["U0ALICE": "secops"])
        #expect(try ServiceConfig.parse(yaml: head + "    enabled: true\n", file: "d.yaml")
                    .notifications.slack.signingSecret == nil)
        func problem(_ lines: String) -> String {
            do {
                _ = try ServiceConfig.parse(yaml: head + lines, file: "bad.yaml")
                return "no error"
            } catch {
                return "\(error.key): \(error.problem)"
            }
        }
        // The secret itself in the file is refused: only a reference keeps it out of configs that get copied.
        #expect(problem("    signing_secret: 8f742231b10e8888abcd99yyyzzz85a5\n")
                    .hasPrefix("notifications.slack.signing_secret"))
        #expect(problem("    user_mapping: {U0EVE: root}\n").contains("\"root\" is not a configured identity"))
    }

    @Test func unknownKeysAndValuesNameThemselves() {
        func problem(_ yaml: String) -> String {
            do {
                _ = try ServiceConfig.parse(yaml: yaml, file: "bad.yaml")
                return "no error"
            } catch {
                return "\(error.key): \(error.problem)"
            }
        }
        #expect(problem("notifications:\n  pagerduty:\n    routing_keys: x\n")
                    .hasPrefix("notifications.pagerduty.routing_keys"))
        #expect(problem("integrations:\n  webhooks:\n    - name: a\n      url: u\n"
                        + "      triggers:\n        - event: nope\n")
                    .contains("unknown event"))
        #expect(problem("jobs:\n  workers: -1\n").hasPrefix("jobs.workers"))
        #expect(problem("integrations:\n  llm-shield:\n    auto_remediation:\n      executors:\n"
                        + "        block_user:\n          url: u\n")
                    .contains("needs url and signing_secret"))
    }

    @Test func theREADMEExampleParses() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let start = try #require(text.range(of: "```yaml\nnotifications:"))
        let end = try #require(text.range(of: "```", range: start.upperBound..<text.endIndex))
        let yaml = String(text[text.index(start.lowerBound, offsetBy: 8)..<end.lowerBound])
        let config = try ServiceConfig.parse(yaml: yaml, file: "README.md")
        #expect(config.notifications.pagerDuty.integrationKey(for: .p3) == "${PD_OTHER_KEY}")
        #expect(config.webhooks.first?.signingSecret == "${SIEM_HMAC_SECRET}")
        #expect(config.remediation.executors.keys.sorted() == ["block_user", "unblock_user"])
        #expect(config.jobs.retryMaxSeconds == 300)
    }

    @Test func secretsExpandFromTheEnvironmentOnly() {
        #expect(expandEnvironment("${A}-x-${B}", ["A": "1", "B": "2"]) == "1-x-2")
        #expect(expandEnvironment("${MISSING}", [:]) == "")
        #expect(expandEnvironment("plain", [:]) == "plain")
    }
}
