// `notify.slack` jobs: one Block Kit message to one channel through the incoming webhook.
import IncidentCore
import IncidentStore
import Integrations

/// Runs `notify.slack`.
struct SlackHandler: JobHandler {
    let context: PipelineContext

    var kinds: [JobKind] { [.slackNotify] }

    func run(_ job: ClaimedJob) async throws -> JobResult {
        guard case .slackNotify(let named, let event) = try job.work() else { return .failed(reason: "not a Slack job") }
        guard let incident = try await context.incident(of: job) else { return .failed(reason: "incident not found") }
        let settings = context.config.notifications.slack
        let channel = named.isEmpty ? settings.defaultChannel : named
        var url = context.secret(settings.webhookURL)
        if url.isEmpty && context.isMocked("slack") { url = "https://hooks.slack.com/(unset-in-mock-mode)" }
        guard settings.enabled, !url.isEmpty else {
            try await context.record(on: incident.id, entries: [context.entry(
                TimelineKind.notifyFailed, "Slack \(channel) not notified: no webhook_url configured")])
            return .failed(reason: "no Slack webhook_url configured")
        }
        let messages = SlackMessages(
            webhookURL: url,
            routes: settings.channelRouting,
            defaultChannel: settings.defaultChannel,
            mentions: settings.mentionOnCreate ? settings.mentionGroups : [:])
        let request = messages.request(for: context.summary(of: incident), channel: channel,
                                       idempotencyKey: job.idempotencyKey)
        let outcome = await context.delivery("slack").deliver(request)
        let (result, final) = context.result(of: outcome, job: job)
        if final && !context.isMocked("slack") {
            let entry = switch result {
            case .done: context.entry(TimelineKind.notified, "Slack \(channel) notified (\(event))")
            case .failed(let reason), .retry(let reason): context.entry(TimelineKind.notifyFailed, "Slack \(channel): \(reason)")
            }
            try await context.record(on: incident.id, entries: [entry])
        }
        return result
    }
}
