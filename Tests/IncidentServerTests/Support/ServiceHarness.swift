// A real incident server for one test: the IncidentService handler on a loopback port with mutual TLS,
// over a store on a fresh Postgres database; clients are the generated IncidentServiceClient on a Channel.
import Foundation
import IncidentAPI
import IncidentCore
import IncidentServer
import IncidentStore
import RPC

/// A running server, its store and the PKI its clients use.
struct ServiceHarness {
    let server: Server
    let store: IncidentStore
    let port: Int
    let pki: ServicePKI
    /// Where the store's database is, for tests that take it away.
    let database: ConnectionSettings
    /// The server's stream hub.
    let streams: ChangeHub

    /// The defaults (llm-shield creates, secops does everything, viewer reads and streams) with a test URL.
    static var defaultConfig: ServiceConfig {
        var config = ServiceConfig.defaults
        config.publicURL = "https://incidents.test:9090/"
        // Every sample event is the same user's (user-789): with correlation on, a test's incidents would fold into
        // one. These tests are about single incidents; correlation has its own (CorrelationTests, e2e).
        config.correlation.enabled = false
        return config
    }

    static func start(
        config: ServiceConfig = defaultConfig, streams: ChangeHub.Configuration = ChangeHub.Configuration()
    ) async throws -> ServiceHarness {
        let pki = ServicePKI.shared
        let settings = try await TestDatabase.fresh()
        let store = try await IncidentStore.open(StoreConfiguration(connection: settings, poolSize: 3))
        let hub = ChangeHub(store: store, configuration: streams, log: ServerLog(verbose: false))
        hub.start()
        let handler = IncidentServiceHandler(store: store, config: config, log: ServerLog(verbose: false),
                                             streams: hub)
        let server = try Server(
            configuration: ServerConfiguration(
                listenAddresses: ["127.0.0.1:0"],
                security: .mutualTLS(certificateChainPath: pki.path("server.pem"),
                                     privateKeyPath: pki.path("server.key"), clientCAPath: pki.path("ca.pem"))),
            services: [handler, HealthService(store: store, watchInterval: .milliseconds(200))])
        try server.start()
        return ServiceHarness(server: server, store: store, port: server.boundPorts[0], pki: pki, database: settings,
                              streams: hub)
    }

    /// A client presenting the certificate of `identity` (llm-shield, secops, viewer or stranger).
    func client(_ identity: String) throws -> IncidentServiceClient {
        let channel = try Channel(configuration: ChannelConfiguration(
            target: "127.0.0.1:\(port)",
            security: .mutualTLS(trustRootsPath: pki.path("ca.pem"), certificateChainPath: pki.path(identity + ".pem"),
                                 privateKeyPath: pki.path(identity + ".key"))))
        return IncidentServiceClient(transport: channel)
    }

    /// A health client presenting the certificate of `identity`.
    func healthClient(_ identity: String = "viewer") throws -> Grpc_Health_V1_HealthClient {
        let channel = try Channel(configuration: ChannelConfiguration(
            target: "127.0.0.1:\(port)",
            security: .mutualTLS(trustRootsPath: pki.path("ca.pem"), certificateChainPath: pki.path(identity + ".pem"),
                                 privateKeyPath: pki.path(identity + ".key"))))
        return Grpc_Health_V1_HealthClient(transport: channel)
    }

    func stop() async {
        await server.shutdown(grace: .seconds(5))
        await streams.stop()
        store.shutdown()
    }
}

extension CallOptions {
    /// Generous for a loaded 2-core machine, short enough not to hang CI.
    static var test: CallOptions { CallOptions(timeout: .seconds(30)) }
}

/// The status a call failed with, or nil if it succeeded.
func status(of body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(.unknown, "not an RPCError: \(error)")
    }
}

/// Builders for requests.
enum Sample {
    /// An LLM-Shield event like the integration guide's, with a fresh event id.
    static func event(id: String = "shield-" + UUID().uuidString, title: String = "Prompt Injection Detected",
                      severity: String = "critical") -> IncidentAPI.CreateIncidentRequest {
        var request = IncidentAPI.CreateIncidentRequest()
        request.eventId = id
        request.source = "llm-shield"
        request.sourceVersion = "2.1.0"
        request.timestamp = "2025-11-11T10:35:00Z"
        request.eventType = "violation"
        request.category = "security"
        request.title = title
        request.description = "Malicious prompt injection attempt blocked"
        request.severity = severity
        var resource = IncidentAPI.Resource()
        resource.type = "model"
        resource.id = "model-gpt4-prod"
        resource.name = "GPT-4 Production"
        request.resource = resource
        request.metrics = ["confidence_score": 0.95]
        request.tags = ["environment": "production", "user_id": "user-789"]
        request.encryptedPayload = [0x00, 0x01, 0xfe, 0xff, 0x42]
        return request
    }
}
