// `incidentctl bench`: a load generator on our C-core client, in the manner of ghz. Closed loop by default,
// open loop with --rate (latency counted from each call's scheduled start, so a slow server cannot hide its
// stalls by slowing the load down), and a stream fan-out mode that measures create-to-delivery latency.
import ArgumentParser
import Foundation
import RPC

/// Drives a server with unary calls or a stream fan-out and reports calls/s, latency percentiles and errors.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a server and report calls/s, latency percentiles and errors by status code.",
        discussion: """
        Closed loop (default): --concurrency callers each send a call, await it and send the next. Open loop \
        (--rate N): calls are started on a fixed schedule of N per second by --concurrency workers whatever the \
        latency, and each latency counts from the call's scheduled start. --method stream opens --subscribers \
        StreamIncidents calls, creates incidents at --rate alongside and reports create-to-delivery latency and \
        deliveries missing. The identity (--cert) needs the permissions of the method: the development `secops` \
        identity may do everything.
        """
    )

    @Option(name: .long, help: "The server, HOST:PORT.")
    var server = "127.0.0.1:9090"

    @Option(name: .long, help: "CA certificate (PEM) that verifies the server.")
    var ca = "certs/ca.crt"

    @Option(name: .long, help: "Client certificate chain (PEM): the identity the calls are made as.")
    var cert = "certs/secops-client.crt"

    @Option(name: .long, help: "The client certificate's private key (PEM).")
    var key = "certs/secops-client.key"

    @Option(name: .long, help: "Name to verify in the server certificate instead of the server's host.")
    var serverName: String?

    @Option(name: .long, help: "create, get, health or stream.")
    var method: BenchMethod = .create

    @Option(name: .long, help: "Calls in flight at once (closed loop) or workers starting calls (open loop).")
    var concurrency = 64

    @Option(name: .long, help: "Connections (channels) the calls are spread over.")
    var connections = 1

    @Option(name: .long, help: "Open loop: calls started per second (creates per second with --method stream).")
    var rate: Double?

    @Option(name: .long, help: "Seconds measured, after the warm-up.")
    var duration = 10.0

    @Option(name: .long, help: "Seconds of load before measuring.")
    var warmup = 2.0

    @Option(name: .long, help: "Weights of the severities of created events, e.g. critical=1,high=4,medium=20,low=75.")
    var severityMix = "critical=1,high=4,medium=20,low=75"

    @Option(name: .long, help: "Fraction of creates (0...1) that repeat an event id already sent.")
    var duplicates = 0.0

    @Option(name: .long, help: "The source of created events; the identity must be allowed to report it.")
    var source = EventFactory.defaultSource

    @Option(name: .long, help: "--method stream: StreamIncidents subscribers.")
    var subscribers = 1000

    @Option(name: .long, help: ArgumentHelp(
        "--method stream: subscribers opened per second (0: all at once).",
        discussion: "Each new stream first reads the change log, so thousands opened at once queue on the database."))
    var openRate = 0.0

    @Option(name: .long, help: "--method stream: seconds to wait for late deliveries once creates stop.")
    var drain = 10.0

    @Option(name: .long, help: "--method get: incidents created first and then read in turn.")
    var getPool = 100

    @Option(name: .long, help: "Deadline of each call, seconds.")
    var timeout = 30.0

    @Flag(name: .long, help: "Print the result as one JSON object instead of a table.")
    var json = false

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard connections >= 1 else { throw ValidationError("--connections must be at least 1") }
        guard duration > 0, warmup >= 0 else { throw ValidationError("--duration must be > 0, --warmup >= 0") }
        guard (0...1).contains(duplicates) else { throw ValidationError("--duplicates must be within 0...1") }
        guard timeout > 0, drain >= 0, openRate >= 0 else {
            throw ValidationError("--timeout must be > 0, --drain and --open-rate >= 0")
        }
        if let rate, rate < 0 || (rate == 0 && method != .stream) {
            throw ValidationError("--rate must be > 0 (0 is allowed with --method stream: idle subscribers)")
        }
        if method == .stream, subscribers < 1 { throw ValidationError("--subscribers must be at least 1") }
        if method == .get, getPool < 1 { throw ValidationError("--get-pool must be at least 1") }
        _ = try SeverityMix(parsing: severityMix)
    }

    func run() async throws {
        let target: BenchTarget
        do {
            let security = ChannelSecurity.mutualTLS(trustRootsPath: ca, certificateChainPath: cert,
                                                     privateKeyPath: key)
            target = try BenchTarget(server: server, security: security, serverName: serverName,
                                     connections: connections, timeout: .milliseconds(Int64(timeout * 1000)))
        } catch {
            BenchTarget.complain("\(error)")
            throw ExitCode(ExitStatus.config)
        }
        let events = EventFactory(mix: try SeverityMix(parsing: severityMix), duplicateRatio: duplicates,
                                  source: source)
        let progress = ProgressLine(enabled: !json && isatty(STDERR_FILENO) == 1)
        let report: BenchReport
        do {
            switch method {
            case .stream:
                report = try await StreamFanout(
                    target: target, events: events, subscribers: subscribers, openRate: openRate, rate: rate ?? 1000,
                    workers: concurrency, warmup: warmup, duration: duration, drain: drain, progress: progress
                ).run()
            case .create, .get, .health:
                let call = try await UnaryCallMaker.prepare(method: method, target: target, events: events,
                                                            getPool: getPool)
                let schedule: LoadSchedule = rate.map { .open(callsPerSecond: $0) } ?? .closed
                report = await LoadDriver(
                    target: target, call: call, schedule: schedule, workers: concurrency, warmup: warmup,
                    duration: duration, progress: progress
                ).run(method: method.rawValue)
            }
        } catch let error as BenchSetupError {
            progress.finish()
            BenchTarget.complain("\(error)")
            throw ExitCode(ExitStatus.unavailable)
        }
        progress.finish()
        print(json ? report.json() : report.table())
    }
}

/// What `incidentctl bench` calls.
enum BenchMethod: String, ExpressibleByArgument, CaseIterable, Sendable {
    case create, get, health, stream
}

/// Why a benchmark could not start: the server is not there or refused the set-up calls.
struct BenchSetupError: Error, CustomStringConvertible {
    var description: String
}
