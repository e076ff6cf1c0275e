// Escalation: who is paged next when nobody acknowledges a P0/P1 in time. The policy in force when
// an incident is created is frozen onto it, so a config reload never changes incidents in flight.

/// One step of an escalation policy.
public struct EscalationLevel: Sendable, Hashable, Codable {
    /// Who is paged at this level (a PagerDuty schedule, a team, a person).
    public var targets: [String]
    /// How long this level has to acknowledge before the next one is paged.
    public var timeoutMinutes: Double

    public init(targets: [String], timeoutMinutes: Double) {
        self.targets = targets
        self.timeoutMinutes = timeoutMinutes
    }
}

/// A named chain of levels; after the last level the policy repeats it up to `repeats` more times.
public struct EscalationPolicy: Sendable, Hashable, Codable {
    public var name: String
    public var levels: [EscalationLevel]
    public var repeats: Int

    public init(name: String, levels: [EscalationLevel], repeats: Int = 0) {
        precondition(!levels.isEmpty, "an escalation policy needs at least one level")
        self.name = name
        self.levels = levels
        self.repeats = repeats
    }

    /// A one-level policy paging `team` with the spec's `escalation_timeout_minutes`.
    public static func single(name: String, team: String, timeoutMinutes: Double = 15) -> EscalationPolicy {
        EscalationPolicy(name: name, levels: [EscalationLevel(targets: [team], timeoutMinutes: timeoutMinutes)], repeats: 2)
    }

    /// The step after `step` (0 is the first page), or `nil` when the policy is exhausted.
    public func step(after step: Int) -> EscalationStep? {
        let next = step + 1
        guard next < levels.count * (repeats + 1) else { return nil }
        return self.step(next)
    }

    /// Step `index` counted across repeats.
    public func step(_ index: Int) -> EscalationStep {
        let level = levels[index % levels.count]
        return EscalationStep(index: index, level: index % levels.count, targets: level.targets,
                              timeoutSeconds: level.timeoutMinutes * 60)
    }
}

/// Where an escalation stands: which level pages whom, and when the next escalation is due.
public struct EscalationStep: Sendable, Hashable {
    public var index: Int
    public var level: Int
    public var targets: [String]
    /// After this long without acknowledgement, escalate.
    public var timeoutSeconds: Double
}
