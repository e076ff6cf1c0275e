// `webhook` jobs: one configured generic webhook for one trigger, with its template, bearer token and signature.
import Foundation
import IncidentCore
import IncidentStore
import Integrations

/// Runs `webhook`.
struct WebhookHandler: JobHandler {
    let context: PipelineContext

    var kinds: [JobKind] { [.webhook] }

    func run(_ job: ClaimedJob) async throws -> JobResult {
        guard case .webhook(let name, let triggerName) = try job.work() else {
            return .failed(reason: "not a webhook job")
        }
        guard let incident = try await context.incident(of: job) else { return .failed(reason: "incident not found") }
        guard let settings = context.config.webhooks.first(where: { $0.name == name }), settings.enabled else {
            return .failed(reason: "webhook \(name) is not configured")
        }
        guard let trigger = WebhookTrigger(rawValue: triggerName) else {
            return .failed(reason: "unknown webhook trigger")
        }
        let secret = context.secret(settings.signingSecret)
        let token = context.secret(settings.bearerToken)
        let webhook = Webhook(
            name: name, url: context.secret(settings.url), triggers: [trigger: []], headers: settings.headers,
            payloadTemplate: settings.payloadTemplate, bearerToken: token.isEmpty ? nil : token,
            signer: secret.isEmpty ? nil : MessageSigner(secret: Array(secret.utf8)),
            timeoutSeconds: settings.timeoutSeconds)
        let now = context.now()
        var request = webhook.request(trigger, for: context.summary(of: incident),
                                      timestamp: APITime.format(Date(timeIntervalSince1970: now)), now: Int(now))
        request.method = settings.method
        request.idempotencyKey = job.idempotencyKey
        let outcome = await context.delivery("webhooks").deliver(request)
        let (result, final) = context.result(of: outcome, job: job)
        if final && !context.isMocked("webhooks") {
            let entry = switch result {
            case .done: context.entry(TimelineKind.webhookSent, "webhook \(name) called (\(trigger.rawValue))")
            case .failed(let reason), .retry(let reason): context.entry(TimelineKind.webhookFailed, "webhook \(name): \(reason)")
            }
            try await context.record(on: incident.id, entries: [entry])
        }
        return result
    }
}
