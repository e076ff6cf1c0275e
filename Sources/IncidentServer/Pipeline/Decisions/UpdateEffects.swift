// What an UpdateIncident causes beyond its own fields, written in the update's transaction: decisions on actions
// awaiting approval (an approved action's `remediate` job), PagerDuty acknowledge/resolve for paged incidents, the
// `incident_resolved` webhooks, and compensation when an incident is resolved as a false positive.
import Foundation
import IncidentAPI
import IncidentCore
import IncidentStore
import RPC

/// The timeline entries, jobs and action changes one update causes; built before the write, applied to it.
struct UpdateEffects {
    let current: IncidentCore.Incident
    let actor: String
    let now: Date
    /// The priority the jobs run at: the incident's, or the one a severity change in the same update gives it.
    let priority: Priority
    private(set) var entries: [IncidentCore.TimelineEntry] = []
    private(set) var jobs: [JobRequest] = []
    private(set) var actions: [IncidentCore.RemediationAction]
    private(set) var actionsChanged = false

    /// At most this many decisions in one request, and this long a reason.
    static let maxDecisions = 100
    static let maxReasonBytes = 1024
    /// Action states after which an action acted on the world (the remediation runner's codes).
    static let actedStates: Set<String> = ["succeeded", "done"]

    init(current: IncidentCore.Incident, actor: String, now: Date, priority: Priority? = nil) {
        self.current = current
        self.actor = actor
        self.now = now
        self.priority = priority ?? current.priority
        actions = current.remediationActions
    }

    /// Applies approve/reject decisions. Approving enqueues the action's `remediate` job.
    mutating func decide(_ decisions: [ActionDecision], resolving: Bool) throws(RPCError) {
        guard decisions.count <= Self.maxDecisions else {
            throw RPCError(.invalidArgument, "action_decisions: at most \(Self.maxDecisions) in one request")
        }
        var seen = Set<String>()
        for (index, decision) in decisions.enumerated() {
            let field = "action_decisions[\(index)]"
            let id = decision.actionId.trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty else { throw RPCError(.invalidArgument, "\(field).action_id: is required") }
            guard seen.insert(id).inserted else {
                throw RPCError(.invalidArgument, "\(field).action_id: action \(id) is decided twice in one request")
            }
            let verdict: ApprovalVerdict
            switch decision.decision {
            case .approve: verdict = .approve
            case .reject: verdict = .reject
            default:
                throw RPCError(.invalidArgument, "\(field).decision: must be DECISION_APPROVE or DECISION_REJECT")
            }
            let reason = decision.reason.trimmingCharacters(in: .whitespacesAndNewlines)
            guard reason.utf8.count <= Self.maxReasonBytes else {
                throw RPCError(.invalidArgument, "\(field).reason: at most \(Self.maxReasonBytes) bytes")
            }
            if verdict == .approve && (resolving || current.status == .resolved || current.status == .closed) {
                throw RPCError(.failedPrecondition, "\(field): the incident is resolved; actions can no longer be "
                               + "approved (reject them instead)")
            }
            let decided: IncidentCore.RemediationAction
            do {
                decided = try ActionApproval.decide(verdict, actionID: id, reason: reason, actor: actor, now: now,
                                                    incidentCreatedAt: current.createdAt, actions: &actions)
            } catch {
                if case .unknownAction = error {
                    throw RPCError(.notFound, "\(field): action \(id) does not exist on incident \(current.id)")
                }
                throw RPCError(.failedPrecondition, "\(field): \(error)")
            }
            actionsChanged = true
            let said = reason.isEmpty ? "" : ": \(reason)"
            if verdict == .approve {
                entries.append(.init(at: now, actor: actor, kind: "action_approved",
                                     message: "\(id) \(decided.kind) approved by \(actor)\(said)",
                                     details: ["action_id": id, "action_type": decided.kind]))
                jobs.append(JobRequest(kind: JobKind.remediate.rawValue, key: "remediate:\(id)",
                                       priority: priority, payload: ["action_id": id]))
            } else {
                entries.append(.init(at: now, actor: actor, kind: "action_rejected",
                                     message: "\(id) \(decided.kind) rejected by \(actor)\(said)",
                                     details: ["action_id": id, "action_type": decided.kind]))
            }
        }
    }

    /// PagerDuty follows the status of a paged incident, `resolvedWebhooks` (their names) hear of a resolution, and a
    /// false-positive resolution undoes what acted.
    /// `autoResolve` false (`notifications.pagerduty.auto_resolve`) leaves PagerDuty's alerts open on resolution.
    mutating func statusChange(to status: IncidentStatus?, resolution: Resolution, paged: Bool,
                               autoResolve: Bool = true, resolvedWebhooks: [String] = []) throws(RPCError) {
        switch resolution {
        case .unspecified: break
        case .fixed, .falsePositive:
            guard status == .resolved else {
                throw RPCError(.invalidArgument, "resolution: is given together with status RESOLVED")
            }
        default:
            throw RPCError(.invalidArgument, "resolution: must be RESOLUTION_FIXED or RESOLUTION_FALSE_POSITIVE")
        }
        // These fan out into one event per PagerDuty alert once the incident's triggers went out; a trigger retried
        // through a PagerDuty outage keeps them waiting, so they get the attempts to outwait it.
        let fanOutAttempts = 30
        if paged && status == .acknowledged {
            jobs.append(JobRequest(kind: JobKind.pageAcknowledge.rawValue, key: "page.acknowledge",
                                   priority: priority, maxAttempts: fanOutAttempts, payload: ["actor": actor]))
        }
        if paged && autoResolve && status == .resolved {
            // A reopened incident can be resolved again: one resolve per resolution.
            jobs.append(JobRequest(kind: JobKind.pageResolve.rawValue, key: "page.resolve:v\(current.version + 1)",
                                   priority: priority, maxAttempts: fanOutAttempts, payload: ["actor": actor]))
        }
        if status == .resolved {
            for name in resolvedWebhooks {
                jobs.append(JobRequest(kind: JobKind.webhook.rawValue,
                                       key: "webhook:\(name):incident_resolved:v\(current.version + 1)",
                                       priority: priority, payload: ["webhook": name, "trigger": "incident_resolved"]))
            }
        }
        if resolution == .fixed {
            entries.append(.init(at: now, actor: actor, kind: "resolution", message: "resolved as fixed",
                                 details: ["resolution": "fixed"]))
        }
        if resolution == .falsePositive {
            entries.append(.init(at: now, actor: actor, kind: "resolution", message: "resolved as a false positive",
                                 details: ["resolution": "false_positive"]))
            compensateActed()
        }
    }

    /// Compensation for every action that acted and has an undo (block_user → unblock_user).
    private mutating func compensateActed() {
        for action in actions where Self.actedStates.contains(action.state) {
            guard let undo = Self.compensation(ofKind: action.kind) else { continue }
            jobs.append(JobRequest(
                kind: JobKind.compensate.rawValue, key: "remediate.compensate:\(action.id):false-positive",
                priority: priority, payload: ["action_id": action.id, "reason": "false_positive"]))
            entries.append(.init(at: now, actor: actor, kind: "compensation_scheduled",
                                 message: "\(action.id) \(action.kind): \(undo) scheduled (false positive)",
                                 details: ["action_id": action.id, "action_type": action.kind, "compensation": undo]))
        }
    }

    /// The compensating action of a stored action kind, where one exists.
    static func compensation(ofKind kind: String) -> String? {
        [RemediationKind.blockUser, .rateLimit].first { $0.description == kind }?.compensation
    }
}

extension IncidentServiceHandler {
    /// Adds to `update` what `request` causes beyond its own fields (see `UpdateEffects`), so it is written in the
    /// same transaction as the change that caused it.
    func addPipelineEffects(
        of request: UpdateIncidentRequest, to update: inout IncidentUpdate, current: IncidentCore.Incident,
        now: Date
    ) async throws {
        var effects = UpdateEffects(current: current, actor: update.actor, now: now, priority: update.priority)
        try effects.decide(request.actionDecisions, resolving: update.status == .resolved)
        let paged = update.status == .acknowledged || update.status == .resolved
            ? try await store.hasJob(kind: JobKind.pageTrigger.rawValue, incidentID: current.id) : false
        let priority = effects.priority
        let resolvedWebhooks = update.status != .resolved ? [] : config.webhooks
            .filter { $0.fires(on: "incident_resolved", priority: priority) }.map { $0.name }
        try effects.statusChange(to: update.status, resolution: request.resolution, paged: paged,
                                 autoResolve: config.notifications.pagerDuty.autoResolve,
                                 resolvedWebhooks: resolvedWebhooks)
        update.timelineEntries += effects.entries
        update.jobs += effects.jobs
        if effects.actionsChanged { update.remediationActions = effects.actions }
    }
}
