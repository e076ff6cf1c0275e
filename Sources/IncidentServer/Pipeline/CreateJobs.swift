// The jobs a new incident starts, written in the incident's own transaction: its page, notifications, webhooks,
// remediation actions with their compensations, and its timers (escalation, SLA clocks, approval expiry).
// A replay enqueues nothing: the store skips the jobs of a create that turns out to be a duplicate.
import IncidentCore
import IncidentStore

/// Decides the jobs of a new incident from its plan and the config.
struct CreateJobs: Sendable {
    let config: ServiceConfig
    /// The SLA targets the `sla.check` timers are due by.
    let sla: SLAPolicy

    init(config: ServiceConfig) {
        self.config = config
        self.sla = config.sla
    }

    /// Every job for an incident created from `draft` as `plan` decided; each runs at the incident's priority.
    func jobs(for draft: IncidentDraft, plan: IncidentPlan) -> [JobRequest] {
        let priority = draft.priority
        var jobs: [JobRequest] = []
        func add(_ kind: JobKind, _ key: String, delaySeconds: Double = 0, attempts: Int = 8,
                 _ payload: [String: String]) {
            jobs.append(JobRequest(kind: kind.rawValue, key: key, priority: priority,
                                   delay: .milliseconds(Int64(max(0, delaySeconds) * 1000)), maxAttempts: attempts,
                                   payload: payload))
        }

        let pagerDuty = config.notifications.pagerDuty
        if plan.page && pagerDuty.enabled {
            // The policy in force now travels frozen in the timers; its first level's timeout starts now.
            let policy = config.escalationPolicy(named: plan.escalationPolicy, team: plan.team,
                                                 timeoutMinutes: pagerDuty.escalationTimeoutMinutes)
            var payload = ["reason": plan.pageReasons.joined(separator: "; ")]
            // A first level with a key of its own is paged there (its `${VARIABLE}` reference travels in the job).
            if let key = policy.levels[0].integrationKey {
                payload["integration_key"] = key
                payload["level"] = "1"
                payload["targets"] = policy.levels[0].targets.joined(separator: ", ")
            }
            add(.pageTrigger, "page.trigger", payload)
            if pagerDuty.escalateOnTimeout {
                jobs.append(EscalationTimer.first(of: policy, priority: priority))
            }
        }
        for channel in slackChannels(for: draft, plan: plan) {
            add(.slackNotify, "notify.slack:\(channel):incident_created",
                ["channel": channel, "event": "incident_created"])
        }
        for webhook in config.webhooks where webhook.fires(on: "incident_created", priority: priority) {
            add(.webhook, "webhook:\(webhook.name):incident_created", attempts: webhook.maxAttempts,
                ["webhook": webhook.name, "trigger": "incident_created"])
        }
        for (action, planned) in zip(draft.remediationActions, plan.actions) {
            let attempts = config.remediation.executors[action.kind]?.maxAttempts ?? 5
            // The stored action's parameters may be redacted; the executor gets the plan's own values.
            let payload = ExecutorInputs.payload(planned.parameters).merging(["action_id": action.id]) { $1 }
            switch planned.state {
            case .pending:
                add(.remediate, "remediate:\(action.id)", attempts: attempts, payload)
                if let ttl = planned.compensateAfterSeconds, planned.kind.compensation != nil {
                    add(.compensate, "remediate.compensate:\(action.id)", delaySeconds: ttl, attempts: attempts,
                        payload)
                }
            case .awaitingApproval(let expiresAfter):
                add(.approvalExpiry, "approval.expire:\(action.id)", delaySeconds: expiresAfter, attempts: 5,
                    payload)
            case .dryRun, .skipped, .suppressedByCooldown, .cappedByBlastRadius:
                break
            }
        }
        let deadlines = sla.deadlines(priority: priority.rawValue, createdAt: 0)
        for kind in [SLAKind.acknowledge, .resolve] {
            guard let after = deadlines[kind] else { continue }
            add(.slaCheck, "sla.check:\(kind.rawValue)", delaySeconds: after, attempts: 5, ["clock": kind.rawValue])
        }
        return jobs
    }

    /// The Slack channels an incident is announced in: the routing rule's `slack:` channels, else Slack's own
    /// channel routing.
    func slackChannels(for draft: IncidentDraft, plan: IncidentPlan) -> [String] {
        let slack = config.notifications.slack
        guard slack.enabled else { return [] }
        let routed = plan.channels.compactMap { channel -> String? in
            channel.hasPrefix("slack:") ? String(channel.dropFirst("slack:".count)) : nil
        }
        if !routed.isEmpty { return Array(Set(routed)).sorted() }
        return slackChannels(priority: draft.priority, category: draft.category)
    }

    /// Slack's own channel routing by priority and category (escalations and SLA breaches use it too).
    func slackChannels(priority: Priority, category: String) -> [String] {
        let slack = config.notifications.slack
        guard slack.enabled else { return [] }
        let route = slack.channelRouting.first { route in
            (route.priorities.isEmpty || route.priorities.contains(priority))
                && (route.categories.isEmpty || route.categories.contains(category))
        }
        return [route?.channel ?? slack.defaultChannel]
    }
}
