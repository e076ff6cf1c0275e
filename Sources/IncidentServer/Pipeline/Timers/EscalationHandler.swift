// Escalation: when an `escalate` timer fires and the incident is still NEW (nobody acknowledged), the next step of
// its frozen policy is paged: an `escalated` timeline entry, a new PagerDuty alert (dedup key `<id>:L<level>`)
// toward the level's own integration key, the `escalated` webhooks and Slack, and the next timer, all in one
// transaction with the recorded step, so a timer that runs twice (or a restart between levels) escalates once.
import Foundation
import IncidentCore
import IncidentStore

/// Runs `escalate` jobs.
struct EscalationHandler: JobHandler {
    let store: IncidentStore
    let settings: TimerSettings
    var kinds: [JobKind] { [.escalate] }

    func run(_ job: ClaimedJob) async throws -> JobResult {
        guard case .escalate(let step, let frozen) = try job.work() else { return .failed(reason: "not an escalation") }
        return try await FreshIncident(store: store).run(job) { incident in
            // Acknowledged (or any later status): acknowledgement stops escalation.
            guard incident.status == .new else { return .done }
            // A later step was already paged: this timer is stale (run twice, or overtaken).
            guard incident.timers.escalationStep <= step else { return .done }
            let policy = frozen ?? settings.escalationPolicy(for: incident)
            let timedOut = policy.step(step)
            guard let next = policy.step(after: step) else { return .done }
            let change = escalation(of: incident, from: timedOut, to: next, policy: policy)
            _ = try await store.recordTimerChange(change)
            return .done
        }
    }

    /// The recorded step, its timeline entry and the jobs it starts.
    func escalation(of incident: Incident, from timedOut: EscalationStep, to next: EscalationStep,
                    policy: EscalationPolicy) -> TimerChange {
        let targets = next.targets.joined(separator: ", ")
        let last = policy.step(after: next.index) == nil
        let reference = next.integrationKey
            ?? settings.config.notifications.pagerDuty.integrationKey(for: incident.priority)
        let dedupKey = next.pageDedupKey(incidentID: incident.id.description)
        let reason = "not acknowledged within \(EscalationTimer.describe(seconds: timedOut.timeoutSeconds)): "
            + "escalated to level \(next.level + 1) of \(policy.name) (step \(next.index)), paging \(targets)"
        let entry = TimelineEntry(
            at: Date(), actor: "system", kind: TimelineKind.escalated,
            message: reason + " via \(PagerDutyConfig.keyName(reference)) (dedup key \(dedupKey))"
                + (last ? "; last step of the policy" : ""))
        // Only a level's own key travels in the job, and only as its `${VARIABLE}` reference.
        let page = Job.PageTrigger(reason: reason, step: next.index, level: next.level + 1, targets: targets,
                                   dedupKey: dedupKey, integrationKey: next.integrationKey)
        var jobs = [JobRequest(PlannedJob(.pageTrigger(page), key: "page.trigger:step-\(next.index)",
                                          priority: incident.priority))]
        jobs += settings.notifications(of: "escalated", occurrence: "step-\(next.index)", for: incident)
        if !last { jobs.append(EscalationTimer.job(after: next, of: policy, priority: incident.priority)) }
        return TimerChange(incidentID: incident.id, expectedVersion: incident.version, actor: "system",
                           escalationStep: next.index, timelineEntries: [entry], jobs: jobs)
    }
}
