// p0-flood-bench: P0 create-to-page latency of a real incident-server, alone and under an open-loop flood of
// low-severity creates at a multiple of what the server durably writes (issue 6's benchmark). Run by
// `make bench-p0` through run-p0-bench.sh, which builds the release server and makes a fresh database.
//
//   p0-flood-bench --server BIN --certs DIR --database-url URL [--out bench-results/p0-flood.md]
//                  [--p0-events 200] [--p0-rate 5] [--capacity-concurrency 1024] [--capacity-seconds 5]
//                  [--flood-factor 2] [--flood-timeout 10] [--grace 30] [--connections 4] [--workers 4]
import Foundation
import IncidentAPI
import RPC
import Synchronization

@main
struct P0FloodBench {
    static func main() async {
        do {
            try await run()
        } catch {
            let message = "p0-flood-bench: \(error)\n"
            FileHandle.standardError.write(Data(message.utf8))
            exit(1)
        }
    }

    static func run() async throws {
        var options: [String: String] = [:]
        var arguments = CommandLine.arguments.dropFirst()
        var floodChild: String?
        if arguments.first == "--flood-child" {
            arguments.removeFirst()
            floodChild = arguments.popFirst()
        }
        while let name = arguments.popFirst() {
            guard name.hasPrefix("--"), let value = arguments.popFirst() else {
                throw BenchFailure("bad argument \(name)")
            }
            options[name] = value
        }
        func number(_ name: String, _ fallback: Double) throws -> Double {
            guard let text = options[name] else { return fallback }
            guard let value = Double(text), value > 0 else { throw BenchFailure("\(name) wants a positive number") }
            return value
        }
        if let target = floodChild { return try await FloodProcess.runChild(target: target, options: options) }
        guard let binary = options["--server"], let certs = options["--certs"],
              let databaseURL = options["--database-url"] else {
            throw BenchFailure("needs --server BIN --certs DIR --database-url URL")
        }
        let out = options["--out"] ?? "bench-results/p0-flood.md"
        let p0Events = Int(try number("--p0-events", 200))
        let p0Rate = try number("--p0-rate", 5)
        let capacityConcurrency = Int(try number("--capacity-concurrency", 1024))
        let capacitySeconds = try number("--capacity-seconds", 5)
        let floodFactor = try number("--flood-factor", 2)
        let floodTimeout = try number("--flood-timeout", 10)
        let grace = try number("--grace", 30)
        let connections = Int(try number("--connections", 4))
        let workers = Int(try number("--workers", 4))
        let loadBefore = loadAverage()

        let receiver = try PageReceiver()
        let logPath = (out as NSString).deletingLastPathComponent + "/p0-flood-server.log"
        let server = try ServerUnderTest(binary: binary, certs: certs, databaseURL: databaseURL,
                                         pagerDutyEndpoint: receiver.endpoint, workers: workers, logPath: logPath)
        defer { server.stop(); receiver.stop() }
        let security = ChannelSecurity.mutualTLS(trustRootsPath: certs + "/ca.crt",
                                                 certificateChainPath: certs + "/llm-shield-client.crt",
                                                 privateKeyPath: certs + "/llm-shield-client.key")
        func client(_ security: ChannelSecurity = security) throws -> IncidentServiceClient {
            IncidentServiceClient(transport: try Channel(configuration: ChannelConfiguration(target: server.target,
                                                                                            security: security)))
        }
        // secops may read incidents: after each phase it reads back when each P0 was written.
        let reader = try client(.mutualTLS(trustRootsPath: certs + "/ca.crt",
                                           certificateChainPath: certs + "/secops-client.crt",
                                           privateKeyPath: certs + "/secops-client.key"))
        // The P0 sender has its own connection, as a separate LLM-Shield instance would.
        let load = LoadGenerator(clients: try (0..<max(1, connections)).map { _ in try client() },
                                 p0Client: try client(), events: EventFactory())

        print("p0-flood-bench: server on \(server.target), PagerDuty receiver at \(receiver.endpoint), "
              + "server log \(logPath)")
        try await warmUp(load, server: server, receiver: receiver)

        print("p0-flood-bench: \(p0Events) P0 events at \(p0Rate)/s, alone")
        let aloneSamples = await load.p0Series(count: p0Events, perSecond: p0Rate)
        await waitForPages(aloneSamples, receiver: receiver, grace: grace)
        let alone = P0PhaseResult(name: "P0 alone", samples: await load.readWriteTimes(aloneSamples, reader: reader),
                                  receiver: receiver)

        print("p0-flood-bench: capacity, closed loop at \(capacityConcurrency) callers for \(capacitySeconds) s")
        let (capacity, capacityTally) = await load.closedLoopCapacity(concurrency: capacityConcurrency,
                                                                     seconds: capacitySeconds)
        guard capacity > 0 else {
            throw BenchFailure("no create succeeded in the capacity run: \(capacityTally.snapshot)")
        }

        let target = capacity * floodFactor
        print("p0-flood-bench: capacity \(Int(capacity))/s; flood at \(Int(target))/s open loop with "
              + "\(p0Events) P0 events at \(p0Rate)/s")
        let flooding = try FloodProcess(target: server.target, certs: certs, perSecond: target,
                                        timeoutSeconds: floodTimeout, connections: connections)
        // A moment for the flood to build up before the first P0.
        try await Task.sleep(for: .seconds(2))
        let floodedSamples = await load.p0Series(count: p0Events, perSecond: p0Rate)
        var flood = try flooding.stop()
        flood.capacityPerSecond = capacity
        flood.targetPerSecond = target
        await waitForPages(floodedSamples, receiver: receiver, grace: grace)
        let flooded = P0PhaseResult(name: "P0 under flood",
                                    samples: await load.readWriteTimes(floodedSamples, reader: reader),
                                    receiver: receiver)

        let extra = receiver.extraRequests
        let report = BenchReport(
            alone: alone, flooded: flooded, flood: flood,
            settings: [
                "\(p0Events) P0 (critical) events per phase at \(p0Rate)/s, each call started on schedule",
                "flood \(floodFactor)× the closed-loop capacity (\(capacityConcurrency) callers, "
                    + "\(capacitySeconds) s), from a separate process over \(connections) connections, call timeout "
                    + "\(floodTimeout) s, started 2 s before the first P0 and stopped after the last P0 answer",
                "server: release incident-server, fresh database, jobs.workers \(workers), PagerDuty live to a "
                    + "loopback receiver answering 202, other integrations mock",
                "notifications.pagerduty.events_per_minute \(ServerUnderTest.eventsPerMinute) so PagerDuty's "
                    + "per-key outbound budget is not what is measured",
                "grace for late pages \(grace) s; repeated triggers seen \(extra.repeats), other requests "
                    + "\(extra.other)",
            ],
            loadAverages: (loadBefore, loadAverage()))
        let text = report.markdown
        print(text)
        try FileManager.default.createDirectory(atPath: (out as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: out, atomically: true, encoding: .utf8)
        print("p0-flood-bench: wrote \(out)")
    }

    /// One P0 through the whole path before anything is timed: the server is up, the pipeline is live and the
    /// receiver is reached.
    static func warmUp(_ load: LoadGenerator, server: ServerUnderTest, receiver: PageReceiver) async throws {
        let options = CallOptions(timeout: .seconds(60), waitForReady: true)
        let response = try await load.p0Client.createIncident(load.events.event(severity: "critical"), options: options)
        for client in load.clients {
            _ = try await client.createIncident(load.events.event(severity: "info"), options: options)
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while receiver.arrival(of: response.incidentId) == nil {
            guard ContinuousClock.now < deadline, server.isRunning else {
                throw BenchFailure("the warm-up P0 \(response.incidentId) was not paged within 30 s; "
                                   + "see the server log")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits until every created P0 was paged, or the grace period ends.
    static func waitForPages(_ samples: [P0Sample], receiver: PageReceiver, grace: Double) async {
        let deadline = ContinuousClock.now + .milliseconds(Int64(grace * 1000))
        let ids = samples.compactMap(\.incidentID)
        while ContinuousClock.now < deadline, ids.contains(where: { receiver.arrival(of: $0) == nil }) {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// A benchmark that cannot run as asked.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
