// Turns an event's facts into a plan: routing, paging, and remediation actions through their guard rails.
// Pure apart from the guard rails' memory (cooldowns, blast-radius windows), which it keeps as a value;
// time comes in as an argument, so the same engine runs in the server and offline (`incidentctl rules test`).

/// The rules from the config, compiled once.
public struct RuleSet: Sendable, Hashable {
    public var routing: [RoutingRule]
    public var remediation: [RemediationRule]
    public var defaults: RoutingDefaults
    public var remediationEnabled: Bool
    /// Per action kind; kinds without a cap are unlimited.
    public var blastRadius: [String: BlastRadiusCap]
    /// Routing defaults of sources whose `integrations.<source>.routing` says otherwise than `defaults`.
    public var sourceDefaults: [String: RoutingDefaults]

    public init(
        routing: [RoutingRule] = [], remediation: [RemediationRule] = [], defaults: RoutingDefaults,
        remediationEnabled: Bool = true, blastRadius: [String: BlastRadiusCap] = [:],
        sourceDefaults: [String: RoutingDefaults] = [:]
    ) {
        self.sourceDefaults = sourceDefaults
        self.routing = routing
        self.remediation = remediation
        self.defaults = defaults
        self.remediationEnabled = remediationEnabled
        self.blastRadius = blastRadius
    }
}

/// Evaluates a rule set, remembering what the guard rails need across events.
public struct RulesEngine: Sendable {
    public let rules: RuleSet
    private var cooldownUntil: [String: Double] = [:]
    private var recentActions: [String: [Double]] = [:]
    private var evaluations = 0

    public init(rules: RuleSet) {
        self.rules = rules
    }

    /// Plans what happens for one event at time `now` (seconds on a monotonic clock).
    public mutating func plan(for event: EventFacts, now: Double) -> IncidentPlan {
        reservePlan(for: event, now: now).plan
    }

    /// Plans like `plan(for:now:)` and returns what the plan took from the guard rails (cooldowns, blast-radius
    /// counts), so the caller can give it back with `release` when the plan is not used: the event was a replay
    /// or was never written. Reserving at planning time, not after the write, keeps concurrent events for the same
    /// subject from all passing the cooldown before any of them is recorded.
    public mutating func reservePlan(
        for event: EventFacts, now: Double
    ) -> (plan: IncidentPlan, reservation: PlanReservation) {
        var reservation = PlanReservation()
        let plan = plan(for: event, now: now, reservation: &reservation)
        return (plan, reservation)
    }

    /// Gives back what a reserved plan took: cooldowns return to what they were, blast-radius counts drop it.
    public mutating func release(_ reservation: PlanReservation) {
        for (key, previous) in reservation.cooldowns.reversed() {
            // Only undo our own mark: a later plan cannot have set this key (it was suppressed by our cooldown).
            cooldownUntil[key] = previous
        }
        for (key, time) in reservation.windowEntries {
            if let index = recentActions[key]?.firstIndex(of: time) { recentActions[key]?.remove(at: index) }
        }
    }

    private mutating func plan(for event: EventFacts, now: Double, reservation: inout PlanReservation) -> IncidentPlan {
        evaluations += 1
        if evaluations % 1024 == 0 { forgetExpired(now: now) }

        let route = rules.routing.first { $0.conditions.matches(event) }
        let defaults = rules.sourceDefaults[event.source] ?? rules.defaults
        var plan = IncidentPlan(
            team: route?.team ?? defaults.defaultTeam,
            escalationPolicy: route?.escalationPolicy ?? defaults.escalationPolicy,
            channels: route?.channels ?? [],
            routingRule: route?.name,
            page: false,
            pageReasons: [],
            actions: [])
        if defaults.autoPage, event.priority <= .p1 {
            plan.page = true
            plan.pageReasons.append("\(event.priority) with auto_page")
        }
        guard rules.remediationEnabled else { return plan }

        for rule in rules.remediation where rule.conditions.matches(event) {
            let action = planAction(rule, for: event, now: now, reservation: &reservation)
            if action.state == .cappedByBlastRadius, !plan.pageReasons.contains("blast-radius cap reached") {
                plan.page = true
                plan.pageReasons.append("blast-radius cap reached")
            }
            plan.actions.append(action)
        }
        return plan
    }

    private mutating func planAction(
        _ rule: RemediationRule, for event: EventFacts, now: Double, reservation: inout PlanReservation
    ) -> PlannedAction {
        var parameters: [String: String] = [:]
        for name in rule.parameters { parameters[name] = event.parameter(name) }
        var action = PlannedAction(
            rule: rule.name, kind: rule.kind, parameters: parameters, state: .pending,
            compensateAfterSeconds: rule.compensateAfterSeconds)

        if let missing = rule.kind.requiredParameters.first(where: { parameters[$0] == nil }) {
            action.state = .skipped(reason: "the event has no \(missing)")
            return action
        }
        // The subject is who the action touches: the same user blocked twice in a flood is one block.
        let subject = rule.parameters.compactMap { parameters[$0] }.joined(separator: "/")
        let cooldownKey = "\(rule.name)|\(subject.isEmpty ? event.source : subject)"
        if let until = cooldownUntil[cooldownKey], now < until {
            action.state = .suppressedByCooldown
            return action
        }
        if rule.dryRun {
            reservation.cooldowns.append((cooldownKey, cooldownUntil[cooldownKey]))
            cooldownUntil[cooldownKey] = now + rule.cooldownSeconds
            action.state = .dryRun
            return action
        }
        if let cap = rules.blastRadius[rule.kind.description] {
            let windowKey = "\(rule.kind)|\(parameters["tenant_id"] ?? event.parameter("tenant_id") ?? "-")"
            var times = (recentActions[windowKey] ?? []).filter { $0 > now - cap.windowSeconds }
            guard times.count < cap.maxActions else {
                recentActions[windowKey] = times
                action.state = .cappedByBlastRadius
                return action
            }
            times.append(now)
            recentActions[windowKey] = times
            reservation.windowEntries.append((windowKey, now))
        }
        reservation.cooldowns.append((cooldownKey, cooldownUntil[cooldownKey]))
        cooldownUntil[cooldownKey] = now + rule.cooldownSeconds
        action.state = rule.requiresApproval ? .awaitingApproval(expiresAfterSeconds: rule.approvalTTLSeconds) : .pending
        return action
    }

    /// Keeps the guard rails' memory bounded during a long flood of distinct subjects.
    private mutating func forgetExpired(now: Double) {
        cooldownUntil = cooldownUntil.filter { $0.value > now }
        let longest = rules.blastRadius.values.map(\.windowSeconds).max() ?? 0
        recentActions = recentActions.compactMapValues { times in
            let kept = times.filter { $0 > now - longest }
            return kept.isEmpty ? nil : kept
        }
    }
}

/// What one plan took from the engine's guard rails; hand it to `RulesEngine.release` to give it back.
public struct PlanReservation: Sendable {
    /// Cooldown keys the plan set, with the value each had before.
    fileprivate var cooldowns: [(key: String, previous: Double?)] = []
    /// Blast-radius window entries the plan added.
    fileprivate var windowEntries: [(key: String, time: Double)] = []

    /// True when the plan touched no guard rail.
    public var isEmpty: Bool { cooldowns.isEmpty && windowEntries.isEmpty }
}
