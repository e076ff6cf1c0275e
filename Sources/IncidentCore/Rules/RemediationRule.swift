// Auto-remediation rules in the integration spec's form, with the guard rails a security team needs
// before letting software act on users: approval, dry run, cooldown, blast-radius cap, compensation.

/// What a remediation action does.
public enum RemediationKind: Sendable, Hashable, CustomStringConvertible {
    /// Block the user the event names (`user_id`); undone by `unblock_user`.
    case blockUser
    /// Rate-limit the tenant the event names (`tenant_id`); undone by lifting the limit.
    case rateLimit
    /// Call a configured webhook with the incident.
    case webhook
    /// An action declared under `custom_actions` in the config.
    case custom(String)

    /// The name used in config files and on the timeline.
    public var description: String {
        switch self {
        case .blockUser: "block_user"
        case .rateLimit: "rate_limit"
        case .webhook: "webhook"
        case .custom(let name): name
        }
    }

    /// The event parameters the action cannot run without.
    public var requiredParameters: [String] {
        switch self {
        case .blockUser: ["user_id"]
        case .rateLimit: ["tenant_id"]
        case .webhook, .custom: []
        }
    }

    /// The action that undoes this one, where one exists.
    public var compensation: String? {
        switch self {
        case .blockUser: "unblock_user"
        case .rateLimit: "lift_rate_limit"
        case .webhook, .custom: nil
        }
    }
}

/// One auto-remediation rule.
public struct RemediationRule: Sendable, Hashable {
    /// Unique within the config; defaults to the type and its position (`block_user#1`).
    public var name: String
    public var kind: RemediationKind
    public var conditions: RuleConditions
    /// Parameters copied from the event into the action (`user_id`, `tenant_id`, `session_id`).
    public var parameters: [String]
    /// The action waits in `awaiting_approval` until someone with `incident:update` decides.
    public var requiresApproval: Bool
    /// An approval not given within this many seconds becomes "denied".
    public var approvalTTLSeconds: Double
    /// Record what would happen, act on nothing.
    public var dryRun: Bool
    /// The same rule does not act on the same subject again within this many seconds.
    public var cooldownSeconds: Double
    /// The compensating action runs after this many seconds (`nil`: only when resolved as a false positive).
    public var compensateAfterSeconds: Double?

    public init(
        name: String, kind: RemediationKind, conditions: RuleConditions, parameters: [String]? = nil,
        requiresApproval: Bool = false, approvalTTLSeconds: Double = 3600, dryRun: Bool = false,
        cooldownSeconds: Double = 300, compensateAfterSeconds: Double? = nil
    ) {
        self.name = name
        self.kind = kind
        self.conditions = conditions
        self.parameters = parameters ?? (kind.requiredParameters + ["session_id"])
        self.requiresApproval = requiresApproval
        self.approvalTTLSeconds = approvalTTLSeconds
        self.dryRun = dryRun
        self.cooldownSeconds = cooldownSeconds
        self.compensateAfterSeconds = compensateAfterSeconds
    }
}

/// A cap on how much automation may do before a human must look: at most `maxActions` of one kind per
/// tenant within `windowSeconds`.
public struct BlastRadiusCap: Sendable, Hashable {
    public var maxActions: Int
    public var windowSeconds: Double

    public init(maxActions: Int, windowSeconds: Double) {
        self.maxActions = maxActions
        self.windowSeconds = windowSeconds
    }
}
