// A real incident server with its job pipeline for one test: the IncidentService on a loopback port over mutual
// TLS, a store on a fresh Postgres database, and the job runner with every integration in live mode pointed at a
// loopback HTTP receiver (paths /pagerduty, /slack, /webhook, /shield/block, /shield/unblock).
import Foundation
import HTTPTestSupport
import IncidentAPI
import IncidentCore
@testable import IncidentServer
import IncidentStore
import RPC

/// A running server, its store, its pipeline and the receiver standing in for the outside world.
struct PipelineHarness {
    let server: Server
    let store: IncidentStore
    let pipeline: IncidentPipeline
    let receiver: LoopbackHTTPReceiver
    let port: Int
    let database: ConnectionSettings

    static let pagerDutyKey = "pd-routing-key-for-tests"
    static let shieldSecret = "shield-admin-hmac-secret"
    static let webhookSecret = "webhook-hmac-secret"
    static let webhookToken = "webhook-bearer-token"

    /// Secrets come from the environment, as in production; every integration is live (toward the receiver).
    static let environment = [
        "INTEGRATIONS_MODE": "live", "TEST_PD_KEY": pagerDutyKey, "TEST_SHIELD_SECRET": shieldSecret,
        "TEST_WEBHOOK_SECRET": webhookSecret, "TEST_WEBHOOK_TOKEN": webhookToken,
    ]

    /// PagerDuty, Slack, one webhook (P0/P1 creations) and LLM-Shield's admin API as the block/unblock executor,
    /// a rule blocking the user of every P0, and fast retries.
    static func config(receiver: String) -> ServiceConfig {
        var config = ServiceHarness.defaultConfig
        config.notifications.pagerDuty.endpoint = receiver + "/pagerduty"
        config.notifications.pagerDuty.integrationKey = "${TEST_PD_KEY}"
        config.notifications.slack.webhookURL = receiver + "/slack"
        config.notifications.slack.channelRouting = [
            SlackChannelRoute(priorities: [.p0, .p1], channel: "#incidents-critical"),
        ]
        var webhook = WebhookConfig(name: "siem", url: receiver + "/webhook")
        webhook.bearerToken = "${TEST_WEBHOOK_TOKEN}"
        webhook.signingSecret = "${TEST_WEBHOOK_SECRET}"
        webhook.triggers = [WebhookTriggerConfig(event: "incident_created", priorities: [.p0, .p1])]
        config.webhooks = [webhook]
        config.remediation.enabled = true
        config.remediation.rules = [
            RemediationRule(name: "block", kind: .blockUser, conditions: RuleConditions(priorities: [.p0])),
        ]
        var block = ExecutorConfig(action: "block_user", url: receiver + "/shield/block",
                                   signingSecret: "${TEST_SHIELD_SECRET}")
        block.timeoutSeconds = 1
        var unblock = ExecutorConfig(action: "unblock_user", url: receiver + "/shield/unblock",
                                     signingSecret: "${TEST_SHIELD_SECRET}")
        unblock.timeoutSeconds = 1
        config.remediation.executors = ["block_user": block, "unblock_user": unblock]
        config.jobs.workers = 2
        config.jobs.pollIntervalSeconds = 0.05
        config.jobs.retryBaseSeconds = 0.05
        config.jobs.retryMaxSeconds = 0.2
        return config
    }

    /// Starts everything; with `startJobs` false the workers wait for `pipeline.start()`.
    static func start(configure: (inout ServiceConfig) -> Void = { _ in }, startJobs: Bool = true,
                      writeQueueCapacity: Int = 100_000,
                      environment: [String: String] = environment) async throws -> PipelineHarness {
        let receiver = try LoopbackHTTPReceiver()
        var config = config(receiver: receiver.url)
        configure(&config)
        let pki = ServicePKI.shared
        let settings = try await TestDatabase.fresh()
        let store = try await IncidentStore.open(StoreConfiguration(
            connection: settings, poolSize: 4, writeQueueCapacity: writeQueueCapacity))
        let log = ServerLog(verbose: ProcessInfo.processInfo.environment["PIPELINE_TEST_LOG"] != nil)
        let handler = IncidentServiceHandler(store: store, config: config, log: log)
        let server = try Server(
            configuration: ServerConfiguration(
                listenAddresses: ["127.0.0.1:0"],
                security: .mutualTLS(certificateChainPath: pki.path("server.pem"),
                                     privateKeyPath: pki.path("server.key"), clientCAPath: pki.path("ca.pem"))),
            services: [handler])
        try server.start()
        let pipeline = IncidentPipeline(store: store, config: config, environment: environment, log: log)
        if startJobs { pipeline.start() }
        return PipelineHarness(server: server, store: store, pipeline: pipeline, receiver: receiver,
                               port: server.boundPorts[0], database: settings)
    }

    /// A client presenting the certificate of `identity`.
    func client(_ identity: String = "llm-shield") throws -> IncidentServiceClient {
        let pki = ServicePKI.shared
        let channel = try Channel(configuration: ChannelConfiguration(
            target: "127.0.0.1:\(port)",
            security: .mutualTLS(trustRootsPath: pki.path("ca.pem"), certificateChainPath: pki.path(identity + ".pem"),
                                 privateKeyPath: pki.path(identity + ".key"))))
        return IncidentServiceClient(transport: channel)
    }

    /// Creates an incident over gRPC; `user` and `tenant` go into the tags the block rule reads.
    func create(severity: String = "critical", eventID: String = "shield-" + UUID().uuidString,
                user: String = "user-789", tenant: String = "tenant-1") async throws -> CreateIncidentResponse {
        var request = Sample.event(id: eventID, severity: severity)
        request.tags = ["environment": "production", "user_id": user, "tenant_id": tenant]
        return try await client().createIncident(request, options: .test)
    }

    func incident(_ id: String) async throws -> IncidentCore.Incident {
        try await store.incident(IncidentID(id)!)
    }

    func stop() async {
        await pipeline.stop()
        await server.shutdown(grace: .seconds(5))
        store.shutdown()
        receiver.stop()
    }
}

/// Polls a condition until it holds or the timeout passes; for outcomes that jobs produce asynchronously.
func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(25))
    }
    return try await condition()
}

/// The JSON object in a request body.
func json(_ body: [UInt8]) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
}

/// Checks `X-Incident-Signature: v1=<hex HMAC-SHA256(secret, "timestamp.body")>` independently of the signer.
func signatureIsValid(_ request: LoopbackHTTPReceiver.Received, secret: String) -> Bool {
    guard let timestamp = request.headers["x-incident-timestamp"],
          let signature = request.headers["x-incident-signature"] else { return false }
    let mac = Digest.hmacSHA256(key: Array(secret.utf8), message: Array("\(timestamp).".utf8) + request.body)
    return signature == "v1=" + Digest.hex(mac)
}
