// What every job handler needs: the store, the config, the outbound deliveries per integration (live or mock,
// behind circuit breakers), and how incidents are described to the outside world.
import Foundation
import IncidentCore
import IncidentStore
import Integrations

/// Shared by the job handlers of one pipeline.
struct PipelineContext: Sendable {
    let store: IncidentStore
    let config: ServiceConfig
    /// Where `${VARIABLE}` secrets in the config come from.
    let environment: [String: String]
    let log: ServerLog
    /// Deliveries by integration family: `pagerduty`, `slack`, `webhooks`, `remediation`, `governance`, `jira`.
    let deliveries: [String: any HTTPDelivery]
    /// Families in mock mode. Their notifications (pages, Slack, webhooks) are logged, not written to the incident:
    /// the timeline already says a page was scheduled, and outcomes of requests that never left would only bump the
    /// incident's version under the feet of people editing it. Remediation outcomes are written (the action's state
    /// matters), marked as recorded only.
    let mocked: Set<String>
    /// `public_url` without a trailing slash.
    let publicURL: String
    /// Seconds since 1970 (injected so tests may move time).
    let now: @Sendable () -> Double

    func delivery(_ family: String) -> any HTTPDelivery {
        deliveries[family] ?? deliveries["default"]!
    }

    /// Whether `family` only records what it would send.
    func isMocked(_ family: String) -> Bool { mocked.contains(family) }

    /// Appended to an outcome of `family` on the timeline, so nobody mistakes a recorded request for a real one.
    func mockNote(_ family: String) -> String {
        mocked.contains(family) ? " (mock mode: recorded, not sent)" : ""
    }

    /// A config value with `${VARIABLE}` references expanded.
    func secret(_ raw: String?) -> String {
        raw.map { expandEnvironment($0, environment) } ?? ""
    }

    /// The incident a job is about; a job without one cannot run.
    func incident(of job: ClaimedJob) async throws -> Incident? {
        guard let text = job.incidentID, let id = IncidentID(text) else { return nil }
        do {
            return try await store.incident(id)
        } catch StoreError.notFound {
            return nil
        }
    }

    /// How outbound messages describe an incident: redacted text only, never the encrypted payload.
    func summary(of incident: Incident) -> IncidentSummary {
        IncidentSummary(
            id: incident.id.description, title: incident.title, description: incident.description,
            status: incident.status.rawValue, severity: incident.severity, priority: incident.priority,
            category: incident.category, source: incident.source, eventType: incident.eventType,
            team: incident.assignedTeam, escalationPolicy: incident.escalationPolicy,
            url: "\(publicURL)/incidents/\(incident.id)", createdAt: APITime.format(incident.createdAt),
            resource: [incident.resource.name, incident.resource.id, incident.resource.type]
                .first { !$0.isEmpty } ?? "",
            metrics: incident.metrics)
    }

    /// Writes a job's outcome onto its incident: timeline entries, and optionally one action's new state.
    /// Retries on a version conflict (a person or another job changed the incident meanwhile). Jobs never touch
    /// the rules engine, so recording an outcome bumps no cooldown.
    func record(on incidentID: IncidentID, entries: [TimelineEntry],
                action: (id: String, state: RemediationAction.State, params: [String: String])? = nil) async throws {
        for attempt in 1...8 {
            let incident = try await store.incident(incidentID)
            var actions: [RemediationAction]?
            if let action {
                actions = incident.remediationActions.map { existing in
                    guard existing.id == action.id else { return existing }
                    var updated = existing
                    updated.state = action.state
                    updated.params.merge(action.params) { _, new in new }
                    return updated
                }
            }
            do {
                _ = try await store.updateIncident(IncidentUpdate(
                    incidentID: incidentID, expectedVersion: incident.version, actor: "system",
                    timelineEntries: entries, remediationActions: actions))
                return
            } catch StoreError.versionConflict where attempt < 8 {
                try await Task.sleep(for: .milliseconds(5 * attempt))
            }
        }
    }

    /// A timeline entry by the system, now.
    func entry(_ kind: String, _ message: String, details: [String: String] = [:]) -> TimelineEntry {
        TimelineEntry(at: Date(timeIntervalSince1970: now()), actor: "system", kind: kind, message: message,
                      details: details)
    }

    /// What to do after a delivery: done, retry, or give up (on the last attempt a retryable failure is final).
    func result(of outcome: DeliveryOutcome, job: ClaimedJob) -> (result: JobResult, final: Bool) {
        switch outcome {
        case .delivered:
            return (.done, true)
        case .permanent(let reason):
            return (.failed(reason: reason), true)
        case .retryable(let reason, _):
            return job.attempts >= job.maxAttempts
                ? (.failed(reason: "\(reason); gave up after \(job.attempts) attempts"), true)
                : (.retry(reason: reason), false)
        }
    }
}
