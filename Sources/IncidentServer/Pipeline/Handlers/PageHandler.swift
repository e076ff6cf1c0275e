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
        guard let incident = try await context.incident(of: job) else { return .failed(reason: "incident not found") }
        let action: PagerDutyEvents.Action = switch job.kind {
        case JobKind.pageAcknowledge.rawValue: .acknowledge
        case JobKind.pageResolve.rawValue: .resolve
        default: .trigger
        }
        if action != .trigger && job.payload["dedup_key"] == nil {
            return try await fanOut(action, job: job, incident: incident)
        }
        return try await send(action, job: job, incident: incident)
    }

    /// Sends one event about one alert: the job's `dedup_key` (default: the incident id) toward its
    /// `integration_key` reference (default: the key `service_routing` gives the incident's priority).
    private func send(_ action: PagerDutyEvents.Action, job: ClaimedJob, incident: Incident) async throws
        -> JobResult {
        let settings = context.config.notifications.pagerDuty
        let dedupKey = job.payload["dedup_key"] ?? incident.id.description
        let reference = job.payload["integration_key"] ?? settings.integrationKey(for: incident.priority)
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
            let whom = job.payload["level"].map { level in
                " to level \(level)" + (job.payload["targets"].map { " (\($0))" } ?? "")
            } ?? ""
            let entry: TimelineEntry = switch result {
            case .done:
                context.entry(action == .trigger ? TimelineKind.paged
                              : action == .acknowledge ? TimelineKind.pageAcknowledged : TimelineKind.pageResolved,
                              "PagerDuty \(action.rawValue) sent\(whom) via \(keyName) (dedup key \(dedupKey))"
                                + (action == .trigger ? ": \(job.payload["reason"] ?? "auto_page")" : ""))
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
    private func fanOut(_ action: PagerDutyEvents.Action, job: ClaimedJob, incident: Incident) async throws
        -> JobResult {
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
            let dedupKey = trigger.payload["dedup_key"] ?? incident.id.description
            guard seen.insert(dedupKey).inserted else { return nil }
            var payload = job.payload
            payload["dedup_key"] = dedupKey
            for field in ["integration_key", "level", "targets"] { payload[field] = trigger.payload[field] }
            return JobRequest(kind: job.kind, key: "\(parentKey)@\(dedupKey)", priority: incident.priority,
                              maxAttempts: 8, payload: payload)
        }
        if !alerts.isEmpty { try await context.store.jobs.enqueue(alerts, incidentID: incident.id) }
        return .done
    }
}
