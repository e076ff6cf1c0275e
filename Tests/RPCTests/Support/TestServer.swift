// Starting a test server on a free loopback port, and channels to it.
import RPC

/// A running server for one test, with the PKI it uses.
struct TestServer {
    let server: Server
    let port: Int
    let pki: TestPKI
    let probe: Probe
    let gate: Gate

    static func start(
        pki: TestPKI = .shared,
        security: ServerSecurity? = nil,
        configure: (inout ServerConfiguration) -> Void = { _ in }
    ) throws -> TestServer {
        let probe = Probe()
        let gate = Gate()
        var configuration = ServerConfiguration(
            listenAddresses: ["127.0.0.1:0"],
            security: security ?? .mutualTLS(
                certificateChainPath: pki.path("server.pem"), privateKeyPath: pki.path("server.key"),
                clientCAPath: pki.path("ca.pem")))
        configure(&configuration)
        let server = try Server(configuration: configuration, services: [TestService(probe: probe, gate: gate)])
        try server.start()
        return TestServer(server: server, port: server.boundPorts[0], pki: pki, probe: probe, gate: gate)
    }

    /// A channel presenting `client` (a file stem in the PKI), trusting `trust`; nil client = no certificate.
    func channel(client: String? = "client", trust: String = "ca.pem", ownCompletionQueue: Bool = false) throws
        -> Channel
    {
        let security: ChannelSecurity
        if let client {
            security = .mutualTLS(
                trustRootsPath: pki.path(trust), certificateChainPath: pki.path(client + ".pem"),
                privateKeyPath: pki.path(client + ".key"))
        } else {
            security = .tls(trustRootsPath: pki.path(trust))
        }
        var configuration = ChannelConfiguration(target: "127.0.0.1:\(port)", security: security)
        configuration.ownCompletionQueue = ownCompletionQueue
        return try Channel(configuration: configuration)
    }

    func insecureChannel() throws -> Channel {
        try Channel(configuration: ChannelConfiguration(target: "127.0.0.1:\(port)", security: .insecure))
    }
}

extension CallOptions {
    /// A generous per-call timeout: long enough for a loaded 2-core machine, short enough not to hang CI.
    static var test: CallOptions { CallOptions(timeout: .seconds(30)) }
}

/// The status a call failed with, or nil if it succeeded.
func status(of body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(.unknown, "not an RPCError: \(error)")
    }
}
