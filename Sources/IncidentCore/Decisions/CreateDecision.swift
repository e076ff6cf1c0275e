// CreateIncident's decisions: who may report which source, the event's checks, its level through the configured
// mapping, the rules plan, the draft, and the jobs a new incident starts (its page, notifications, webhooks,
// remediation actions with their compensations, and its timers: escalation, SLA clocks, approval expiry).
import Foundation

extension IncidentDecisions {
    /// `event` checked, and bound to the sources `identity` may report. Dedupe is per (source, event_id): an identity
    /// speaking for another source could trigger that source's rules or claim its event ids first, so the real
    /// event would be refused as a conflict.
    public func admit(_ event: SecurityEvent, by identity: IdentityPolicy) throws(DomainError) -> ValidatedEvent {
        let valid: ValidatedEvent
        do {
            valid = try validator.validate(event)
        } catch {
            throw DomainError(.invalidArgument, error.description)
        }
        guard identity.mayReport(source: valid.event.source) else {
            throw DomainError(.permissionDenied, "source: identity \"\(identity.name)\" may not report source "
                              + "\"\(valid.event.source.prefix(128))\"")
        }
        return valid
    }

    /// The level `event` gets through the configured severity mapping.
    public func level(of event: ValidatedEvent) -> Priority { config.level(of: event) }

    /// The new incident for `event`: its rules plan (reserved in `rules`, whose cooldowns and counts the caller
    /// keeps), draft and jobs. `requestBytes` are hashed when `include_request_hash` is on.
    public func create(_ event: ValidatedEvent, by identity: IdentityPolicy, now: Date, rules: inout RulesEngine,
                       requestBytes: [UInt8]?) -> CreatePlan {
        let level = level(of: event)
        let (plan, reservation) = rules.reservePlan(for: event.facts(priority: level),
                                                    now: now.timeIntervalSince1970)
        let draft = drafts.draft(from: event, priority: level, plan: plan, actor: identity.name,
                                 requestBytes: requestBytes, now: now)
        let jobs = jobs(for: draft, plan: plan)
        let key = correlationKey(for: event)
        return CreatePlan(level: level, draft: draft, jobs: jobs, reservation: reservation, correlation: key,
                          raiseJobs: key == nil ? [] : raiseJobs(from: jobs, level: level))
    }

    /// Every job for an incident created from `draft` as `plan` decided; each runs at the incident's priority. A
    /// replay enqueues nothing: the store skips the jobs of a create that turns out to be a duplicate.
    public func jobs(for draft: IncidentDraft, plan: IncidentPlan) -> [PlannedJob] {
        let priority = draft.priority
        var jobs: [PlannedJob] = []
        func add(_ job: Job, _ key: String, delaySeconds: Double = 0, attempts: Int = 8) {
            jobs.append(PlannedJob(job, key: key, priority: priority,
                                   delay: .milliseconds(Int64(max(0, delaySeconds) * 1000)), maxAttempts: attempts))
        }

        let pagerDuty = config.notifications.pagerDuty
        if plan.page && pagerDuty.enabled {
            // The policy in force now travels frozen in the timers; its first level's timeout starts now.
            let policy = config.escalationPolicy(named: plan.escalationPolicy, team: plan.team,
                                                 timeoutMinutes: pagerDuty.escalationTimeoutMinutes)
            var page = Job.PageTrigger(reason: plan.pageReasons.joined(separator: "; "))
            // A first level with a key of its own is paged there (its `${VARIABLE}` reference travels in the job).
            if let key = policy.levels[0].integrationKey {
                page.integrationKey = key
                page.level = 1
                page.targets = policy.levels[0].targets.joined(separator: ", ")
            }
            add(.pageTrigger(page), "page.trigger")
            if pagerDuty.escalateOnTimeout {
                jobs.append(.escalation(after: policy.step(0), of: policy, priority: priority))
            }
        }
        for channel in slackChannels(for: draft, plan: plan) {
            add(.slackNotify(channel: channel, event: "incident_created"), "notify.slack:\(channel):incident_created")
        }
        for webhook in config.webhooks where webhook.fires(on: "incident_created", priority: priority) {
            add(.webhook(name: webhook.name, trigger: "incident_created"), "webhook:\(webhook.name):incident_created",
                attempts: webhook.maxAttempts)
        }
        for (action, planned) in zip(draft.remediationActions, plan.actions) {
            let attempts = config.remediation.executors[action.kind]?.maxAttempts ?? 5
            // The stored action's parameters may be redacted; the executor gets the plan's own values.
            let (id, inputs) = (action.id, planned.parameters)
            switch planned.state {
            case .pending:
                add(.remediate(actionID: id, inputs: inputs), "remediate:\(id)", attempts: attempts)
                if let ttl = planned.compensateAfterSeconds, planned.kind.compensation != nil {
                    add(.compensate(actionID: id, inputs: inputs), "remediate.compensate:\(id)", delaySeconds: ttl,
                        attempts: attempts)
                }
            case .awaitingApproval(let expiresAfter):
                add(.approvalExpiry(actionID: id, inputs: inputs), "approval.expire:\(id)",
                    delaySeconds: expiresAfter, attempts: 5)
            case .dryRun, .skipped, .suppressedByCooldown, .cappedByBlastRadius:
                break
            }
        }
        if let jira = config.jira, jira.createPriorities.contains(priority) {
            // Jira rate-limits and has outages: more attempts than a notification, the backoff capped by `jobs`.
            add(.jiraCreate, "jira.create", attempts: 20)
        }
        let deadlines = config.sla.deadlines(priority: priority.rawValue, createdAt: 0)
        for kind in [SLAKind.acknowledge, .resolve] {
            guard let after = deadlines[kind] else { continue }
            add(.slaCheck(clock: kind), "sla.check:\(kind.rawValue)", delaySeconds: after, attempts: 5)
        }
        return jobs
    }

    /// The Slack channels an incident is announced in: the routing rule's `slack:` channels, else Slack's own
    /// channel routing.
    public func slackChannels(for draft: IncidentDraft, plan: IncidentPlan) -> [String] {
        guard config.notifications.slack.enabled else { return [] }
        let routed = plan.channels.compactMap { channel -> String? in
            channel.hasPrefix("slack:") ? String(channel.dropFirst("slack:".count)) : nil
        }
        if !routed.isEmpty { return Array(Set(routed)).sorted() }
        return slackChannels(priority: draft.priority, category: draft.category)
    }

    /// Slack's own channel routing by priority and category (escalations and SLA breaches use it too).
    public func slackChannels(priority: Priority, category: String) -> [String] {
        let slack = config.notifications.slack
        guard slack.enabled else { return [] }
        return [slack.channelRouting.channel(priority: priority, category: category, fallback: slack.defaultChannel)]
    }
}
