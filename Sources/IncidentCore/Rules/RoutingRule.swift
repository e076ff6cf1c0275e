// Routing: which team owns an incident, which escalation policy pages for it, which channels hear of it.

/// One routing rule; the first rule whose conditions match decides.
public struct RoutingRule: Sendable, Hashable {
    public var name: String
    public var conditions: RuleConditions
    public var team: String
    public var escalationPolicy: String
    /// Notification channels (`slack:#sec-incidents`, `pagerduty`, `webhook:siem`).
    public var channels: [String]

    public init(name: String, conditions: RuleConditions, team: String, escalationPolicy: String, channels: [String] = []) {
        self.name = name
        self.conditions = conditions
        self.team = team
        self.escalationPolicy = escalationPolicy
        self.channels = channels
    }
}
