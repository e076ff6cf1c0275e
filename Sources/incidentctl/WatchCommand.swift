// `incidentctl watch`: follows StreamIncidents live, and when the connection drops resumes after the last
// change it printed, with backoff, so no change is missed or printed twice. Ctrl-C ends it with exit 0.
import ArgumentParser
import Dispatch
import Foundation
import IncidentAPI
import RPC

/// Prints every change to matching incidents as it happens.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow changes to incidents live (Ctrl-C ends).",
        discussion: """
        Each change is one line: its change-log position, the time, and the incident as it now stands. \
        By default only changes from now on are shown: the server starts after the newest change committed \
        when the stream opens, and sends every later one. --since POSITION starts after that position instead (--since 0 replays \
        every change the server keeps first, then live ones follow). When the connection is lost the stream \
        is reopened after the last position printed, with backoff, and a notice goes to stderr.
        """
    )

    @OptionGroup var connection: ConnectionOptions

    @Option(name: .long, help: "Start after this change-log position (0 replays all kept changes; default: from now on).")
    var since: UInt64?
    @OptionGroup var filters: IncidentFilterOptions
    @Option(name: .long, help: "Only incidents from this source (repeatable).")
    var source: [String] = []
    @Option(name: .long, help: "Only incidents assigned to this team (repeatable).")
    var team: [String] = []
    @Flag(name: .long, help: "Print one proto3 JSON object per change.")
    var json = false

    /// Longest wait between reconnection attempts.
    static let maxBackoff = 30.0

    func run() async throws {
        try await CommandRunner.run(server: connection.serverForMessages) {
            let profile = try connection.profile()
            let channel = try profile.channel()
            // A first cheap call, so an unreachable server or a refused certificate fails at once rather than
            // being retried forever as a lost stream would be.
            _ = try await Grpc_Health_V1_HealthClient(transport: channel)
                .check(Grpc_Health_V1_HealthCheckRequest(), options: profile.callOptions())
            if !json { Output.line(Self.header) }
            let follower = Task { try await follow(IncidentServiceClient(transport: channel), profile: profile) }
            let stop = StopSignals { follower.cancel() }
            defer { stop.cancel() }
            do {
                try await follower.value
            } catch where follower.isCancelled {
                return
            }
        }
    }

    static var header: String {
        [IncidentFormatting.pad("POSITION", 8), IncidentFormatting.pad("UPDATED", 24),
         IncidentFormatting.pad("ID", 18), IncidentFormatting.pad("STATUS", 12), IncidentFormatting.pad("SEVERITY", 8),
         "PRI", IncidentFormatting.pad("TEAM", 14), "VER", "TITLE"].joined(separator: " ")
    }

    /// Streams until cancelled; returns normally only when cancelled, throws what cannot be retried.
    func follow(_ client: IncidentServiceClient, profile: ConnectionProfile) async throws {
        var request = StreamIncidentsRequest()
        request.severities = filters.severity
        request.statuses = filters.status
        request.categories = filters.category
        request.sources = source
        request.assignedTeams = team
        var position = since ?? 0
        var backoff = 0.5
        while !Task.isCancelled {
            request.sincePosition = position
            // From now on until the first change arrives; then resumes continue after the last one printed.
            // (A reconnect before any change printed starts at the head again: the server does not say its head.)
            request.fromNow = since == nil && position == 0
            do {
                let options = profile.callOptions(deadline: false)
                for try await incident in client.streamIncidents(request, options: options) {
                    position = max(position, incident.position)
                    backoff = 0.5
                    if json { Output.json(incident) } else { Output.line(IncidentFormatting.changeLine(incident)) }
                }
                if Task.isCancelled { return }
                printError("incidentctl: the server ended the stream; reopening after position \(position)")
            } catch let error as RPCError {
                if Task.isCancelled { return }
                guard Self.isRetryable(error.code) else { throw error }
                let failure = CLIFailure(error, server: profile.server)
                printError("incidentctl: stream lost (\(failure.message)); reconnecting in "
                           + "\(String(format: "%.1f", backoff))s after position \(position)")
            }
            // Jitter keeps many watchers from reconnecting in step after a server restart.
            try? await Task.sleep(for: .milliseconds(Int64(backoff * 1000 * Double.random(in: 0.8...1.2))))
            backoff = min(backoff * 2, Self.maxBackoff)
        }
    }

    /// Statuses after which the same stream can be reopened: the server went away, shed load or was stopping.
    /// Anything else (a refused identity, a bad filter, a server fault) would fail again: it ends the command.
    static func isRetryable(_ code: StatusCode) -> Bool {
        [.unavailable, .cancelled, .resourceExhausted, .deadlineExceeded, .aborted].contains(code)
    }
}

/// Turns SIGINT and SIGTERM into a call of `handler` instead of killing the process mid-line.
final class StopSignals {
    private let sources: [any DispatchSourceSignal]

    init(_ handler: @escaping @Sendable () -> Void) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
