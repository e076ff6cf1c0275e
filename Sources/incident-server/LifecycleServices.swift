// incident-server's components as swift-service-lifecycle services: the ServiceGroup starts them in order and, on
// SIGTERM or SIGINT, shuts them down gracefully in reverse order, each after the one started after it has ended.
// The components keep their own start/stop shapes; these adapters are the only place that knows them.
import IncidentServer
import Logging
import RPC
import ServiceLifecycle
import UnixSignals

/// A component started and stopped by hand: started when the group runs it, stopped on graceful shutdown or
/// cancellation (another service failed).
struct ComponentService: Service, CustomStringConvertible {
    let description: String
    let start: @Sendable () async throws -> Void
    let stop: @Sendable () async -> Void

    init(_ name: String, start: @escaping @Sendable () async throws -> Void = {},
         stop: @escaping @Sendable () async -> Void) {
        description = name
        self.start = start
        self.stop = stop
    }

    func run() async throws {
        try await start()
        // Throws only when cancelled, which ends the component just the same.
        try? await gracefulShutdown()
        await stop()
    }
}

/// The RPC server: accepts calls when run, and on graceful shutdown stops accepting, lets calls in flight finish
/// within `grace` and ends streams with `UNAVAILABLE` (on cancellation too).
struct RPCServerService: Service, CustomStringConvertible {
    let server: Server
    let grace: Duration
    /// Runs once the server accepts calls (the readiness line operators and tests wait for).
    let onServing: @Sendable () -> Void
    var description: String { "rpc-server" }

    func run() async throws {
        try server.start()
        onServing()
        let server = server, grace = grace
        await withTaskCancellationOrGracefulShutdownHandler {
            await server.waitUntilTerminated()
        } onCancelOrGracefulShutdown: {
            Task { await server.shutdown(grace: grace) }
        }
    }
}

/// SIGHUP makes the next TLS handshakes re-read the certificate, key and client CA files (changed files are noticed
/// without it too). The signal is trapped before the group runs, so a SIGHUP right after readiness never meets the
/// default action (which would end the process).
struct CertificateReloadOnHangup: Service, CustomStringConvertible {
    let hangups: UnixSignalsSequence
    let server: Server
    let log: ServerLog
    var description: String { "sighup-certificate-reload" }

    func run() async throws {
        for await _ in hangups.cancelOnGracefulShutdown() {
            log.info("incident-server: SIGHUP, reloading certificates on the next handshakes")
            server.reloadCertificates()
        }
    }
}
