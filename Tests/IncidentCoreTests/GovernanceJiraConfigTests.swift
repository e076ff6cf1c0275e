// The guide's `integrations.llm-governance-core` and `integrations.jira` blocks, verbatim, and the mistakes an
// operator makes in them.
import Testing
@testable import IncidentCore

@Suite struct GovernanceJiraConfigTests {
    /// Sections 5 and 7 of the integration guide, copied as written.
    static let guideBlocks = """
        integrations:
          llm-governance-core:
            enabled: true

            # GraphQL endpoint for governance to pull data
            graphql:
              endpoint: https://incidents.example.com/graphql
              authentication:
                type: oauth2
                client_id: ${GOVERNANCE_CLIENT_ID}
                client_secret: ${GOVERNANCE_CLIENT_SECRET}
                token_url: https://auth.example.com/oauth/token

            # REST endpoint for pushing audit logs
            audit:
              endpoint: https://governance.example.com/api/v1/audit-events
              authentication:
                type: api_key
                api_key: ${GOVERNANCE_API_KEY}

              # What to push
              push_events:
                - incident_created
                - incident_resolved
                - incident_closed
                - sla_breached
                - escalated

              # Batching
              batching:
                enabled: true
                max_batch_size: 100
                max_wait_ms: 60000
          jira:
            enabled: true
            base_url: https://your-company.atlassian.net
            authentication:
              type: basic
              username: ${JIRA_USERNAME}
              api_token: ${JIRA_API_TOKEN}

            # Project mapping
            project_mapping:
              - category: [security]
                project_key: "SEC"
                issue_type: "Security Incident"
              - category: [performance, availability]
                project_key: "OPS"
                issue_type: "Incident"
              - default:
                project_key: "INCIDENT"
                issue_type: "Bug"

            # Field mapping
            field_mapping:
              severity:
                P0: "Critical"
                P1: "High"
                P2: "Medium"
                P3: "Low"
                P4: "Trivial"
              priority:
                P0: "Highest"
                P1: "High"
                P2: "Medium"
                P3: "Low"
                P4: "Lowest"

            # Auto-sync
            sync:
              enabled: true
              bidirectional: true  # Sync JIRA updates back to incidents
              sync_interval_seconds: 300
        """

    @Test("the guide's blocks load verbatim, secrets kept as ${VAR} references")
    func guideBlocksLoad() throws {
        let config = try ServiceConfig.parse(yaml: Self.guideBlocks, file: "guide.yaml")
        let governance = try #require(config.governance)
        #expect(governance.auditURL == "https://governance.example.com/api/v1/audit-events")
        #expect(governance.apiKey == "${GOVERNANCE_API_KEY}")
        #expect(governance.pushEvents == Set(GovernanceEventType.allCases))
        #expect(governance.effectiveBatchSize == 100 && governance.maxWaitSeconds == 60)
        #expect(governance.graphQLClientSecret == "${GOVERNANCE_CLIENT_SECRET}")
        let jira = try #require(config.jira)
        #expect(jira.baseURL == "https://your-company.atlassian.net")
        #expect(jira.username == "${JIRA_USERNAME}" && jira.apiToken == "${JIRA_API_TOKEN}")
        #expect(jira.route(category: "security") == JiraProjectRoute(categories: ["security"], projectKey: "SEC",
                                                                      issueType: "Security Incident"))
        #expect(jira.route(category: "availability").projectKey == "OPS")
        #expect(jira.route(category: "compliance") == JiraProjectRoute(categories: [], projectKey: "INCIDENT",
                                                                        issueType: "Bug"))
        #expect(jira.priorityNames[.p0] == "Highest" && jira.priorityNames[.p4] == "Lowest")
        #expect(jira.severityNames[.p2] == "Medium")
        #expect(jira.syncIntervalSeconds == 300 && jira.bidirectional)
        #expect(jira.createPriorities == [.p0, .p1, .p2])
    }

    @Test("a bare Governance base URL gets the audit path; batching off sends one event a request")
    func auditURLAndBatching() throws {
        let yaml = """
            integrations:
              llm-governance-core:
                audit:
                  endpoint: http://127.0.0.1:9999/
                  push_events: [incident_created]
                  batching: {enabled: false, max_wait_ms: 250}
            """
        let governance = try #require(try ServiceConfig.parse(yaml: yaml, file: "g.yaml").governance)
        #expect(governance.auditURL == "http://127.0.0.1:9999/api/v1/audit-events")
        #expect(governance.pushEvents == [.incidentCreated])
        #expect(governance.effectiveBatchSize == 1 && governance.maxWaitSeconds == 0.25)
    }

    @Test("switched off, the blocks are checked but not applied")
    func switchedOff() throws {
        let yaml = "integrations:\n  jira:\n    enabled: false\n  llm-governance-core:\n    enabled: false\n"
        let config = try ServiceConfig.parse(yaml: yaml, file: "off.yaml")
        #expect(config.jira == nil && config.governance == nil)
    }

    @Test("typos and bad values name their key", arguments: [
        ("integrations:\n  jira:\n    base_url: https://j\n    sync: {sync_intervall: 5}\n",
         "integrations.jira.sync.sync_intervall"),
        ("integrations:\n  jira:\n    enabled: true\n", "integrations.jira.base_url"),
        ("integrations:\n  jira:\n    base_url: https://j\n    sync: {status_map: {Done: FINISHED}}\n",
         "integrations.jira.sync.status_map.Done"),
        ("integrations:\n  jira:\n    base_url: https://j\n    authentication: {type: oauth2}\n",
         "integrations.jira.authentication.type"),
        ("integrations:\n  llm-governance-core:\n    audit: {endpoint: https://g, push_events: [incident_deleted]}\n",
         "integrations.llm-governance-core.audit.push_events"),
        ("integrations:\n  llm-governance-core:\n    audit: {endpoint: https://g, batching: {max_batch_size: 0}}\n",
         "integrations.llm-governance-core.audit.batching.max_batch_size"),
        ("integrations:\n  llm-governance-core:\n    audit: {push_events: [escalated]}\n",
         "integrations.llm-governance-core.audit.endpoint"),
    ])
    func refusals(yaml: String, key: String) {
        #expect {
            _ = try ServiceConfig.parse(yaml: yaml, file: "bad.yaml")
        } throws: { error in
            (error as? ConfigError)?.key == key
        }
    }
}
