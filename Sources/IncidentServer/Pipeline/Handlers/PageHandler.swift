// PagerDuty Events API v2 jobs. A trigger pages one alert: the first page under the incident id, each escalation
// under `<id>:L<level>` toward that level's own key, so the next people are paged instead of the page folding
// into the open alert. An acknowledgement or resolution reaches every alert the triggers opened: its job fans out
// into one job per alert (idempotency keys per dedup key, so a rerun enqueues nothing twice). A per-key outbound
// budget keeps us under PagerDuty's limit with room reserved for P0; 429 and 5xx are retried with backoff, 400
// never. Keys are named on the timeline by their variable, never by value.
import Foundation
import IncidentCore
import IncidentStore
import Integrations
import Synchronization

/// Runs `page.trigger`, `page.acknowledge` and `page.resolve`.
final class PageHandler: JobHandler {
    let context: PipelineContext
    let budget: Mutex<OutboundBudget>

    init(context: PipelineContext) {
        self.context = context
        let perMinute = context.config.notifications.pagerDuty.eventsPerMinute
        budget = Mutex(OutboundBudget(eventsPerMinute: perMinute, burst: max(6, perMinute / 6)))
    }

    var kinds: [JobKind] { [.pageTrigger, .pageAcknowledge, .pageResolve] }

    func run(_ job: ClaimedJob) async throws -> JobResult {
        let work = try job.work()
        guard let incident = try await context.incident(of: job) else { return .failed(reason: "incident not found") }
        let incidentID = incident.id.description
        switch work {
        case .pageTrigger(let trigger):
            return try await send(.trigger, alert: Job.PageAlert(of: trigger, incidentID: incidentID),
                                  reason: trigger.reason, job: job, incident: incident)
        case .pageAcknowledge(let actor, let alert?), .pageResolve(let actor, let alert?):
            return try await send(work.kind == .pageAcknowledge ? .acknowledge : .resolve, alert: alert,
                                  reason: actor, job: job, incident: incident)
        case .pageAcknowledge(let actor, nil):
            return try await fanOut(.acknowledge, actor: actor, job: job, incident: incident)
        case .pageResolve(let actor, nil):
            return try await fanOut(.resolve, actor: actor, job: job, incident: incident)
        default:
            return .failed(reason: "not a PagerDuty job")
        }
    }

    /// Sends one event about one alert: its dedup key toward its `integration_key` reference (default: the key
    /// `service_routing` gives the incident's priority).
    private func send(_ action: PagerDutyEvents.Action, alert: Job.PageAlert, reason: String, job: ClaimedJob,
                      incident: Incident) async throws -> JobResult {
        let settings = context.config.notifications.pagerDuty
        let dedupKey = alert.dedupKey
        let reference = alert.integrationKey ?? settings.integrationKey(for: incident.priority)
        let keyName = PagerDutyConfig.keyName(reference)
        var key = context.secret(reference)
        // Mock mode sends nothing, so it needs no real key: `make run` shows the page it would send.
        if key.isEmpty && context.isMocked("pagerduty") { key = "(unset in mock mode)" }
        guard settings.enabled, !key.isEmpty else {
            try await context.record(on: incident.id, entries: [context.entry(
                TimelineKind.pageFailed, "PagerDuty \(action.rawValue) not sent (dedup key \(dedupKey)): \(keyName) is empty")])
            return .failed(reason: "no PagerDuty integration key (\(keyName)) for \(incident.priority)")
        }
        if case .refused(let after) = budget.withLock({
            $0.take(key: key, priority: incident.priority, now: context.now())
        }) {
            return .retry(reason: "PagerDuty budget for this key is spent; room again in \(Int(after.rounded(.up))) s")
        }
        let request = PagerDutyEvents(endpoint: settings.endpoint).request(
            action, for: context.summary(of: incident), routingKey: key, dedupKey: dedupKey,
            attemptKey: job.idempotencyKey)
        let outcome = await context.delivery("pagerduty").deliver(request)
        let (result, final) = context.result(of: outcome, job: job)
        if case .done = result {
            PipelineMetrics.pageSent(action: action.rawValue, mocked: context.isMocked("pagerduty"))
        }
        if final && !context.isMocked("pagerduty") {
            let whom = alert.level.map { level in
                " to level \(level)" + (alert.targets.map { " (\($0))" } ?? "")
            } ?? ""
            let entry: TimelineEntry = switch result {
            case .done:
                context.entry(action == .trigger ? TimelineKind.paged
                              : action == .acknowledge ? TimelineKind.pageAcknowledged : TimelineKind.pageResolved,
                              "PagerDuty \(action.rawValue) sent\(whom) via \(keyName) (dedup key \(dedupKey))"
                                + (action == .trigger ? ": \(reason)" : ""))
            case .failed(let reason), .retry(let reason):
                context.entry(TimelineKind.pageFailed,
                              "PagerDuty \(action.rawValue)\(whom) failed (dedup key \(dedupKey)): \(reason)")
            }
            try await context.record(on: incident.id, entries: [entry])
        }
        return result
    }

    /// Enqueues one acknowledge/resolve per alert the incident's triggers opened, each toward the key its trigger
    /// used. Waits while an earlier event is still to go out (a trigger; for a resolve, an acknowledge too), so
    /// no alert opens after its acknowledgement was sent and no acknowledge lands after the resolve.
    private func fanOut(_ action: PagerDutyEvents.Action, actor: String, job: ClaimedJob, incident: Incident)
        async throws -> JobResult {
        let triggers = try await context.store.incidentJobs(kind: JobKind.pageTrigger.rawValue, incidentID: incident.id)
        let acknowledgements = action == .resolve
            ? try await context.store.incidentJobs(kind: JobKind.pageAcknowledge.rawValue, incidentID: incident.id)
            : []
        if let pending = (triggers + acknowledgements).first(where: { $0.state == "ready" || $0.state == "running" }) {
            return .retry(reason: "waiting for \(pending.key) to go out before sending \(action.rawValue)")
        }
        let parentKey = String(job.idempotencyKey.dropFirst(incident.id.description.count + 1))
        var seen = Set<String>()
        let alerts = triggers.filter { $0.state == "done" }.compactMap { trigger -> JobRequest? in
            guard case .pageTrigger(let opened)? = try? Job(kind: trigger.kind, payload: trigger.payload) else {
                return nil
            }
            let alert = Job.PageAlert(of: opened, incidentID: incident.id.description)
            guard seen.insert(alert.dedupKey).inserted else { return nil }
            let one: Job = action == .acknowledge ? .pageAcknowledge(actor: actor, alert: alert)
                : .pageResolve(actor: actor, alert: alert)
            return JobRequest(PlannedJob(one, key: "\(parentKey)@\(alert.dedupKey)", priority: incident.priority,
                                         maxAttempts: 8))
        }
        if !alerts.isEmpty { try await context.store.jobs.enqueue(alerts, incidentID: incident.id) }
        return .done
    }
}
