// The store boundary of the core's decisions, in one place: a planned job becomes the queue's (kind string,
// payload) row (`Job.kind`/`Job.payload` encode it) and an update plan becomes the store's update request. `JobKind`'s raw values are the stored kinds.
import IncidentCore
import IncidentStore

extension JobRequest {
    /// The queue row for `job`.
    init(_ job: PlannedJob) {
        self.init(kind: job.kind.rawValue, key: job.key, priority: job.priority, delay: job.delay,
                  maxAttempts: job.maxAttempts, payload: job.payload)
    }
}

extension IncidentUpdate {
    /// The write of `plan` to incident `id` by `actor`.
    init(_ plan: UpdatePlan, incidentID id: IncidentID, actor: String) {
        self.init(incidentID: id, expectedVersion: plan.expectedVersion, actor: actor, status: plan.status,
                  assignedTeam: plan.assignedTeam, timelineEntries: plan.timelineEntries,
                  remediationActions: plan.remediationActions, jobs: plan.jobs.map(JobRequest.init),
                  severity: plan.severity, priority: plan.priority, resolution: plan.resolution)
    }
}
