// Escalation: who is paged next when nobody acknowledges a P0/P1 in time. The policy in force when
// an incident is created is frozen onto it, so a config reload never changes incidents in flight.

/// One step of an escalation policy.
public struct EscalationLevel: Sendable, Hashable, Codable {
    /// Who is paged at this level (a PagerDuty schedule, a team, a person).
    public var targets: [String]
    /// How long this level has to acknowledge before the next one is paged.
    public var timeoutMinutes: Double
    /// Where this level pages: a PagerDuty integration key as a `${VARIABLE}` reference (never the key itself,
    /// since the policy travels frozen in the job queue). `nil`: the key `service_routing` gives the incident.
    public var integrationKey: String?

    public init(targets: [String], timeoutMinutes: Double, integrationKey: String? = nil) {
        self.targets = targets
        self.timeoutMinutes = timeoutMinutes
        self.integrationKey = integrationKey
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
                              timeoutSeconds: level.timeoutMinutes * 60, integrationKey: level.integrationKey,
                              round: index / levels.count)
    }
}

/// Where an escalation stands: which level pages whom, and when the next escalation is due.
public struct EscalationStep: Sendable, Hashable {
    public var index: Int
    public var level: Int
    public var targets: [String]
    /// After this long without acknowledgement, escalate.
    public var timeoutSeconds: Double
    /// The level's own integration key reference (`${VARIABLE}`), if it has one.
    public var integrationKey: String? = nil
    /// Which walk through the levels this step belongs to: 0 the first, 1 the first repeat, ...
    public var round: Int = 0

    /// PagerDuty's dedup key for this step's page. The first page keeps the incident id (alerts opened before
    /// levels had keys of their own stay addressable); each later step is a new alert, `<id>:L<level>` (level
    /// counted from 1), `<id>:L<level>:R<round>` on a repeat, because a trigger under an open alert's dedup key
    /// is folded into that alert and pages nobody new.
    public func pageDedupKey(incidentID: String) -> String {
        if index == 0 { return incidentID }
        return "\(incidentID):L\(level + 1)" + (round == 0 ? "" : ":R\(round + 1)")
    }
}
