// SLA clocks per priority: how long acknowledgement and resolution may take. A breach is a fact
// recorded once on the incident; the timers that detect it are jobs with due times in Postgres.

/// Targets for one priority.
public struct SLATarget: Sendable, Hashable, Codable {
    public var acknowledgeWithinSeconds: Double
    public var resolveWithinSeconds: Double

    public init(acknowledgeWithinSeconds: Double, resolveWithinSeconds: Double) {
        self.acknowledgeWithinSeconds = acknowledgeWithinSeconds
        self.resolveWithinSeconds = resolveWithinSeconds
    }
}

/// Which SLA was missed.
public enum SLAKind: String, Sendable, Hashable, Codable {
    case acknowledge
    case resolve
}

/// SLA targets by priority (0 = P0).
public struct SLAPolicy: Sendable, Hashable, Codable {
    public var targets: [Int: SLATarget]

    public init(targets: [Int: SLATarget]) {
        self.targets = targets
    }

    /// Common security-team targets: P0 acknowledged in 5 minutes and resolved in 4 hours, down to P4 in a
    /// day and two weeks.
    public static let defaults = SLAPolicy(targets: [
        0: SLATarget(acknowledgeWithinSeconds: 5 * 60, resolveWithinSeconds: 4 * 3600),
        1: SLATarget(acknowledgeWithinSeconds: 15 * 60, resolveWithinSeconds: 24 * 3600),
        2: SLATarget(acknowledgeWithinSeconds: 3600, resolveWithinSeconds: 3 * 86400),
        3: SLATarget(acknowledgeWithinSeconds: 4 * 3600, resolveWithinSeconds: 7 * 86400),
        4: SLATarget(acknowledgeWithinSeconds: 86400, resolveWithinSeconds: 14 * 86400),
    ])

    /// When each clock runs out for an incident created at `createdAt` (seconds since 1970).
    public func deadlines(priority: Int, createdAt: Double) -> [SLAKind: Double] {
        guard let target = targets[priority] else { return [:] }
        return [.acknowledge: createdAt + target.acknowledgeWithinSeconds,
                .resolve: createdAt + target.resolveWithinSeconds]
    }

    /// Whether the `kind` SLA is breached at `now`, given when (if ever) the incident was acknowledged or resolved.
    /// A clock stops when its goal is reached, so a late acknowledgement is a breach and an early one never is.
    public func isBreached(
        _ kind: SLAKind, priority: Int, createdAt: Double, acknowledgedAt: Double?, resolvedAt: Double?, now: Double
    ) -> Bool {
        guard let deadline = deadlines(priority: priority, createdAt: createdAt)[kind] else { return false }
        return Self.isBreached(kind, deadline: deadline, acknowledgedAt: acknowledgedAt, resolvedAt: resolvedAt,
                               now: now)
    }

    /// Whether a `kind` clock that runs out at `deadline` is breached at `now` (all in seconds since 1970).
    public static func isBreached(
        _ kind: SLAKind, deadline: Double, acknowledgedAt: Double?, resolvedAt: Double?, now: Double
    ) -> Bool {
        let reached: Double? = switch kind {
        case .acknowledge: acknowledgedAt ?? resolvedAt
        case .resolve: resolvedAt
        }
        if let reached { return reached > deadline }
        return now > deadline
    }
}
