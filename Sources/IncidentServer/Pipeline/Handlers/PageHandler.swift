// PagerDuty Events API v2 jobs: trigger, acknowledge and resolve, all with dedup_key = the incident id, so a
// retried or repeated page updates one PagerDuty incident. A per-key outbound budget keeps us under PagerDuty's
// limit with room reserved for P0; 429 and 5xx are retried with backoff, 400 never.
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
        let settings = context.config.notifications.pagerDuty
        var key = context.secret(settings.integrationKey(for: incident.priority))
        // Mock mode sends nothing, so it needs no real key: `make run` shows the page it would send.
        if key.isEmpty && context.isMocked("pagerduty") { key = "(unset in mock mode)" }
        guard settings.enabled, !key.isEmpty else {
            try await context.record(on: incident.id, entries: [context.entry(
                "page_failed", "PagerDuty \(action.rawValue) not sent: no integration key for \(incident.priority)")])
            return .failed(reason: "no PagerDuty integration key for \(incident.priority)")
        }
        if case .refused(let after) = budget.withLock({
            $0.take(key: key, priority: incident.priority, now: context.now())
        }) {
            return .retry(reason: "PagerDuty budget for this key is spent; room again in \(Int(after.rounded(.up))) s")
        }
        let events = PagerDutyEvents(endpoint: settings.endpoint, routingKeys: [incident.priority: key])
        guard let request = events.request(action, for: context.summary(of: incident), attemptKey: job.idempotencyKey)
        else { return .failed(reason: "no PagerDuty request for \(incident.priority)") }
        let outcome = await context.delivery("pagerduty").deliver(request)
        let (result, final) = context.result(of: outcome, job: job)
        if case .done = result {
            PipelineMetrics.pageSent(action: action.rawValue, mocked: context.isMocked("pagerduty"))
        }
        if final && !context.isMocked("pagerduty") {
            let entry: TimelineEntry = switch result {
            case .done:
                context.entry(action == .trigger ? "paged" : "page_\(action.rawValue)d",
                              "PagerDuty \(action.rawValue) sent (dedup key \(incident.id))"
                                + (action == .trigger ? ": \(job.payload["reason"] ?? "auto_page")" : ""))
            case .failed(let reason), .retry(let reason):
                context.entry("page_failed", "PagerDuty \(action.rawValue) failed: \(reason)")
            }
            try await context.record(on: incident.id, entries: [entry])
        }
        return result
    }
}
