// The incident-server the benchmark measures: a child process on a free loopback port, with a config that puts
// PagerDuty in live mode against the benchmark's receiver and the rest of the defaults unchanged.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A running `incident-server` child process.
final class ServerUnderTest {
    let port: Int
    /// PagerDuty's per-key outbound budget in the bench config: far above any rate the benchmark sends, so the
    /// budget (which exists to respect PagerDuty's ~120/min) is not what is measured.
    static let eventsPerMinute = 1_000_000
    private let process: Process

    /// Writes the config next to `logPath` and starts the server; its output goes to `logPath`.
    init(binary: String, certs: String, databaseURL: String, pagerDutyEndpoint: String, workers: Int,
         logPath: String) throws {
        port = try Self.freePort()
        let directory = (logPath as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let configPath = directory + "/p0-bench-config.yaml"
        let config = """
            # Written by p0-flood-bench: PagerDuty live toward the benchmark's loopback receiver.
            server:
              listen: ["127.0.0.1:\(port)"]
              tls: {cert_chain: "\(certs)/server.crt", private_key: "\(certs)/server.key", \
            client_ca: "\(certs)/ca.crt"}
            notifications:
              pagerduty:
                endpoint: "\(pagerDutyEndpoint)"
                integration_key: "${P0_BENCH_PD_KEY}"
                events_per_minute: \(Self.eventsPerMinute)
            jobs: {enabled: true, workers: \(workers)}

            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))

        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--config", configPath]
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = databaseURL
        environment["PAGERDUTY_MODE"] = "live"
        environment["P0_BENCH_PD_KEY"] = "p0-bench-routing-key"
        process.environment = environment
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    var target: String { "127.0.0.1:\(port)" }
    var isRunning: Bool { process.isRunning }

    /// SIGTERM, then waits for the drain.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// A loopback port nothing listens on right now.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
