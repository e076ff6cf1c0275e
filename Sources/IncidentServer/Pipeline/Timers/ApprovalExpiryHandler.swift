// Approvals expire: an action still awaiting approval when its TTL ends becomes `denied` ("approval expired") with
// a timeline entry. One decided before (approved, rejected) stays as it is. The write names the version read, so
// an expiry and a human decision racing each other cannot both win.
import Foundation
import IncidentCore
import IncidentStore

/// Runs `approval.expire` jobs.
struct ApprovalExpiryHandler: JobHandler {
    let store: IncidentStore
    var kinds: [JobKind] { [.approvalExpiry] }

    func run(_ job: ClaimedJob) async throws -> JobResult {
        guard case .approvalExpiry(let actionID, _) = try job.work() else {
            return .failed(reason: "not an approval expiry job")
        }
        return try await FreshIncident(store: store).run(job) { incident in
            var actions = incident.remediationActions
            guard actions.contains(where: { $0.id == actionID }) else {
                return .failed(reason: "incident \(incident.id) has no action \(actionID)")
            }
            let now = Date()
            if let action = actions.first(where: { $0.id == actionID }),
               action.state == .awaitingApproval,
               let expiry = ActionApproval.expiry(of: action, incidentCreatedAt: incident.createdAt),
               expiry.timeIntervalSince(now) > 1 {
                // Early (the TTL changed since the job was enqueued): come back when the approval really expires.
                try await store.jobs.enqueue([JobRequest(PlannedJob(
                    .approvalExpiry(actionID: actionID),
                    key: "approval.expire:\(actionID):\(Int(expiry.timeIntervalSince1970))",
                    priority: incident.priority,
                    delay: .milliseconds(Int64((expiry.timeIntervalSince(now) * 1000).rounded()))))],
                    incidentID: incident.id)
                return .done
            }
            guard let denied = ActionApproval.expire(actionID: actionID, now: now, actions: &actions) else {
                return .done
            }
            let entry = TimelineEntry(at: now, actor: "system", kind: TimelineKind.actionDenied,
                                      message: "\(denied.id) \(denied.kind) denied: approval expired",
                                      details: ["action_id": denied.id, "action_type": denied.kind])
            _ = try await store.updateIncident(IncidentUpdate(
                incidentID: incident.id, expectedVersion: incident.version, actor: "system",
                timelineEntries: [entry], remediationActions: actions))
            return .done
        }
    }
}
