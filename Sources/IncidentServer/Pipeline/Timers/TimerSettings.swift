// What the timer handlers need besides the store: the policies in force for incidents whose jobs carry none, the
// SLA targets, and who hears of an escalation or a breach (webhooks by trigger, Slack channels).
import IncidentCore
import IncidentStore

/// The config the escalation, SLA and approval-expiry handlers read, resolved when the server starts.
struct TimerSettings: Sendable {
    /// The service config: escalation policies (for jobs enqueued without a frozen policy) and SLA targets.
    var config: ServiceConfig
    /// The level timeout of a policy routing names but the config does not define (`escalation_timeout_minutes`).
    var escalationTimeoutMinutes: Double
    /// Names of the configured webhooks that fire on `trigger` (`escalated`, `sla_breached`) at a priority.
    var webhooks: @Sendable (_ trigger: String, _ priority: Priority) -> [String]
    /// Slack channels to tell about an incident's escalation or breach.
    var slackChannels: @Sendable (_ incident: Incident) -> [String]

    init(
        config: ServiceConfig,
        escalationTimeoutMinutes: Double = 15,
        webhooks: @escaping @Sendable (_ trigger: String, _ priority: Priority) -> [String] = { _, _ in [] },
        slackChannels: @escaping @Sendable (_ incident: Incident) -> [String] = { _ in [] }
    ) {
        self.config = config
        self.escalationTimeoutMinutes = escalationTimeoutMinutes
        self.webhooks = webhooks
        self.slackChannels = slackChannels
    }

    /// The policy for an incident whose timer carries none (enqueued before policies were frozen into timers).
    func escalationPolicy(for incident: Incident) -> EscalationPolicy {
        config.escalationPolicy(named: incident.escalationPolicy, team: incident.assignedTeam,
                                timeoutMinutes: escalationTimeoutMinutes)
    }

    /// The jobs telling webhooks and Slack about `event` (`escalated`, `sla_breached`); `occurrence` tells one
    /// occurrence from another in their idempotency keys (the escalation step, the SLA clock).
    func notifications(of event: String, occurrence: String, for incident: Incident) -> [JobRequest] {
        let hooks = webhooks(event, incident.priority).map { name in
            JobRequest(PlannedJob(.webhook(name: name, trigger: event), key: "webhook:\(name):\(event):\(occurrence)",
                                  priority: incident.priority))
        }
        let messages = slackChannels(incident).map { channel in
            JobRequest(PlannedJob(.slackNotify(channel: channel, event: event),
                                  key: "notify.slack:\(channel):\(event):\(occurrence)", priority: incident.priority))
        }
        return hooks + messages
    }
}
