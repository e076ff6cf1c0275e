// UpdateIncident's decisions: the status machine, the timeline entries, a severity or level change through the
// configured mapping, assignment, notes, approval decisions, and what the change causes beyond its own fields
// (PagerDuty acknowledge/resolve for paged incidents, `incident_resolved` webhooks, compensation when an incident
// is resolved as a false positive).
import Foundation

extension IncidentDecisions {
    /// At most this many decisions in one request, and this long a reason.
    public static let maxDecisions = 100
    public static let maxReasonBytes = 1024
    /// Action states after which an action acted on the world (the remediation runner's codes).
    /// Page acknowledge/resolve fan out into one event per PagerDuty alert once the incident's triggers went out; a
    /// trigger retried through a PagerDuty outage keeps them waiting, so they get the attempts to outwait it.
    static let pageFanOutAttempts = 30

    /// What `change` does to `current` when `identity` asks at `now`. `paged`: whether the incident has a page
    /// trigger job (its PagerDuty alerts then follow its status).
    public func update(_ current: Incident, _ change: UpdateChange, by identity: IdentityPolicy, now: Date,
                       paged: Bool) throws(DomainError) -> UpdatePlan {
        let actor = identity.name
        let expected = change.expectedVersion ?? current.version
        guard expected == current.version else {
            throw DomainError(.aborted, "incident \(current.id) is at version \(current.version), not the expected "
                              + "\(expected); read it again")
        }
        var entries: [TimelineEntry] = []
        if let status = change.status {
            // People move one step at a time so the trail shows who acknowledged; a source that reports its own
            // condition over (a monitoring system) resolves an open incident in one step, and the entry says so.
            let bySource = change.resolvedAtSource && status == .resolved
                && [.new, .acknowledged, .inProgress].contains(current.status)
            guard current.status.canMove(to: status) || bySource else {
                throw DomainError(.failedPrecondition,
                                  "status: cannot move from \(current.status.rawValue) to \(status.rawValue)")
            }
            var details = ["from": current.status.rawValue, "to": status.rawValue]
            if bySource { details["by"] = "source" }
            entries.append(TimelineEntry(
                at: now, actor: actor, kind: TimelineKind.statusChanged,
                message: "\(current.status.rawValue) → \(status.rawValue)" + (bySource ? " (resolved at the source)" : ""),
                details: details))
        }
        // A level is set as named and keeps the event's word; a word re-maps the level through the configured
        // mapping, as on create. An unchanged severity is no change.
        var newSeverity: Severity?
        if case .word(let word) = change.severity, word != current.severity { newSeverity = word }
        let targetLevel = change.severity.map(config.level(for:))
        let newPriority = newSeverity != nil || targetLevel != current.priority ? targetLevel : nil
        if let severity = change.severity, newSeverity != nil || newPriority != nil {
            let word = newSeverity ?? current.severity, level = newPriority ?? current.priority
            var details = ["from": current.priority.description, "to": level.description,
                           "from_event_severity": current.severity.rawValue, "to_event_severity": word.rawValue]
            if case .level = severity { details["set"] = "level" } else { details["set"] = "event_severity" }
            entries.append(TimelineEntry(
                at: now, actor: actor, kind: TimelineKind.severityChanged,
                message: "\(current.severity.rawValue) (\(current.priority)) → \(word.rawValue) (\(level))",
                details: details))
        }
        if let team = change.assignedTeam {
            entries.append(TimelineEntry(at: now, actor: actor, kind: TimelineKind.assigned,
                                         message: "assigned to \(team)",
                                         details: ["from": current.assignedTeam, "to": team]))
        }
        if !change.note.isEmpty {
            entries.append(TimelineEntry(at: now, actor: actor, kind: TimelineKind.note, message: change.note))
        }
        var effects = UpdateEffects(current: current, actor: actor, now: now,
                                    priority: newPriority ?? current.priority)
        try effects.decide(change.actionDecisions, resolving: change.status == .resolved)
        let resolvedWebhooks = change.status != .resolved ? [] : config.webhooks
            .filter { $0.fires(on: "incident_resolved", priority: effects.priority) }.map { $0.name }
        try effects.statusChange(to: change.status, resolution: change.resolution, paged: paged,
                                 autoResolve: config.notifications.pagerDuty.autoResolve,
                                 resolvedWebhooks: resolvedWebhooks)
        let resolution = try resolutionRecord(change, current: current)
        if let resolution {
            entries.append(TimelineEntry(
                at: now, actor: actor, kind: TimelineKind.resolutionRecorded,
                message: "root cause: \(resolution.rootCause.isEmpty ? "(not given)" : resolution.rootCause); "
                    + "\(resolution.actionsTaken.count) action(s) taken",
                details: ["root_cause": resolution.rootCause,
                          "actions_taken": resolution.actionsTaken.joined(separator: "\n")]))
        }
        var jobs = effects.jobs
        // Our status and notes follow to a linked Jira issue; changes Jira itself brought (actor `jira`) do not go back.
        if config.jira != nil, actor != "jira", change.status != nil || !change.note.isEmpty,
           current.timeline.contains(where: { $0.kind == TimelineKind.jiraLinked }) {
            jobs.append(PlannedJob(.jiraSync(status: change.status?.rawValue, note: change.note.isEmpty ? nil : change.note),
                                   key: "jira.sync:v\(current.version + 1)", priority: effects.priority,
                                   maxAttempts: 20))
        }
        return UpdatePlan(
            expectedVersion: expected, status: change.status, assignedTeam: change.assignedTeam,
            severity: newSeverity, priority: newPriority, timelineEntries: entries + effects.entries,
            remediationActions: effects.actionsChanged ? effects.actions : nil, jobs: jobs,
            resolution: resolution)
    }

    /// The incident's resolution record after `change`, or nil when it sends none. Recorded with the resolution or
    /// after it (a post-mortem's findings arrive later, even after closing); before, there is nothing resolved to
    /// explain. Redacted like event text when the config redacts PII: Governance and dashboards read it.
    func resolutionRecord(_ change: UpdateChange, current: Incident) throws(DomainError) -> ResolutionDetails? {
        guard var details = change.resolutionDetails else { return nil }
        let status = change.status ?? current.status
        guard status == .resolved || status == .closed else {
            throw DomainError(.failedPrecondition, "root_cause, actions_taken: are recorded with status RESOLVED or "
                              + "on a resolved incident (this one is \(status.rawValue))")
        }
        if config.security.redactPII {
            let redactor = PIIRedactor()
            details.rootCause = redactor.redact(details.rootCause).text
            details.actionsTaken = details.actionsTaken.map { redactor.redact($0).text }
        }
        return current.resolution.map { $0.merged(with: details) } ?? details
    }

    /// The compensating action of a stored action kind, where one exists.
    public static func compensation(ofKind kind: String) -> String? {
        [RemediationKind.blockUser, .rateLimit].first { $0.description == kind }?.compensation
    }
}

/// The timeline entries, jobs and action changes an update causes beyond its own fields.
struct UpdateEffects {
    let current: Incident
    let actor: String
    let now: Date
    /// The priority the jobs run at: the incident's, or the one a severity change in the same update gives it.
    let priority: Priority
    private(set) var entries: [TimelineEntry] = []
    private(set) var jobs: [PlannedJob] = []
    private(set) var actions: [RemediationAction]
    private(set) var actionsChanged = false

    init(current: Incident, actor: String, now: Date, priority: Priority) {
        self.current = current
        self.actor = actor
        self.now = now
        self.priority = priority
        actions = current.remediationActions
    }

    /// Applies approve/reject decisions. Approving enqueues the action's `remediate` job.
    mutating func decide(_ decisions: [ActionDecisionRequest], resolving: Bool) throws(DomainError) {
        guard decisions.count <= IncidentDecisions.maxDecisions else {
            throw DomainError(.invalidArgument,
                              "action_decisions: at most \(IncidentDecisions.maxDecisions) in one request")
        }
        var seen = Set<String>()
        for (index, decision) in decisions.enumerated() {
            let field = "action_decisions[\(index)]"
            let id = decision.actionID.trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty else { throw DomainError(.invalidArgument, "\(field).action_id: is required") }
            guard seen.insert(id).inserted else {
                throw DomainError(.invalidArgument, "\(field).action_id: action \(id) is decided twice in one request")
            }
            guard let verdict = decision.verdict else {
                throw DomainError(.invalidArgument, "\(field).decision: must be DECISION_APPROVE or DECISION_REJECT")
            }
            let reason = decision.reason.trimmingCharacters(in: .whitespacesAndNewlines)
            guard reason.utf8.count <= IncidentDecisions.maxReasonBytes else {
                throw DomainError(.invalidArgument, "\(field).reason: at most \(IncidentDecisions.maxReasonBytes) bytes")
            }
            if verdict == .approve && (resolving || current.status == .resolved || current.status == .closed) {
                throw DomainError(.failedPrecondition, "\(field): the incident is resolved; actions can no longer be "
                                  + "approved (reject them instead)")
            }
            let decided: RemediationAction
            do {
                decided = try ActionApproval.decide(verdict, actionID: id, reason: reason, actor: actor, now: now,
                                                    incidentCreatedAt: current.createdAt, actions: &actions)
            } catch {
                if case .unknownAction = error {
                    throw DomainError(.notFound, "\(field): action \(id) does not exist on incident \(current.id)")
                }
                throw DomainError(.failedPrecondition, "\(field): \(error)")
            }
            actionsChanged = true
            let said = reason.isEmpty ? "" : ": \(reason)"
            let details = ["action_id": id, "action_type": decided.kind]
            if verdict == .approve {
                entries.append(.init(at: now, actor: actor, kind: TimelineKind.actionApproved,
                                     message: "\(id) \(decided.kind) approved by \(actor)\(said)", details: details))
                jobs.append(PlannedJob(.remediate(actionID: id), key: "remediate:\(id)", priority: priority))
            } else {
                entries.append(.init(at: now, actor: actor, kind: TimelineKind.actionRejected,
                                     message: "\(id) \(decided.kind) rejected by \(actor)\(said)", details: details))
            }
        }
    }

    /// PagerDuty follows the status of a paged incident, `resolvedWebhooks` (their names) hear of a resolution, and a
    /// false-positive resolution undoes what acted. `autoResolve` false leaves PagerDuty's alerts open.
    mutating func statusChange(to status: IncidentStatus?, resolution: ResolutionChoice, paged: Bool,
                               autoResolve: Bool, resolvedWebhooks: [String]) throws(DomainError) {
        switch resolution {
        case .unspecified: break
        case .fixed, .falsePositive:
            guard status == .resolved else {
                throw DomainError(.invalidArgument, "resolution: is given together with status RESOLVED")
            }
        case .unknown:
            throw DomainError(.invalidArgument, "resolution: must be RESOLUTION_FIXED or RESOLUTION_FALSE_POSITIVE")
        }
        let attempts = IncidentDecisions.pageFanOutAttempts
        if paged && status == .acknowledged {
            jobs.append(PlannedJob(.pageAcknowledge(actor: actor), key: "page.acknowledge", priority: priority,
                                   maxAttempts: attempts))
        }
        if paged && autoResolve && status == .resolved {
            // A reopened incident can be resolved again: one resolve per resolution.
            jobs.append(PlannedJob(.pageResolve(actor: actor), key: "page.resolve:v\(current.version + 1)",
                                   priority: priority, maxAttempts: attempts))
        }
        if status == .resolved {
            for name in resolvedWebhooks {
                jobs.append(PlannedJob(.webhook(name: name, trigger: "incident_resolved"),
                                       key: "webhook:\(name):incident_resolved:v\(current.version + 1)",
                                       priority: priority))
            }
        }
        if resolution == .fixed {
            entries.append(.init(at: now, actor: actor, kind: TimelineKind.resolution, message: "resolved as fixed",
                                 details: ["resolution": "fixed"]))
        }
        if resolution == .falsePositive {
            entries.append(.init(at: now, actor: actor, kind: TimelineKind.resolution,
                                 message: "resolved as a false positive", details: ["resolution": "false_positive"]))
            compensateActed()
        }
    }

    /// Compensation for every action that acted and has an undo (block_user → unblock_user).
    private mutating func compensateActed() {
        for action in actions where action.state.hasActed {
            guard let undo = IncidentDecisions.compensation(ofKind: action.kind) else { continue }
            jobs.append(PlannedJob(.compensate(actionID: action.id, reason: "false_positive"),
                                   key: "remediate.compensate:\(action.id):false-positive", priority: priority))
            entries.append(.init(at: now, actor: actor, kind: TimelineKind.compensationScheduled,
                                 message: "\(action.id) \(action.kind): \(undo) scheduled (false positive)",
                                 details: ["action_id": action.id, "action_type": action.kind, "compensation": undo]))
        }
    }
}
