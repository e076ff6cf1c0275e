import Testing
@testable import IncidentCore

@Suite struct ServiceConfigTests {
    @Test func defaultsMatchTheDevelopmentCertificates() {
        let config = ServiceConfig.defaults
        #expect(config.identity(commonName: "llm-shield", uris: [], dnsNames: [])?.permissions == [.eventCreate])
        #expect(config.identity(commonName: "secops", uris: [], dnsNames: [])?.permissions == Set(Permission.allCases))
        #expect(config.identity(commonName: "viewer", uris: [], dnsNames: [])?.permissions == [.incidentRead, .incidentStream])
        #expect(config.identity(commonName: "stranger", uris: [], dnsNames: []) == nil)
        #expect(config.severityMapping["critical"] == 0)
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
        #expect(config.severityMapping["medium"] == 1)
        #expect(config.severityMapping["critical"] == 0)
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

    @Test func sanMatchingComesBeforeTheCommonName() {
        let policy = IdentityPolicy(name: "a", commonNames: ["a"], uris: ["spiffe://x/a"], permissions: [])
        #expect(policy.matches(commonName: "other", uris: ["spiffe://x/a"], dnsNames: []))
        #expect(policy.matches(commonName: "a", uris: [], dnsNames: []))
        #expect(!policy.matches(commonName: "b", uris: ["spiffe://x/b"], dnsNames: []))
    }
}
