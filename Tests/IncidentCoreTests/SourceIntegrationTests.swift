// The per-source block (`integrations.<source>`): the guide's llm-sentinel block read as written, its API key hashes
// resolved from the environment, its own severity mapping and routing applied to its events only, and the key
// lookup by digest.
import Foundation
import Testing
@testable import IncidentCore

@Suite struct SourceIntegrationTests {
    /// The guide's Incident Manager block for Sentinel (section 2, `Protos/examples/sentinel-config.yaml`), comments
    /// and all, with one change: `high: P2` (the guide says P1, the default), so the source's own mapping shows.
    static let guideBlock = """
        integrations:
          llm-sentinel:
            enabled: true

            # Authentication
            authentication:
              type: api_key
              api_keys:
                - key_id: sentinel-prod-001
                  key_hash: ${SENTINEL_API_KEY_HASH}
                  permissions: ["event:create"]

            # Rate limiting
            rate_limit:
              requests_per_minute: 1000
              burst: 100

            # Severity mapping
            severity_mapping:
              critical: P0
              high: P2
              medium: P2
              low: P3
              info: P4

            # Auto-routing
            routing:
              default_team: platform-team
              escalation_policy: sentinel-escalation
        """

    static let keyHash = Digest.sha256(Array("the-key".utf8))
    static var keyHashHex: String { keyHash.map { String(format: "%02x", $0) }.joined() }

    @Test("the guide's llm-sentinel block is accepted verbatim; key_hash comes from the environment")
    func guideBlockVerbatim() throws {
        let parsed = try ServiceConfig.parse(yaml: Self.guideBlock, file: "sentinel.yaml")
        let sentinel = try #require(parsed.sources["llm-sentinel"])
        #expect(sentinel.apiKeys.map(\.keyID) == ["sentinel-prod-001"])
        #expect(sentinel.apiKeys[0].permissions == [.eventCreate])
        #expect(sentinel.rateLimit == RateLimit(requestsPerMinute: 1000, burst: 100))
        #expect(sentinel.routing?.defaultTeam == "platform-team")
        #expect(sentinel.routing?.escalationPolicy == "sentinel-escalation")
        // Sentinel's routing is its own: the service's defaults (llm-shield's) are unchanged.
        #expect(parsed.routing == ServiceConfig.defaults.routing)

        #expect(throws: ConfigError.self) {
            _ = try parsed.resolvingSourceKeys(environment: [:], file: "sentinel.yaml")
        }
        #expect(throws: ConfigError.self) {
            _ = try parsed.resolvingSourceKeys(environment: ["SENTINEL_API_KEY_HASH": "not-hex"], file: "sentinel.yaml")
        }
        let resolved = try parsed.resolvingSourceKeys(environment: ["SENTINEL_API_KEY_HASH": Self.keyHashHex],
                                                      file: "sentinel.yaml")
        let source = try #require(resolved.sources["llm-sentinel"])
        #expect(source.key(matchingDigest: Self.keyHash)?.keyID == "sentinel-prod-001")
        #expect(source.key(matchingDigest: Digest.sha256(Array("the-kez".utf8))) == nil)
        #expect(source.key(matchingDigest: Array(Self.keyHash.dropLast())) == nil)
    }

    @Test("a source's severity_mapping and routing apply to its own events only")
    func perSourceMappingAndRouting() throws {
        let config = try ServiceConfig.parse(yaml: Self.guideBlock, file: "sentinel.yaml")
        let validator = EventValidator()
        let sentinel = try validator.validate(SecurityEvent(eventID: "e1", source: "llm-sentinel", title: "t",
                                                            severity: "high"))
        let shield = try validator.validate(SecurityEvent(eventID: "e2", source: "llm-shield", title: "t",
                                                          severity: "high"))
        #expect(config.level(of: sentinel) == .p2)
        #expect(config.level(of: shield) == .p1)
        var engine = RulesEngine(rules: config.ruleSet)
        let sentinelPlan = engine.plan(for: EventFacts(source: "llm-sentinel", category: "performance",
                                                       eventType: "anomaly", severity: .high, priority: .p2), now: 0)
        #expect(sentinelPlan.team == "platform-team" && sentinelPlan.escalationPolicy == "sentinel-escalation")
        let shieldPlan = engine.plan(for: EventFacts(source: "llm-shield", category: "security",
                                                     eventType: "violation", severity: .high, priority: .p1), now: 0)
        #expect(shieldPlan.team == ServiceConfig.defaults.routing.defaultTeam)
    }

    @Test("one block shape for every source; service-wide keys only in llm-shield's; unknown keys are errors")
    func oneShapeForEverySource() throws {
        let custom = """
            integrations:
              llm-shield:
                authentication: {type: mtls, verify_client_cert: true}
                rate_limit: {requests_per_minute: 60}
                severity_mapping: {high: P0}
                routing: {default_team: red-team}
              slow-detector:
                authentication:
                  type: api_key
                  api_keys: [{key_id: k1, key_hash: \(Self.keyHashHex)}]
            """
        let config = try ServiceConfig.parse(yaml: custom, file: "custom.yaml")
        #expect(config.routing.defaultTeam == "red-team")
        #expect(config.sources["llm-shield"]?.severityMapping == [.high: .p0])
        #expect(config.sources["slow-detector"]?.apiKeys.first?.permissions == [.eventCreate])
        for bad in [
            "integrations:\n  llm-sentinel:\n    sla: {}\n",
            "integrations:\n  llm-sentinel:\n    authentication: {type: api_key}\n",
            "integrations:\n  llm-sentinel:\n    authentication: {type: basic}\n",
            "integrations:\n  llm-sentinel:\n    endpoint: x\n",
            "integrations:\n  llm-shield:\n    authentication: {type: mtls, api_keys: []}\n",
            "integrations:\n  siem:\n    authentication: {type: api_key, api_keys: [{key_id: a, key_hash: x}]}\n"
                + "    field_mapping: {colour: /x}\n",
            "integrations:\n  siem:\n    authentication: {type: api_key, api_keys: [{key_id: a, key_hash: x}]}\n"
                + "    field_mapping: {title: alert/name}\n",
            "integrations:\n  prometheus:\n    authentication: {type: api_key, api_keys: [{key_id: a, key_hash: x}]}\n"
                + "    alert_severity_mapping: {warning: loud}\n",
        ] {
            #expect(throws: ConfigError.self, "\(bad)") { _ = try ServiceConfig.parse(yaml: bad, file: "bad.yaml") }
        }
    }
}
