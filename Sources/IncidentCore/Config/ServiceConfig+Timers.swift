// Which escalation policy an incident follows: the one the config defines under that name, or, for a name routing
// uses without defining it, the spec's default of paging the owning team every `escalation_timeout_minutes`
// (15 unless PagerDuty's config says otherwise), three times.

extension ServiceConfig {
    /// The escalation policy to freeze onto a new incident routed to `name` and owned by `team`.
    public func escalationPolicy(named name: String, team: String, timeoutMinutes: Double = 15) -> EscalationPolicy {
        escalationPolicies[name]
            ?? .single(name: name, team: team.isEmpty ? routing.defaultTeam : team, timeoutMinutes: timeoutMinutes)
    }
}
