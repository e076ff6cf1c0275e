// The config of the two integrations that keep records outside the incident manager: LLM-Governance-Core (an audit
// stream pushed to it, a GraphQL API it pulls from) and Jira (one issue per incident, kept in step both ways).
// Shapes follow the integration guide's `integrations.llm-governance-core` and `integrations.jira` blocks; secrets
// stay `${VARIABLE}` here and are expanded only where the request is built.

/// The audit events LLM-Governance-Core can be sent (`audit.push_events`).
public enum GovernanceEventType: String, Sendable, Hashable, CaseIterable {
    case incidentCreated = "incident_created"
    case incidentResolved = "incident_resolved"
    case incidentClosed = "incident_closed"
    case slaBreached = "sla_breached"
    case escalated
}

/// `integrations.llm-governance-core`.
public struct GovernanceConfig: Sendable, Hashable {
    public var enabled = true
    /// `graphql.endpoint`: where Governance reaches our GraphQL API (served by the HTTP door; kept for it).
    public var graphQLEndpoint: String?
    /// `graphql.authentication` (oauth2 client credentials Governance uses toward us; kept for the HTTP door).
    public var graphQLClientID: String?
    public var graphQLClientSecret: String?
    public var graphQLTokenURL: String?
    /// `audit.endpoint`: the guide writes the whole URL (`…/api/v1/audit-events`); a bare base URL gets that path.
    public var auditEndpoint: String?
    /// `audit.authentication.api_key`, sent as `X-API-Key` (may be `${VARIABLE}`).
    public var apiKey = "${GOVERNANCE_API_KEY}"
    /// `audit.push_events`: which audit entries are pushed; the others are passed over (the cursor still moves).
    public var pushEvents: Set<GovernanceEventType> = Set(GovernanceEventType.allCases)
    /// `audit.batching.enabled`: off sends each event on its own (a batch of one).
    public var batchingEnabled = true
    /// `audit.batching.max_batch_size`: at most this many events per request.
    public var maxBatchSize = 100
    /// `audit.batching.max_wait_ms` in seconds: a partial batch goes out once its oldest event has waited this long.
    public var maxWaitSeconds: Double = 60
    /// Per-request timeout.
    public var timeoutSeconds: Double = 10

    public init() {}

    /// The URL audit batches are POSTed to, or nil when no endpoint is configured.
    public var auditURL: String? {
        guard let endpoint = auditEndpoint, !endpoint.isEmpty else { return nil }
        if endpoint.hasSuffix("/audit-events") { return endpoint }
        return (endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint) + "/api/v1/audit-events"
    }

    /// Events per request after the batching switch.
    public var effectiveBatchSize: Int { batchingEnabled ? max(1, min(maxBatchSize, 1000)) : 1 }
}

/// One `project_mapping` entry of the Jira block: categories (empty: the default) → project and issue type.
public struct JiraProjectRoute: Sendable, Hashable {
    public var categories: Set<String>
    public var projectKey: String
    public var issueType: String

    public init(categories: Set<String>, projectKey: String, issueType: String) {
        self.categories = categories
        self.projectKey = projectKey
        self.issueType = issueType
    }
}

/// `integrations.jira`.
public struct JiraConfig: Sendable, Hashable {
    public var enabled = true
    /// `base_url`, e.g. `https://your-company.atlassian.net`.
    public var baseURL = ""
    /// `authentication.username` (the Atlassian account's email) and `api_token`, sent as Basic auth.
    public var username = "${JIRA_USERNAME}"
    public var apiToken = "${JIRA_API_TOKEN}"
    /// Category routes, first match wins; `defaultRoute` for the rest (the guide's mapping is the default).
    public var projectMapping: [JiraProjectRoute] = [
        JiraProjectRoute(categories: ["security"], projectKey: "SEC", issueType: "Security Incident"),
        JiraProjectRoute(categories: ["performance", "availability"], projectKey: "OPS", issueType: "Incident"),
    ]
    public var defaultRoute = JiraProjectRoute(categories: [], projectKey: "INCIDENT", issueType: "Bug")
    /// `field_mapping.severity` and `.priority`: the names Jira knows for our priorities.
    public var severityNames: [Priority: String] = [.p0: "Critical", .p1: "High", .p2: "Medium", .p3: "Low",
                                                    .p4: "Trivial"]
    public var priorityNames: [Priority: String] = [.p0: "Highest", .p1: "High", .p2: "Medium", .p3: "Low",
                                                    .p4: "Lowest"]
    /// `incident_id_field`: the custom field holding our incident id (the guide's `customfield_10001`).
    public var incidentIDField = "customfield_10001"
    /// `create_on.severity`: priorities whose creation opens an issue (default P0–P2).
    public var createPriorities: Set<Priority> = [.p0, .p1, .p2]
    /// `sync.enabled`, `sync.bidirectional`, `sync.sync_interval_seconds`.
    public var syncEnabled = true
    public var bidirectional = true
    public var syncIntervalSeconds: Double = 300
    /// `sync.status_map`: Jira status name → our status (`Done: RESOLVED`).
    public var statusMap: [String: String] = ["Done": "RESOLVED", "In Progress": "IN_PROGRESS"]
    /// `sync.transitions`: our status → the Jira transition that brings an issue there.
    public var transitions: [String: String] = ["RESOLVED": "Done", "CLOSED": "Done", "IN_PROGRESS": "In Progress"]
    /// `timeout`: per-request timeout.
    public var timeoutSeconds: Double = 10

    public init() {}

    /// Project and issue type for an incident's category.
    public func route(category: String) -> JiraProjectRoute {
        projectMapping.first { $0.categories.contains(category) } ?? defaultRoute
    }
}
