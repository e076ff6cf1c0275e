import Testing
@testable import IncidentCore

@Suite struct ServiceConfigTests {
    @Test func defaultsMatchTheDevelopmentCertificates() {
        let config = ServiceConfig.defaults
        #expect(config.identity(commonName: "llm-shield", uris: [], dnsNames: [])?.permissions == [.eventCreate])
        #expect(config.identity(commonName: "secops", uris: [], dnsNames: [])?.permissions == Set(Permission.allCases))
        #expect(config.identity(commonName: "viewer", uris: [], dnsNames: [])?.permissions == [.incidentRead, .incidentStream])
        #expect(config.identity(commonName: "stranger", uris: [], dnsNames: []) == nil)
        #expect(config.severityMapping[.critical] == .p0)
        #expect(config.routing.escalationPolicy == "security-critical")
    }

    @Test func readsTheSpecShapedFile() throws {
        let yaml = """
        server:
          listen: ["127.0.0.1:9443"]
          public_url: https://incidents.example.com
        identities:
          llm-shield:
            uris: [spiffe://prod/llm-shield]
            permissions: [event:create]
          sentinel:
            permissions: [event:create, incident:read]
            rate_limit: {requests_per_minute: 1000, burst: 100}
        severity_mapping:
          medium: P1
        integrations:
          llm-shield:
            enabled: true
            authentication:
              type: mtls
              ca_cert_path: /etc/incident-manager/certs/ca.crt
              verify_client_cert: true
            routing:
              default_team: security-team
              escalation_policy: security-critical
              auto_page: false
            security:
              redact_pii: false
              include_request_hash: true
        """
        let config = try ServiceConfig.parse(yaml: yaml, file: "im.yaml")
        #expect(config.listen == ["127.0.0.1:9443"])
        #expect(config.publicURL == "https://incidents.example.com")
        #expect(config.tls.clientCA == "/etc/incident-manager/certs/ca.crt")
        #expect(config.identity(commonName: "llm-shield", uris: [], dnsNames: []) == nil)
        #expect(config.identity(commonName: nil, uris: ["spiffe://prod/llm-shield"], dnsNames: [])?.name == "llm-shield")
        #expect(config.identity(commonName: "sentinel", uris: [], dnsNames: [])?.rateLimit
                == RateLimit(requestsPerMinute: 1000, burst: 100))
        #expect(config.severityMapping[.medium] == .p1)
        #expect(config.severityMapping[.critical] == .p0)
        #expect(config.routing.autoPage == false)
        #expect(config.security.redactPII == false)
    }

    @Test(arguments: [
        ("identities:\n  x:\n    permissions: [incident:delete]\n", "identities.x.permissions", "unknown permission"),
        ("severity_mapping:\n  urgent: P0\n", "severity_mapping.urgent", "unknown severity"),
        ("severity_mapping:\n  high: P7\n", "severity_mapping.high", "P0, P1"),
        ("integrations:\n  llm-shield:\n    routing:\n      auto_pgae: true\n", "integrations.llm-shield.routing.auto_pgae", "unknown key"),
        ("integrations:\n  llm-shield:\n    authentication:\n      verify_client_cert: false\n",
         "integrations.llm-shield.authentication.verify_client_cert", "always verified"),
        ("server:\n  listen: []\n", "server.listen", "at least one"),
        ("integrations:\n  llm-shield:\n    security:\n      redact_pii: maybe\n", "integrations.llm-shield.security.redact_pii", "true or false"),
        ("identities:\n  x:\n    sources: []\n", "identities.x.sources", "at least one"),
        ("identities:\n  x:\n    sources: [\"\"]\n", "identities.x.sources", "empty"),
    ])
    func refusesBadConfigNamingTheKey(yaml: String, key: String, problem: String) {
        #expect {
            _ = try ServiceConfig.parse(yaml: yaml, file: "bad.yaml")
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.key == key && error.problem.contains(problem) && error.file == "bad.yaml" && error.line != nil
        }
    }

    @Test func reportsInvalidYAML() {
        #expect(throws: ConfigError.self) { _ = try ServiceConfig.parse(yaml: "server: [unclosed", file: "x.yaml") }
    }

    @Test func anIdentityReportsItsOwnNameUnlessItsSourcesSayOtherwise() throws {
        let yaml = """
        identities:
          llm-shield: {permissions: [event:create]}
          collector: {permissions: [event:create], sources: [a, b]}
          relay: {permissions: [event:create], sources: ["*"]}
        """
        let config = try ServiceConfig.parse(yaml: yaml, file: "im.yaml")
        let byName = Dictionary(uniqueKeysWithValues: config.identities.map { ($0.name, $0) })
        #expect(byName["llm-shield"]!.mayReport(source: "llm-shield"))
        #expect(!byName["llm-shield"]!.mayReport(source: "other-detector"))
        #expect(byName["collector"]!.mayReport(source: "a") && byName["collector"]!.mayReport(source: "b"))
        #expect(!byName["collector"]!.mayReport(source: "collector"))
        #expect(byName["relay"]!.mayReport(source: "anything"))
        let defaults = ServiceConfig.defaults.identities
        #expect(defaults.first { $0.name == "llm-shield" }!.sources == ["llm-shield"])
    }

    @Test func sanMatchingComesBeforeTheCommonName() {
        let policy = IdentityPolicy(name: "a", commonNames: ["a"], uris: ["spiffe://x/a"], permissions: [])
        #expect(policy.matches(commonName: "other", uris: ["spiffe://x/a"], dnsNames: []))
        #expect(policy.matches(commonName: "a", uris: [], dnsNames: []))
        #expect(!policy.matches(commonName: "b", uris: ["spiffe://x/b"], dnsNames: []))
    }
}

@Suite struct RemediationConfigTests {
    @Test func readsTheSpecsAutoRemediationBlock() throws {
        let yaml = """
        integrations:
          llm-shield:
            enabled: true
            routing:
              default_team: security-team
              escalation_policy: security-critical
              auto_page: true
              rules:
                - name: privacy
                  conditions: {event_type: data_leakage, tags: {environment: production}}
                  team: privacy
                  channels: ["slack:#privacy"]
            auto_remediation:
              enabled: true
              custom_actions: [quarantine_model]
              blast_radius:
                block_user: {max_actions: 20, window: 10m}
              actions:
                - type: block_user
                  conditions:
                    severity: [P0]
                    event_type: [prompt_injection, data_leakage]
                  ttl: 24h
                - type: rate_limit
                  conditions:
                    severity: [P1]
                    event_type: [policy_violation]
                  requires_approval: true
                  approval_ttl: 15m
                - type: quarantine_model
                  name: quarantine
                  conditions: {severity: critical, category: security}
                  dry_run: true
        """
        let config = try ServiceConfig.parse(yaml: yaml, file: "im.yaml")
        let rules = config.ruleSet
        #expect(rules.remediationEnabled)
        #expect(rules.remediation.map(\.name) == ["block_user#1", "rate_limit#2", "quarantine"])
        #expect(rules.remediation[0].conditions.priorities == [.p0])
        #expect(rules.remediation[0].compensateAfterSeconds == 86400)
        #expect(rules.remediation[1].requiresApproval && rules.remediation[1].approvalTTLSeconds == 900)
        #expect(rules.remediation[2].kind == .custom("quarantine_model") && rules.remediation[2].dryRun)
        #expect(rules.remediation[2].conditions.priorities == [.p0])
        #expect(rules.blastRadius["block_user"] == BlastRadiusCap(maxActions: 20, windowSeconds: 600))
        #expect(rules.routing.first?.team == "privacy")

        var engine = RulesEngine(rules: rules)
        let plan = engine.plan(for: EventFacts(source: "llm-shield", category: "security", eventType: "prompt_injection",
                                               severity: .critical, priority: .p0, tags: ["user_id": "user-789"]), now: 0)
        #expect(plan.page)
        #expect(plan.actions.map(\.kind) == [.blockUser, .custom("quarantine_model")])
    }

    @Test(arguments: [
        ("actions:\n  - type: nuke_everything\n", "integrations.llm-shield.auto_remediation.actions[0].type", "unknown action"),
        ("actions:\n  - type: block_user\n    conditions: {severity: [P9]}\n",
         "integrations.llm-shield.auto_remediation.actions[0].conditions.severity", "unknown severity"),
        ("actions:\n  - type: block_user\n    conditions: {colour: red}\n",
         "integrations.llm-shield.auto_remediation.actions[0].conditions.colour", "unknown key"),
        ("actions:\n  - type: block_user\n    cooldown: soon\n",
         "integrations.llm-shield.auto_remediation.actions[0].cooldown", "duration"),
        ("actions:\n  - {type: block_user, name: a}\n  - {type: rate_limit, name: a}\n",
         "integrations.llm-shield.auto_remediation.actions[1].name", "used twice"),
        ("blast_radius:\n  launch_missiles: {max_actions: 1, window: 1m}\n",
         "integrations.llm-shield.auto_remediation.blast_radius.launch_missiles", "unknown action type"),
    ])
    func refusesBadRulesNamingTheRule(block: String, key: String, problem: String) {
        let indented = block.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n")
        let yaml = "integrations:\n  llm-shield:\n    auto_remediation:\n" + indented + "\n"
        #expect {
            _ = try ServiceConfig.parse(yaml: yaml, file: "rules.yaml")
        } throws: { error in
            guard let error = error as? ConfigError else { return false }
            return error.key == key && error.problem.contains(problem)
        }
    }
}
