// Correlation keys: which events belong to one incident. Configured per source with a global default, in the
// spirit of Alertmanager's `group_by`; the store folds a keyed event into the open incident holding its key.
import Foundation

/// The `correlation` block: on/off, the default grouping and window, and per-source overrides.
public struct CorrelationConfig: Sendable, Hashable {
    /// `correlation: {enabled: false}` turns folding off: every event opens its own incident, as before.
    public var enabled = true
    /// The grouping for sources without their own; empty means such sources are not correlated.
    public var defaultRule = CorrelationRule(groupBy: [], windowSeconds: CorrelationRule.defaultWindowSeconds)
    /// Per-source groupings by source name; LLM-Shield's is built in (see `builtInSources`).
    public var sources: [String: CorrelationRule] = CorrelationConfig.builtInSources

    /// LLM-Shield reports each prompt-injection attempt as its own event: one user's burst is one attack.
    public static let builtInSources: [String: CorrelationRule] = [
        "llm-shield": CorrelationRule(groupBy: [.source, .eventType, .tag("user_id")],
                                      windowSeconds: CorrelationRule.defaultWindowSeconds),
    ]

    public init() {}

    /// The rule that applies to events of `source`, nil when they are not correlated.
    public func rule(for source: String) -> CorrelationRule? {
        guard enabled else { return nil }
        let rule = sources[source] ?? defaultRule
        return rule.groupBy.isEmpty ? nil : rule
    }

    /// The key `event` correlates on, nil when correlation is off for its source or a grouped field is empty
    /// (an event without the user's tag is nobody's burst).
    public func key(for event: SecurityEvent) -> CorrelationKey? {
        guard let rule = rule(for: event.source) else { return nil }
        return rule.key(for: event)
    }
}

/// One grouping: the fields whose values must match, and how long an incident keeps absorbing after its last event.
public struct CorrelationRule: Sendable, Hashable {
    /// Fifteen minutes, as Alertmanager's default `group_interval` times three: a pause in an attack that long ends it.
    public static let defaultWindowSeconds: Double = 900
    public var groupBy: [CorrelationField]
    /// Measured from the incident's last correlated event.
    public var windowSeconds: Double

    public init(groupBy: [CorrelationField], windowSeconds: Double) {
        self.groupBy = groupBy
        self.windowSeconds = windowSeconds
    }

    /// The key of `event` under this rule, nil when a grouped field is empty.
    public func key(for event: SecurityEvent) -> CorrelationKey? {
        var values: [String] = []
        for field in groupBy {
            let value = field.value(in: event)
            if value.isEmpty { return nil }
            values.append(value)
        }
        // The values (a user id, often an email) are hashed: the key is shown to readers and indexed, and must not
        // carry the PII the redaction rules keep out of the incident. Length-prefixed so no two lists collide.
        var bytes: [UInt8] = []
        for value in values {
            bytes += Array("\(value.utf8.count):".utf8) + Array(value.utf8)
        }
        let digest = Digest.sha256(bytes).prefix(16).map { String(format: "%02x", $0) }.joined()
        return CorrelationKey(value: groupBy.map(\.name).joined(separator: ",") + ":" + digest,
                              windowSeconds: windowSeconds)
    }
}

/// An event field a grouping can name.
public enum CorrelationField: Sendable, Hashable {
    case source, eventType, category, resourceID, severity
    /// `tags.<name>`.
    case tag(String)

    /// The field from its config spelling (`source`, `event_type`, `category`, `resource.id`, `severity`,
    /// `tags.<name>`); nil for anything else.
    public init?(name: String) {
        switch name {
        case "source": self = .source
        case "event_type": self = .eventType
        case "category": self = .category
        case "resource.id": self = .resourceID
        case "severity": self = .severity
        default:
            guard name.hasPrefix("tags."), name.count > 5 else { return nil }
            self = .tag(String(name.dropFirst(5)))
        }
    }

    /// The config spelling.
    public var name: String {
        switch self {
        case .source: "source"
        case .eventType: "event_type"
        case .category: "category"
        case .resourceID: "resource.id"
        case .severity: "severity"
        case .tag(let name): "tags.\(name)"
        }
    }

    func value(in event: SecurityEvent) -> String {
        switch self {
        case .source: event.source
        case .eventType: event.eventType
        case .category: event.category
        case .resourceID: event.resource.id
        case .severity: event.severity.lowercased()
        case .tag(let name): event.tags[name] ?? ""
        }
    }
}

/// The key an event correlates on and the window of its rule.
public struct CorrelationKey: Sendable, Hashable {
    /// `<fields>:<hash of their values>`, e.g. `source,event_type,tags.user_id:3f…`.
    public var value: String
    public var windowSeconds: Double

    public init(value: String, windowSeconds: Double) {
        self.value = value
        self.windowSeconds = windowSeconds
    }
}
