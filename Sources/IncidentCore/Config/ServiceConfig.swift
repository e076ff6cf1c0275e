// The service's configuration: one YAML file in the shape of the integration spec's `llm-shield`
// section, plus defaults that match the development certificates so `make run` needs no file.

/// Everything the server reads from its config file.
public struct ServiceConfig: Sendable, Hashable {
    /// Addresses to listen on (`host:port`).
    public var listen: [String]
    /// Addresses of the HTTP door (`server.http_listen`, `--http-listen`); empty leaves it off, so several servers
    /// (tests, replicas on one host) do not fight over one port. `make run` serves it on 127.0.0.1:8443.
    public var httpListen: [String] = []
    /// The base URL links in answers point at (`links.incident`, `links.api`).
    public var publicURL: String
    /// Certificate files for mutual TLS.
    public var tls: TLSFiles
    /// Known identities; a certificate that matches none is refused with `PERMISSION_DENIED`.
    public var identities: [IdentityPolicy]
    /// The priority each severity gets.
    public var severityMapping: [Severity: Priority]
    /// Where incidents go when no routing rule says otherwise.
    public var routing: RoutingDefaults
    /// Escalation policies by name (`routing.escalation_policies`); see `escalationPolicy(named:team:)`.
    public var escalationPolicies: [String: EscalationPolicy] = [:]
    /// Acknowledgement and resolution targets per priority (`sla`).
    public var sla = SLAPolicy.defaults
    /// Handling of sensitive content in events.
    public var security: SecurityOptions
    /// The Postgres connection string; usually given by `DATABASE_URL` instead.
    public var databaseURL: String?
    /// Routing rules tried before the defaults, first match wins.
    public var routingRules: [RoutingRule] = []
    /// The `auto_remediation` block.
    public var remediation = RemediationConfig()
    /// The `notifications` block: PagerDuty and Slack.
    public var notifications = NotificationsConfig()
    /// `integrations.<source>` blocks (llm-shield, llm-sentinel, …) by source name: keys, rate limits, mappings.
    public var sources: [String: SourceIntegration] = [:]
    /// The `integrations.webhooks` list.
    public var webhooks: [WebhookConfig] = []
    /// `integrations.llm-governance-core` when present and enabled: the audit push (and the GraphQL pull's settings).
    public var governance: GovernanceConfig?
    /// `integrations.jira` when present and enabled.
    public var jira: JiraConfig?
    /// The `jobs` block: the background workers that page, notify and remediate.
    public var jobs = JobRunnerConfig()
    /// Bearer tokens (API keys, JWTs) that let a call act as a configured identity; none by default.
    public var tokens = TokenSettings()
    /// The `correlation` block: which events fold into one open incident.
    public var correlation = CorrelationConfig()

    /// The rules engine's view of this config.
    public var ruleSet: RuleSet {
        RuleSet(routing: routingRules, remediation: remediation.rules, defaults: routing,
                remediationEnabled: remediation.enabled, blastRadius: remediation.blastRadius,
                sourceDefaults: sources.compactMapValues { $0.enabled ? $0.routing : nil })
    }

    /// The defaults: development certificates under `certs/`, the spec's llm-shield routing, no bearer tokens
    /// (identities come from client certificates only until a `tokens` block names API key hashes or JWT keys).
    public static let defaults = ServiceConfig(
        listen: ["127.0.0.1:9090"],
        publicURL: "https://127.0.0.1:8443",
        tls: TLSFiles(
            certificateChain: "certs/server.crt", privateKey: "certs/server.key", clientCA: "certs/ca.crt"),
        identities: [
            IdentityPolicy(name: "llm-shield", permissions: [.eventCreate]),
            // The operators' identity files events by hand (`incidentctl create`, source `incidentctl` or a
            // detector's name when replaying one), so it may name any source; detectors only their own.
            IdentityPolicy(name: "secops", permissions: Set(Permission.allCases), sources: ["*"]),
            IdentityPolicy(name: "viewer", permissions: [.incidentRead, .incidentStream]),
        ],
        severityMapping: Dictionary(uniqueKeysWithValues: Severity.allCases.map { ($0, $0.defaultPriority) }),
        routing: RoutingDefaults(defaultTeam: "security-team", escalationPolicy: "security-critical", autoPage: true),
        security: SecurityOptions(redactPII: true, includeRequestHash: true),
        databaseURL: nil
    )

    /// The identity a certificate proves, if the config knows it.
    public func identity(commonName: String?, uris: [String], dnsNames: [String]) -> IdentityPolicy? {
        identities.first { $0.matches(commonName: commonName, uris: uris, dnsNames: dnsNames) }
    }
}

/// The integration spec's `auto_remediation` block.
public struct RemediationConfig: Sendable, Hashable {
    public var enabled = false
    public var rules: [RemediationRule] = []
    /// Caps per action kind (`block_user`).
    public var blastRadius: [String: BlastRadiusCap] = [:]
    /// Names of custom actions rules may use as their `type`.
    public var customActions: Set<String> = []
    /// Where each action (and compensation, e.g. `unblock_user`) is carried out, by action name.
    public var executors: [String: ExecutorConfig] = [:]

    public init() {}
}

/// Paths of the PEM files the server uses for mutual TLS.
public struct TLSFiles: Sendable, Hashable {
    /// The server's certificate chain.
    public var certificateChain: String
    /// The server's private key.
    public var privateKey: String
    /// The CA bundle client certificates must chain to.
    public var clientCA: String

    public init(certificateChain: String, privateKey: String, clientCA: String) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.clientCA = clientCA
    }
}

/// The integration spec's `routing` block.
public struct RoutingDefaults: Sendable, Hashable {
    /// The team incidents are assigned to.
    public var defaultTeam: String
    /// The escalation policy pages follow.
    public var escalationPolicy: String
    /// Page the on-call for P0 and P1.
    public var autoPage: Bool

    public init(defaultTeam: String, escalationPolicy: String, autoPage: Bool) {
        self.defaultTeam = defaultTeam
        self.escalationPolicy = escalationPolicy
        self.autoPage = autoPage
    }
}

/// The integration spec's `security` block.
public struct SecurityOptions: Sendable, Hashable {
    /// Mask emails, phones, cards, IPs and keys in title, description and tags before storage.
    public var redactPII: Bool
    /// Keep the SHA-256 of the request bytes on the incident.
    public var includeRequestHash: Bool

    public init(redactPII: Bool, includeRequestHash: Bool) {
        self.redactPII = redactPII
        self.includeRequestHash = includeRequestHash
    }
}
