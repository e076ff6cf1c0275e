// A private Postgres cluster in a temporary directory that a test may stop and start at will.
import Foundation
@testable import IncidentStore

/// initdb + pg_ctl in a temp dir, reached over a Unix socket in that dir (no port to collide on).
/// As root, the cluster runs as the packaged `postgres` user because initdb refuses root.
final class ThrowawayCluster: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let directory: String
    private let binaries: String

    var dataDirectory: String { directory + "/data" }
    var settings: ConnectionSettings {
        ConnectionSettings(url: "postgresql://incident@/postgres?host=\(directory)", connectTimeoutSeconds: 3,
                           operationTimeout: .seconds(20))
    }

    init() throws {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw Failure(description: "no Postgres server binaries under /usr/lib/postgresql (apt-get install postgresql)")
        }
        binaries = "/usr/lib/postgresql/\(newest)/bin"
        directory = NSTemporaryDirectory() + "im-pg-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if getuid() == 0 { try run("/bin/chown", ["postgres", directory], asPostgres: false) }
        try run("\(binaries)/initdb", ["-D", dataDirectory, "-U", "incident", "--auth=trust", "-E", "UTF8",
                                       "--locale=C.UTF-8"])
        try start()
    }

    func start() throws {
        try run("\(binaries)/pg_ctl", ["-D", dataDirectory, "-l", directory + "/log", "-w", "-t", "60", "start",
                                       "-o", "-c listen_addresses='' -k \(directory) -c fsync=off"])
    }

    func stop() throws {
        try run("\(binaries)/pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "-t", "60", "stop"])
    }

    /// Stops the server and removes its files.
    func destroy() {
        try? stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func run(_ tool: String, _ arguments: [String], asPostgres: Bool = true) throws {
        let process = Process()
        if asPostgres && getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "postgres", "--", tool] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = arguments
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(tool) failed (\(process.terminationStatus)): \(text)")
        }
    }
}
