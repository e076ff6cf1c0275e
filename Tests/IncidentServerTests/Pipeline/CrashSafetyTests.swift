// Crash safety with the real `incident-server` binary: it is killed with SIGKILL between a remediation call and
// its bookkeeping (the stand-in for LLM-Shield's admin API holds its answer meanwhile), then started again on the
// same database. The job runs again with the same idempotency key, so the receiver can act once; every page has
// the incident's dedup key; every acknowledged incident is there exactly once.
import Foundation
import HTTPTestSupport
import IncidentAPI
import IncidentCore
import IncidentStore
import RPC
import Synchronization
import Testing

@Suite("Pipeline crash safety", .enabled(if: TestDatabase.shouldRun))
struct CrashSafetyTests {
    @Test("kill -9 between the action and its bookkeeping: after restart the action completes once, keyed the same")
    func killBetweenActionAndBookkeeping() async throws {
        let receiver = try LoopbackHTTPReceiver()
        defer { receiver.stop() }
        // The first block call is held long past the kill; the retry after the restart is answered at once.
        receiver.script([.init(status: 200, delaySeconds: 8)], path: "/shield/block")
        let settings = try await TestDatabase.fresh()
        let configFile = try ServerProcess.writeConfig(receiver: receiver.url)

        var server = try await ServerProcess.start(config: configFile, database: settings)
        let client = try server.client("llm-shield")
        var acknowledged: [String] = []
        for index in 0..<5 {
            // A user each: the same user's events would fold into one incident (correlation).
            var p2Request = Sample.event(id: "crash-p2-\(index)", severity: "medium")
            p2Request.tags["user_id"] = "user-p2-\(index)"
            acknowledged.append(try await client.createIncident(p2Request, options: .test).incidentId)
        }
        var p0Request = Sample.event(id: "crash-p0", severity: "critical")
        p0Request.tags = ["user_id": "user-crash", "tenant_id": "tenant-1"]
        let p0 = try await client.createIncident(p0Request, options: .test).incidentId
        acknowledged.append(p0)

        #expect(try await eventually { receiver.received(path: "/shield/block").count == 1 })
        server.kill()

        let store = try await IncidentStore.open(StoreConfiguration(connection: settings, poolSize: 2,
                                                                    listensForChanges: false))
        defer { store.shutdown() }
        // The block reached the executor, but the server died before writing it down.
        #expect(try await store.incident(IncidentID(p0)!).remediationActions.first?.state == .pending)

        server = try await ServerProcess.start(config: configFile, database: settings)
        defer { server.kill() }
        #expect(try await eventually(timeout: .seconds(60)) {
            try await store.incident(IncidentID(p0)!).remediationActions.first?.state == .done
        })
        let blocks = receiver.received(path: "/shield/block")
        #expect(blocks.count == 2)
        // Same key on both attempts: an executor that honours Idempotency-Key blocks the user once.
        #expect(Set(blocks.map { $0.headers["idempotency-key"] ?? "" }) == ["\(p0):remediate:A1"])
        #expect(Set(blocks.map { json($0.body)["action_id"] as? String ?? "" }) == ["A1"])
        let timeline = try await store.incident(IncidentID(p0)!).timeline
        #expect(timeline.filter { $0.kind == "remediation_done" }.count == 1)

        // Pages (sent once or, if the kill came before their bookkeeping, again) all carry the incident's dedup key.
        #expect(try await eventually {
            try await store.incident(IncidentID(p0)!).timeline.contains { $0.kind == "paged" }
        })
        let pages = receiver.received(path: "/pagerduty")
        #expect(!pages.isEmpty)
        #expect(Set(pages.map { json($0.body)["dedup_key"] as? String ?? "" }) == [p0])

        // Every acknowledged incident is present exactly once.
        let listed = try await store.listIncidents(IncidentQuery(limit: 100)).incidents.map(\.id.description)
        #expect(listed.count == acknowledged.count)
        #expect(Set(listed) == Set(acknowledged))
    }
}

/// The real `incident-server` binary that `swift build --build-tests` put beside the test bundle.
struct ServerProcess {
    let process: Process
    let port: Int

    static var binary: URL {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if url.lastPathComponent.hasSuffix(".xctest") { url.deleteLastPathComponent() }
        return url.appendingPathComponent("incident-server")
    }

    /// A config file pointing every integration at the receiver, with a short lease so a dead server's jobs are
    /// taken over quickly.
    static func writeConfig(receiver: String) throws -> String {
        let pki = ServicePKI.shared
        let yaml = """
            server:
              listen: ["127.0.0.1:0"]
              public_url: https://incidents.test
              tls:
                cert_chain: \(pki.path("server.pem"))
                private_key: \(pki.path("server.key"))
                client_ca: \(pki.path("ca.pem"))
            integrations:
              llm-shield:
                auto_remediation:
                  enabled: true
                  actions:
                    - name: block
                      type: block_user
                      conditions:
                        severity: [P0]
                  executors:
                    block_user:
                      url: \(receiver)/shield/block
                      signing_secret: ${TEST_SHIELD_SECRET}
                      timeout: 20s
            notifications:
              pagerduty:
                endpoint: \(receiver)/pagerduty
                integration_key: ${TEST_PD_KEY}
              slack:
                webhook_url: \(receiver)/slack
            jobs:
              workers: 2
              poll_interval: 50ms
              lease: 2s
              retry_base: 100ms
              retry_max: 1s
            """
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("crash-test-\(UUID().uuidString).yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Starts the binary and waits for it to say which port it serves on.
    static func start(config: String, database: ConnectionSettings) async throws -> ServerProcess {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["--config", config]
        var environment = ProcessInfo.processInfo.environment
        environment.merge(PipelineHarness.environment) { _, new in new }
        environment["DATABASE_URL"] = try databaseURL(database)
        process.environment = environment
        let stderr = Pipe()
        process.standardError = stderr
        let output = Mutex("")
        stderr.fileHandleForReading.readabilityHandler = { handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            output.withLock { $0 += text }
        }
        try process.run()
        var port: Int?
        _ = try await eventually(timeout: .seconds(30)) {
            let text = output.withLock { $0 }
            guard let range = text.range(of: "serving IncidentService on 127.0.0.1:") else { return !process.isRunning }
            port = Int(text[range.upperBound...].prefix { $0.isNumber })
            return true
        }
        guard let port else {
            throw ServerFailed(output: output.withLock { $0 })
        }
        return ServerProcess(process: process, port: port)
    }

    /// The test database's URL for the child process: DATABASE_URL with this test's database name.
    static func databaseURL(_ settings: ConnectionSettings) throws -> String {
        guard let base = TestDatabase.url, let name = settings.databaseName,
              var components = URLComponents(string: base) else { throw TestDatabase.Missing() }
        components.path = "/" + name
        return components.string ?? base
    }

    func client(_ identity: String) throws -> IncidentServiceClient {
        let pki = ServicePKI.shared
        let channel = try Channel(configuration: ChannelConfiguration(
            target: "127.0.0.1:\(port)",
            security: .mutualTLS(trustRootsPath: pki.path("ca.pem"), certificateChainPath: pki.path(identity + ".pem"),
                                 privateKeyPath: pki.path(identity + ".key"))))
        return IncidentServiceClient(transport: channel)
    }

    /// SIGKILL: no drain, no clean-up, exactly what a crash leaves behind.
    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    struct ServerFailed: Error, CustomStringConvertible {
        var output: String
        var description: String { "incident-server did not start: \(output)" }
    }
}
