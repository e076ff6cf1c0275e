// The public server: bind, serve registered methods, rotate certificates, shut down gracefully.

/// A gRPC server on the C core serving byte-level handlers (see `RegistrableService`).
///
/// Binding happens in `init` (so `boundPorts` is known before serving); `start()` begins accepting calls.
public final class Server: Sendable {
    private let runtime: ServerRuntime

    /// Creates the server, validates its certificate files and binds every listen address.
    public init(configuration: ServerConfiguration, services: [any RegistrableService]) throws(ServerError) {
        runtime = try ServerRuntime(configuration: configuration, services: services)
    }

    /// The ports bound, in the order of `listenAddresses` (useful with port 0).
    public var boundPorts: [Int] { runtime.boundPorts }

    /// Begins accepting calls.
    public func start() throws(ServerError) {
        try runtime.start()
    }

    /// Makes the next TLS handshakes re-read the certificate, key and client CA files (what SIGHUP does).
    /// Changed files are noticed without this too; existing connections keep their certificates.
    public func reloadCertificates() {
        for reloader in runtime.reloaders { reloader.requestReload() }
    }

    /// Graceful shutdown: stops accepting, lets unary calls finish within `grace`, ends streaming calls (of
    /// every kind) with `UNAVAILABLE`, then cancels whatever remains. Returns once every C resource is freed.
    public func shutdown(grace: Duration = .seconds(10)) async {
        await runtime.shutdown(grace: grace)
    }

    /// Returns once the server has shut down.
    public func waitUntilTerminated() async {
        await runtime.waitUntilTerminated()
    }
}
