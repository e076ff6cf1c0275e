// A private Postgres cluster in a temporary directory that a test may stop and start at will.
import Foundation
import Glibc
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

    /// Runs a tool to completion with posix_spawn and waitpid. (Foundation's Process did not notice pg_ctl's
    /// exit once the server it started inherited the process group, and hung.)
    private func run(_ tool: String, _ arguments: [String], asPostgres: Bool = true) throws {
        let argv = asPostgres && getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", tool] + arguments
                                               : [tool] + arguments
        let outputPath = directory + "/tool-output"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // An empty signal mask: Swift's threads block signals, and a server inheriting that would ignore pg_ctl.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, environ)
        guard spawned == 0 else { throw Failure(description: "cannot start \(argv[0]): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED && WEXITSTATUS == 0, spelled out because the macros do not import.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw Failure(description: "\(tool) failed (status \(status)): \(text)")
        }
    }
}
