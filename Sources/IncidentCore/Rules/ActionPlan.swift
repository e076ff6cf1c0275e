// What the rules decided for one event: its owner, whether to page, and each remediation action's fate.

/// The state an action starts in, and why.
public enum PlannedActionState: Sendable, Hashable, CustomStringConvertible {
    /// Ready to run.
    case pending
    /// Waits for a human decision until the approval expires (then it is denied).
    case awaitingApproval(expiresAfterSeconds: Double)
    /// Would have run; recorded only.
    case dryRun
    /// Cannot run: a parameter it needs is missing from the event.
    case skipped(reason: String)
    /// The same rule acted on the same subject within its cooldown.
    case suppressedByCooldown
    /// The blast-radius cap was reached: no more automation for this tenant until a human looks.
    case cappedByBlastRadius

    /// The action's stored state: a stable name for scripts and storage.
    public var state: RemediationAction.State {
        switch self {
        case .pending: .pending
        case .awaitingApproval: .awaitingApproval
        case .dryRun: .dryRun
        case .skipped: .skipped
        case .suppressedByCooldown: .suppressedByCooldown
        case .cappedByBlastRadius: .cappedByBlastRadius
        }
    }

    /// `state`'s code.
    public var code: String { state.rawValue }

    public var description: String {
        switch self {
        case .skipped(let reason): "skipped (\(reason))"
        case .suppressedByCooldown: "suppressed (cooldown)"
        case .cappedByBlastRadius: "capped (blast radius)"
        default: state.rawValue
        }
    }
}

/// One action the rules chose for an event.
public struct PlannedAction: Sendable, Hashable {
    public var rule: String
    public var kind: RemediationKind
    public var parameters: [String: String]
    public var state: PlannedActionState
    /// Seconds after which the compensating action runs, when the rule sets a TTL.
    public var compensateAfterSeconds: Double?
}

/// Everything the rules decided for one event.
public struct IncidentPlan: Sendable, Hashable {
    public var team: String
    public var escalationPolicy: String
    public var channels: [String]
    /// The routing rule that decided, `nil` for the defaults.
    public var routingRule: String?
    /// Page the on-call now.
    public var page: Bool
    /// Why a page goes out (`P0 with auto_page`, `blast-radius cap reached`).
    public var pageReasons: [String]
    public var actions: [PlannedAction]
}
