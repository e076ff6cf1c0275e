// The config of what acts on the world: PagerDuty and Slack (`notifications`), generic webhooks, remediation
// executors and the job workers. Secret values may be written as `${VARIABLE}`: they are kept as written here and
// expanded from the environment only when the integrations are built, so no secret lives in a parsed config.

/// The `notifications` block.
public struct NotificationsConfig: Sendable, Hashable {
    public var pagerDuty = PagerDutyConfig()
    public var slack = SlackConfig()

    public init() {}
}

/// `notifications.pagerduty`: Events API v2, routed by priority to integration keys.
public struct PagerDutyConfig: Sendable, Hashable {
    /// On by default: in the default `mock` mode pages are only recorded, so `make run` shows them.
    public var enabled = true
    /// The Events API v2 URL (a proxy or a test receiver may stand in).
    public var endpoint = "https://events.pagerduty.com/v2/enqueue"
    /// The key for priorities no `service_routing` entry names (may be `${VARIABLE}`).
    public var integrationKey: String? = "${PAGERDUTY_INTEGRATION_KEY}"
    /// `service_routing`: priorities → integration (routing) key, first match wins.
    public var serviceRouting: [PagerDutyRoute] = []
    /// Send `resolve` for every alert of the incident when it is resolved (`auto_resolve`, default true).
    public var autoResolve = true
    /// Start the escalation timer when a page goes out.
    public var escalateOnTimeout = true
    /// How long the first level has to acknowledge, for policies the config does not spell out.
    public var escalationTimeoutMinutes: Double = 15
    /// PagerDuty's per-key limit we stay under.
    public var eventsPerMinute: Double = 120

    public init() {}

    /// The integration key for a priority (as written, before environment expansion), if it is paged at all.
    public func integrationKey(for priority: Priority) -> String? {
        serviceRouting.first { $0.priorities.isEmpty || $0.priorities.contains(priority) }?.integrationKey
            ?? integrationKey
    }

    /// How the timeline names a key: its variable (`PD_L2_KEY` for `${PD_L2_KEY}`), never its value.
    public static func keyName(_ raw: String?) -> String {
        guard let raw else { return "no key" }
        return secretReferenceName(raw) ?? "a key written in the config"
    }
}

/// One `service_routing` entry: priorities (empty: any) and the integration key they page.
public struct PagerDutyRoute: Sendable, Hashable {
    public var priorities: Set<Priority>
    public var integrationKey: String

    public init(priorities: Set<Priority>, integrationKey: String) {
        self.priorities = priorities
        self.integrationKey = integrationKey
    }
}

/// One `channel_routing` entry of the Slack block: the first whose conditions match picks the channel.
public struct SlackChannelRoute: Sendable, Hashable {
    /// Priorities; empty matches any.
    public var priorities: Set<Priority>
    /// Categories; empty matches any.
    public var categories: Set<String>
    public var channel: String

    public init(priorities: Set<Priority> = [], categories: Set<String> = [], channel: String) {
        self.priorities = priorities
        self.categories = categories
        self.channel = channel
    }

    /// Whether an incident of this priority and category takes this route.
    public func matches(priority: Priority, category: String) -> Bool {
        (priorities.isEmpty || priorities.contains(priority)) && (categories.isEmpty || categories.contains(category))
    }
}

extension [SlackChannelRoute] {
    /// The channel of the first matching route, else `fallback`: the one routing rule for creates,
    /// escalations, SLA breaches and the message builder alike.
    public func channel(priority: Priority, category: String, fallback: String) -> String {
        first { $0.matches(priority: priority, category: category) }?.channel ?? fallback
    }
}

/// `notifications.slack`: Block Kit messages through an incoming webhook.
public struct SlackConfig: Sendable, Hashable {
    /// On by default, like PagerDuty: recorded only in `mock` mode.
    public var enabled = true
    /// The incoming webhook (may be `${VARIABLE}`).
    public var webhookURL = "${SLACK_WEBHOOK_URL}"
    public var channelRouting: [SlackChannelRoute] = []
    /// The `- default: "#channel"` entry.
    public var defaultChannel = "#incidents-general"
    /// Mention groups per priority when `mention_on_create` is on.
    public var mentionGroups: [Priority: [String]] = [:]
    public var mentionOnCreate = true
    /// The Slack app's signing secret for the button callback, as written (`${SLACK_SIGNING_SECRET}`): expanded from
    /// the environment only by the HTTP door, so the parsed config holds no secret. Nil: the callback answers 401.
    public var signingSecret: String?
    /// Slack user id (`U0123ABC`) → configured identity name: who a button press acts as. A user not listed
    /// changes nothing, so a Slack workspace member gets no rights our config did not give.
    public var userMapping: [String: String] = [:]

    public init() {}
}

/// One trigger of a webhook: an event and the priorities it fires for (empty: all).
public struct WebhookTriggerConfig: Sendable, Hashable {
    /// `incident_created`, `incident_resolved`, `sla_breached` or `escalated`.
    public var event: String
    public var priorities: Set<Priority>

    public init(event: String, priorities: Set<Priority> = []) {
        self.event = event
        self.priorities = priorities
    }
}

/// One entry of `integrations.webhooks`.
public struct WebhookConfig: Sendable, Hashable {
    public var name: String
    public var enabled = true
    public var url: String
    public var method = "POST"
    /// `authentication: {type: bearer, token: ...}` (may be `${VARIABLE}`).
    public var bearerToken: String?
    /// HMAC-SHA256 signing secret for `X-Incident-Signature` (may be `${VARIABLE}`).
    public var signingSecret: String?
    public var triggers: [WebhookTriggerConfig] = []
    public var headers: [String: String] = [:]
    public var payloadTemplate: String?
    public var maxAttempts = 3
    public var timeoutSeconds: Double = 10

    public init(name: String, url: String) {
        self.name = name
        self.url = url
    }

    /// Whether the webhook wants `event` for an incident of `priority`.
    public func fires(on event: String, priority: Priority) -> Bool {
        enabled && triggers.contains { trigger in
            trigger.event == event && (trigger.priorities.isEmpty || trigger.priorities.contains(priority))
        }
    }
}

/// Where one remediation action is carried out (`auto_remediation.executors.<action>`).
public struct ExecutorConfig: Sendable, Hashable {
    /// The action it runs: a rule type (`block_user`) or a compensation (`unblock_user`).
    public var action: String
    public var url: String
    /// HMAC-SHA256 secret for the signature header (may be `${VARIABLE}`).
    public var signingSecret: String
    public var timeoutSeconds: Double = 5
    public var maxAttempts = 5

    public init(action: String, url: String, signingSecret: String) {
        self.action = action
        self.url = url
        self.signingSecret = signingSecret
    }
}

/// The `jobs` block.
public struct JobRunnerConfig: Sendable, Hashable {
    /// Run the workers in this process (replicas may leave it to others).
    public var enabled = true
    /// Jobs run at once.
    public var workers = 4
    /// How often idle workers look for jobs enqueued elsewhere or falling due; jobs enqueued by this process start
    /// at once regardless.
    public var pollIntervalSeconds: Double = 0.25
    /// How long a claimed job is held; a worker that dies loses its jobs to others after this.
    public var leaseSeconds: Double = 30
    /// First delay before a failed job runs again; it doubles per attempt (with jitter) up to `retryMaxSeconds`.
    public var retryBaseSeconds: Double = 1
    public var retryMaxSeconds: Double = 300
    /// Consecutive failures of one integration or executor that open its circuit breaker.
    public var breakerThreshold = 5
    /// How long an open breaker stops calls.
    public var breakerCoolOffSeconds: Double = 30

    public init() {}
}

/// `NAME` when `text` is exactly one `${NAME}` reference, else `nil`.
public func secretReferenceName(_ text: String) -> String? {
    guard text.hasPrefix("${"), text.hasSuffix("}"), text.count > 3 else { return nil }
    let name = text.dropFirst(2).dropLast()
    let allowed = name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
    return allowed && !(name.first?.isNumber ?? true) ? String(name) : nil
}

/// Expands `${NAME}` references from an environment; unknown names expand to nothing.
public func expandEnvironment(_ text: String, _ environment: [String: String]) -> String {
    var output = ""
    var rest = text[...]
    while let open = rest.range(of: "${") {
        output += rest[..<open.lowerBound]
        guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
            rest = rest[open.lowerBound...]
            break
        }
        output += environment[String(rest[open.upperBound..<close])] ?? ""
        rest = rest[rest.index(after: close)...]
    }
    return output + rest
}
