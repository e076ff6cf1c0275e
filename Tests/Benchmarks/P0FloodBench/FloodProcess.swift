// The flood runs in a child process of its own (this same binary with --flood-child), as a noisy LLM-Shield
// instance would: in the benchmark's process its tens of thousands of calls in flight would queue the P0 sender's
// own steps behind theirs, and the client, not the server, would be measured.
import Foundation
import IncidentAPI
import RPC

/// The parent's handle on a running flood child.
final class FloodProcess {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()

    /// Starts the child flooding `target` at `perSecond` over `connections` connections.
    init(target: String, certs: String, perSecond: Double, timeoutSeconds: Double, connections: Int) throws {
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = ["--flood-child", target, "--certs", certs, "--rate", String(perSecond),
                             "--flood-timeout", String(timeoutSeconds), "--connections", String(connections)]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
    }

    /// Tells the child to stop starting calls (its stdin closes), waits for its last answers, returns its tally.
    func stop() throws -> FloodResult {
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let started = object["started"] as? Int, let ok = object["ok"] as? Int,
              let seconds = object["seconds"] as? Double, let byStatus = object["byStatus"] as? [String: Int]
        else { throw BenchFailure("the flood process gave no tally (exit \(process.terminationStatus))") }
        return FloodResult(capacityPerSecond: 0, targetPerSecond: 0, seconds: seconds, started: started, ok: ok,
                           byStatus: byStatus)
    }

    /// The child's side: floods until stdin closes, then prints its tally as one JSON object.
    static func runChild(target: String, options: [String: String]) async throws {
        guard let certs = options["--certs"], let rate = Double(options["--rate"] ?? "") else {
            throw BenchFailure("--flood-child needs --certs and --rate")
        }
        let timeout = Double(options["--flood-timeout"] ?? "10") ?? 10
        let connections = max(1, Int(options["--connections"] ?? "4") ?? 4)
        let security = ChannelSecurity.mutualTLS(trustRootsPath: certs + "/ca.crt",
                                                 certificateChainPath: certs + "/llm-shield-client.crt",
                                                 privateKeyPath: certs + "/llm-shield-client.key")
        let clients = try (0..<connections).map { _ in
            IncidentServiceClient(transport: try Channel(configuration: ChannelConfiguration(target: target,
                                                                                            security: security)))
        }
        let load = LoadGenerator(clients: clients, p0Client: clients[0], events: EventFactory())
        let stop = StopSignal()
        Thread {
            _ = FileHandle.standardInput.readDataToEndOfFile()
            stop.set()
        }.start()
        let (tally, seconds) = await load.flood(perSecond: rate, timeout: .milliseconds(Int64(timeout * 1000)),
                                                stop: stop)
        let snapshot = tally.snapshot
        let object: [String: Any] = ["started": snapshot.started, "ok": snapshot.ok, "seconds": seconds,
                                     "byStatus": snapshot.byStatus]
        FileHandle.standardOutput.write(try JSONSerialization.data(withJSONObject: object))
    }
}
