// The background pipeline of one server: the job runner with the handlers that page, notify, call webhooks and
// remediate, and the Governance audit feed, each integration in `live` or `mock` mode (PAGERDUTY_MODE, SLACK_MODE,
// WEBHOOKS_MODE, REMEDIATION_MODE, GOVERNANCE_MODE, JIRA_MODE over INTEGRATIONS_MODE, default mock) and behind a
// circuit breaker per endpoint.
import Foundation
import IncidentCore
import IncidentStore
import Integrations

/// Starts and stops the job workers; `incident-server` runs one per process.
public final class IncidentPipeline: Sendable {
    private let runner: JobRunner
    private let enabled: Bool
    private let recorders: [String: MockDelivery]
    /// The Governance audit push, when `integrations.llm-governance-core.audit` is configured.
    let governanceFeed: GovernanceAuditFeed?
    /// Each integration family's mode, for the start-up log line.
    public let modes: [String: IntegrationMode]

    /// The integration families and the environment variable that picks each one's mode.
    static let families = ["pagerduty", "slack", "webhooks", "remediation", "governance", "jira"]

    /// The pipeline with every handler: integrations, remediation, and the timers (escalation, SLA, approval expiry).
    public convenience init(store: IncidentStore, config: ServiceConfig, environment: [String: String],
                            log: ServerLog) {
        let routing = IncidentDecisions(config: config)
        let settings = TimerSettings(
            config: config, escalationTimeoutMinutes: config.notifications.pagerDuty.escalationTimeoutMinutes,
            webhooks: { trigger, priority in
                config.webhooks.filter { $0.fires(on: trigger, priority: priority) }.map(\.name)
            },
            slackChannels: { incident in
                routing.slackChannels(priority: incident.priority, category: incident.category)
            })
        self.init(store: store, config: config, environment: environment, log: log,
                  extraHandlers: TimerHandlers.all(store: store, settings: settings))
    }

    /// `extraHandlers` run kinds the pipeline's own handlers do not; a kind registered twice goes to the later one.
    init(store: IncidentStore, config: ServiceConfig, environment: [String: String], log: ServerLog,
         extraHandlers: [any JobHandler], now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        var deliveries: [String: any HTTPDelivery] = [:]
        var recorders: [String: MockDelivery] = [:]
        var modes: [String: IntegrationMode] = [:]
        let live = LiveHTTPDelivery()
        let breakers = BreakerDelivery(live, threshold: config.jobs.breakerThreshold,
                                       coolOffSeconds: config.jobs.breakerCoolOffSeconds, clock: now)
        for family in Self.families {
            let mode = IntegrationMode.resolve(family, environment: environment)
            modes[family] = mode
            if mode == .live {
                deliveries[family] = breakers
            } else {
                let mock = MockDelivery(log: log)
                recorders[family] = mock
                deliveries[family] = mock
            }
        }
        self.modes = modes
        self.recorders = recorders
        self.enabled = config.jobs.enabled
        let publicURL = config.publicURL.hasSuffix("/") ? String(config.publicURL.dropLast()) : config.publicURL
        let context = PipelineContext(store: store, config: config, environment: environment, log: log,
                                      deliveries: deliveries, mocked: Set(recorders.keys), publicURL: publicURL,
                                      now: now)
        let handlers: [any JobHandler] = [
            PageHandler(context: context), SlackHandler(context: context), WebhookHandler(context: context),
            RemediationHandler(context: context), JiraHandler(context: context),
        ] + extraHandlers
        runner = JobRunner(queue: store.jobs, handlers: handlers, options: JobRunnerOptions(config.jobs), log: log)
        if config.jira != nil {
            // Jira's side of the sync is not read yet: say so rather than let `status_map` look as if it worked.
            log.error("jira: issues are opened and follow our status and notes, but Jira's changes are not read back "
                      + "(sync_interval_seconds and status_map are ignored)")
        }
        governanceFeed = config.governance.flatMap { governance in
            governance.auditURL.map { url in
                GovernanceAuditFeed(
                    store: store, config: governance, url: context.secret(url), apiKey: context.secret(governance.apiKey),
                    delivery: context.delivery("governance"), mocked: context.isMocked("governance"), jobs: config.jobs,
                    log: log, now: now)
            }
        }
    }

    /// Starts the workers, unless the config's `jobs.enabled` is off.
    public func start() {
        if enabled {
            runner.start()
            governanceFeed?.start()
        }
    }

    /// Lets running jobs finish and stops the workers.
    public func stop() async {
        await governanceFeed?.stop()
        await runner.stop()
    }

    /// What the integrations in mock mode would have sent, oldest first.
    public func recordedRequests(_ family: String) -> [OutboundRequest] {
        recorders[family]?.requests ?? []
    }
}

/// Mock mode: records each request instead of sending it and logs one line about it (integration, host, size and
/// idempotency key; never the body, headers or URL path, which may carry tokens).
final class MockDelivery: HTTPDelivery {
    private let recorder = RecordingHTTPDelivery(limit: 1000)
    private let log: ServerLog

    init(log: ServerLog) {
        self.log = log
    }

    func deliver(_ request: OutboundRequest) async -> DeliveryOutcome {
        let host = URL(string: request.url)?.host ?? "(no host)"
        log.info("mock \(request.integration): would \(request.method) \(request.body.count) bytes to \(host), "
                 + "idempotency key \(request.idempotencyKey)")
        return await recorder.deliver(request)
    }

    var requests: [OutboundRequest] { recorder.requests }
}
