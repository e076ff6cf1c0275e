// `remediate` and `remediate.compensate` jobs: call the executor the config names for the action (e.g. LLM-Shield's
// admin API) with a signed JSON body and the job's idempotency key, then write the outcome onto the incident. The
// plan already passed the guard rails (cooldown, blast radius), so nothing here touches them. The key is the same
// on every attempt, so a run repeated after a crash between the call and its bookkeeping acts once.
import Foundation
import IncidentCore
import IncidentStore
import Integrations

/// Runs `remediate` and `remediate.compensate`.
struct RemediationHandler: JobHandler {
    let context: PipelineContext

    var kinds: [JobKind] { [.remediate, .compensate] }

    func run(_ job: ClaimedJob) async throws -> JobResult {
        let actionID: String, inputs: [String: String], undo: Bool
        switch try job.work() {
        case .remediate(let id, let given): (actionID, inputs, undo) = (id, given, false)
        case .compensate(let id, let given, _): (actionID, inputs, undo) = (id, given, true)
        default: return .failed(reason: "not a remediation job")
        }
        guard let incident = try await context.incident(of: job) else { return .failed(reason: "incident not found") }
        guard let action = incident.remediationActions.first(where: { $0.id == actionID }) else {
            return .failed(reason: "incident has no action \(actionID)")
        }
        return undo
            ? try await compensate(action, inputs: inputs, of: incident, job: job)
            : try await execute(action, inputs: inputs, of: incident, job: job)
    }

    private func execute(
        _ action: RemediationAction, inputs: [String: String], of incident: Incident, job: ClaimedJob
    ) async throws -> JobResult {
        // Already carried out, denied, expired: nothing to do (a repeated job, or a decision came first).
        guard action.state.isRunnable else { return .done }
        let label = "\(action.id) \(action.kind)"
        guard let executor = context.config.remediation.executors[action.kind] else {
            try await context.record(on: incident.id, entries: [context.entry(
                TimelineKind.remediationFailed, "\(label) failed: no executor configured for \(action.kind)",
                details: action.details)],
                action: (action.id, .failed, ["error": "no executor configured"]))
            return .failed(reason: "no executor configured for \(action.kind)")
        }
        let parameters = try await ExecutorInputs.parameters(of: (action.id, action.params), inputs: inputs, job: job,
                                                             jobs: context.store.jobs)
        let outcome = await call(executor, action: action.kind, actionID: action.id, incident: incident,
                                 parameters: parameters, job: job)
        let (result, final) = context.result(of: outcome, job: job)
        guard final else { return result }
        switch result {
        case .done:
            try await context.record(on: incident.id, entries: [context.entry(
                TimelineKind.remediationDone, "\(label) done by \(executor.action) executor" + context.mockNote("remediation"),
                details: action.details)],
                action: (action.id, .done, [:]))
        case .failed(let reason), .retry(let reason):
            try await context.record(on: incident.id, entries: [context.entry(
                TimelineKind.remediationFailed, "\(label) failed: \(reason)",
                details: action.details)],
                action: (action.id, .failed, ["error": reason]))
        }
        return result
    }

    private func compensate(
        _ action: RemediationAction, inputs: [String: String], of incident: Incident, job: ClaimedJob
    ) async throws -> JobResult {
        let label = "\(action.id) \(action.kind)"
        if action.state.isRunnable {
            // Not carried out yet (its job is still retrying): undo only after it ran.
            return .retry(reason: "\(label) has not run yet")
        }
        guard action.state == .done else {
            if action.state != .compensated {
                try await context.record(on: incident.id, entries: [context.entry(
                    TimelineKind.compensationSkipped, "\(label) never ran (\(action.state)): nothing to undo",
                    details: action.details)])
            }
            return .done
        }
        guard let undo = Self.kind(action.kind).compensation,
              let executor = context.config.remediation.executors[undo] else {
            try await context.record(on: incident.id, entries: [context.entry(
                TimelineKind.compensationFailed, "\(label) cannot be undone: no executor configured for its compensation",
                details: action.details)])
            return .failed(reason: "no executor configured for the compensation of \(action.kind)")
        }
        let parameters = try await ExecutorInputs.parameters(of: (action.id, action.params), inputs: inputs, job: job,
                                                             jobs: context.store.jobs)
        let outcome = await call(executor, action: undo, actionID: action.id, incident: incident,
                                 parameters: parameters, job: job)
        let (result, final) = context.result(of: outcome, job: job)
        guard final else { return result }
        switch result {
        case .done:
            try await context.record(on: incident.id, entries: [context.entry(
                TimelineKind.remediationCompensated, "\(label) undone by \(undo)" + context.mockNote("remediation"),
                details: action.details)],
                action: (action.id, .compensated, [:]))
        case .failed(let reason), .retry(let reason):
            try await context.record(on: incident.id, entries: [context.entry(
                TimelineKind.compensationFailed, "\(label) \(undo) failed: \(reason)",
                details: action.details)])
        }
        return result
    }

    private func call(_ executor: ExecutorConfig, action: String, actionID: String, incident: Incident,
                      parameters: [String: String], job: ClaimedJob) async -> DeliveryOutcome {
        let secret = context.secret(executor.signingSecret)
        let endpoint = RemediationEndpoint(action: action, url: context.secret(executor.url),
                                           signer: MessageSigner(secret: Array(secret.utf8)),
                                           timeoutSeconds: executor.timeoutSeconds)
        // Only the action's own parameters go out; bookkeeping keys stay home.
        let bookkeeping: Set<String> = ["rule", "error", "compensate_after_seconds", "approval_ttl_seconds",
                                        "decided_by", "decided_at", "reason"]
        let sent = parameters.filter { !bookkeeping.contains($0.key) }
        var request = endpoint.request(actionID: actionID, incidentID: incident.id.description, parameters: sent,
                                       now: Int(context.now()))
        request.idempotencyKey = job.idempotencyKey
        return await context.delivery("remediation").deliver(request)
    }

    /// The action kind a stored action names.
    static func kind(_ name: String) -> RemediationKind {
        switch name {
        case "block_user": .blockUser
        case "rate_limit": .rateLimit
        case "webhook": .webhook
        default: .custom(name)
        }
    }
}
