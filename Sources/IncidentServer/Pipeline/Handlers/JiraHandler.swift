// `jira.create` and `jira.sync` jobs: one Jira issue per incident, and our status and notes carried to it. Exactly one even if the server dies (or the answer is lost)
// between Jira creating the issue and our writing its key down: every attempt first searches Jira for an issue
// carrying the incident's id in the incident-id field, and links that one when found. The key and URL go on the
// incident's timeline (`jira_linked`, details `key` and `url`); a linked incident's job does nothing more. A sync
// moves the issue through the transition `sync.transitions` names for our new status (skipped when the workflow
// does not offer it now, e.g. the issue is there already) and adds a note as a comment.
import Foundation
import IncidentCore
import IncidentStore
import Integrations

/// Runs `jira.create` and `jira.sync`.
struct JiraHandler: JobHandler {
    let context: PipelineContext

    var kinds: [JobKind] { [.jiraCreate, .jiraSync] }

    /// The timeline kind that records the link.
    static let linked = TimelineKind.jiraLinked

    func run(_ job: ClaimedJob) async throws -> JobResult {
        guard let config = context.config.jira else { return .failed(reason: "integrations.jira is not configured") }
        guard let incident = try await context.incident(of: job) else { return .failed(reason: "incident not found") }
        let jira = JiraIssues(config: config, email: context.secret(config.username),
                              apiToken: context.secret(config.apiToken), timeoutSeconds: config.timeoutSeconds)
        if job.kind == JobKind.jiraSync.rawValue { return try await sync(job, incident: incident, jira: jira) }
        if incident.timeline.contains(where: { $0.kind == Self.linked }) { return .done }
        let delivery = context.delivery("jira")
        let id = incident.id.description
        if context.isMocked("jira") {
            // Recorded and logged by the mock delivery; nothing was opened, so nothing is linked.
            _ = await delivery.exchange(jira.createRequest(for: context.summary(of: incident),
                                                           attemptKey: job.idempotencyKey))
            return .done
        }
        let search = await delivery.exchange(jira.searchRequest(incidentID: id, attemptKey: job.idempotencyKey + ":search"))
        guard case .delivered = search.outcome else { return context.result(of: search.outcome, job: job).result }
        if let key = jira.foundKey(in: search.body, incidentID: id) {
            try await link(incident.id, key: key, url: jira.browseURL(key: key), found: true)
            return .done
        }
        let created = await delivery.exchange(jira.createRequest(for: context.summary(of: incident),
                                                                 attemptKey: job.idempotencyKey))
        guard case .delivered = created.outcome else {
            let (result, final) = context.result(of: created.outcome, job: job)
            if final {
                try await context.record(on: incident.id, entries: [
                    context.entry("jira_failed", "Jira issue not opened: \(reasonText(created.outcome))"),
                ])
            }
            return result
        }
        guard let key = JiraIssues.createdKey(in: created.body) else {
            // Created, but the answer did not say which: the next attempt's search finds it.
            return .retry(reason: "Jira answered without an issue key")
        }
        try await link(incident.id, key: key, url: jira.browseURL(key: key), found: false)
        return .done
    }

    private func sync(_ job: ClaimedJob, incident: Incident, jira: JiraIssues) async throws -> JobResult {
        guard let key = incident.timeline.last(where: { $0.kind == Self.linked })?.details["key"] else {
            return .failed(reason: "the incident has no Jira issue")
        }
        guard case .jiraSync(let newStatus, let newNote) = try job.work() else { return .failed(reason: "not a Jira sync") }
        if context.isMocked("jira") { return .done }
        let delivery = context.delivery("jira")
        var done: [String] = []
        if let status = newStatus, let name = context.config.jira?.transitions[status] {
            let offered = await delivery.exchange(jira.transitionsRequest(key: key, attemptKey: job.idempotencyKey))
            guard case .delivered = offered.outcome else { return context.result(of: offered.outcome, job: job).result }
            if let id = JiraIssues.transitionID(in: offered.body, named: name) {
                let moved = await delivery.exchange(jira.transitionRequest(key: key, transitionID: id,
                                                                           attemptKey: job.idempotencyKey))
                guard case .delivered = moved.outcome else { return context.result(of: moved.outcome, job: job).result }
                done.append("moved to \(name)")
            } else {
                done.append("not moved: the workflow offers no \"\(name)\" now")
            }
        }
        if let note = newNote {
            let comment = await delivery.exchange(jira.commentRequest(key: key, text: note,
                                                                      attemptKey: job.idempotencyKey + ":comment"))
            guard case .delivered = comment.outcome else { return context.result(of: comment.outcome, job: job).result }
            done.append("note added as a comment")
        }
        if !done.isEmpty {
            try await context.record(on: incident.id, entries: [
                context.entry("jira_synced", "Jira issue \(key): " + done.joined(separator: "; "), details: ["key": key]),
            ])
        }
        return .done
    }

    private func link(_ id: IncidentID, key: String, url: String, found: Bool) async throws {
        let how = found ? "linked (found by incident id after an earlier attempt)" : "opened"
        try await context.record(on: id, entries: [
            context.entry(Self.linked, "Jira issue \(key) \(how): \(url)", details: ["key": key, "url": url]),
        ])
    }

    private func reasonText(_ outcome: DeliveryOutcome) -> String {
        switch outcome {
        case .delivered(let status): "HTTP \(status)"
        case .retryable(let reason, _), .permanent(let reason): reason
        }
    }
}
