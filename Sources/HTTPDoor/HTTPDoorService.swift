// The HTTP door as a swift-service-lifecycle service: one Hummingbird application per `--http-listen` address,
// TLS with the server's certificate, client certificates requested but optional (API keys and JWTs are the other
// ways in), routes translated into the one intake the gRPC handler also uses.
import Foundation
import Hummingbird
import HummingbirdTLS
import HummingbirdWebSocket
import IncidentCore
import IncidentServer
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// What the HTTP door needs besides the intake: where to listen, the TLS files and its limits.
public struct HTTPDoorSettings: Sendable {
    /// `HOST:PORT` addresses; port 0 picks a free one (the readiness line names it).
    public var listen: [String]
    /// The server certificate and key, and the CA client certificates must chain to (the gRPC door's files).
    public var tls: TLSFiles
    /// Largest request body read; larger ones are answered 413.
    public var maxBodyBytes: Int
    /// The Edge Agent WebSocket's idle limit, in-flight bound and batch size cap.
    public var webSocket = EdgeAgentSocketSettings()

    /// The default body limit: 1 MiB, the gRPC door's message limit.
    public static let defaultMaxBodyBytes = 1 << 20

    public init(listen: [String], tls: TLSFiles, maxBodyBytes: Int = HTTPDoorSettings.defaultMaxBodyBytes) {
        self.listen = listen
        self.tls = tls
        self.maxBodyBytes = maxBodyBytes
    }
}

/// Serves the HTTP routes until graceful shutdown; `onServing` gets each bound `HOST:PORT` once it accepts.
public struct HTTPDoorService: Service, CustomStringConvertible {
    private let settings: HTTPDoorSettings
    private let intake: IncidentIntake
    private let health: HealthService
    private let log: ServerLog
    private let onServing: @Sendable (String) -> Void
    public var description: String { "http-door" }

    /// Checks the settings and the TLS files now, so a bad address or certificate stops the start-up.
    public init(settings: HTTPDoorSettings, handler: IncidentServiceHandler, health: HealthService, log: ServerLog,
                onServing: @escaping @Sendable (String) -> Void) throws {
        for address in settings.listen { _ = try Self.split(address) }
        _ = try Self.tlsConfiguration(settings.tls)
        self.settings = settings
        self.intake = handler.intake
        self.health = health
        self.log = log
        self.onServing = onServing
    }

    public func run() async throws {
        let tls = try Self.tlsConfiguration(settings.tls)
        let router = Router(context: DoorContext.self)
        router.add(middleware: JSONErrorMiddleware(log: log))
        IncidentRoutes(intake: intake, health: health, maxBodyBytes: settings.maxBodyBytes).add(to: router)
        let publicURL = intake.config.publicURL.hasSuffix("/") ? String(intake.config.publicURL.dropLast())
            : intake.config.publicURL
        let keys = SourceKeys(config: intake.config)
        SourceEventRoute(intake: intake, keys: keys, maxBodyBytes: settings.maxBodyBytes, publicURL: publicURL)
            .add(to: router)
        AlertmanagerRoute(intake: intake, keys: keys, maxBodyBytes: settings.maxBodyBytes).add(to: router)
        WebhookRoute(intake: intake, keys: keys, maxBodyBytes: settings.maxBodyBytes, publicURL: publicURL)
            .add(to: router)
        CSVUploadRoute(intake: intake, maxBodyBytes: settings.maxBodyBytes, log: log).add(to: router)
        // Slack's Acknowledge button (issue 16): signed by Slack, acts as the mapped identity.
        SlackActionsRoute(intake: intake, maxBodyBytes: settings.maxBodyBytes, log: log,
                          environment: ProcessInfo.processInfo.environment).add(to: router)
        // Upgrades have a router of their own (only /ws/events), so no other path is tried as a WebSocket.
        let socket = EdgeAgentSocket(intake: intake, settings: settings.webSocket, log: log)
        socket.addExplanation(to: router)
        // GraphQL reports for LLM-Governance-Core (issue 16): Sources/HTTPDoor/GraphQL/.
        try GraphQLRoute(intake: intake, maxBodyBytes: settings.maxBodyBytes, log: log).add(to: router)
        let responder = HeadAsGet(base: router.buildResponder())
        let webSocketRouter = Router(context: DoorContext.self)
        socket.add(to: webSocketRouter)
        let upgrade = HTTP1WebSocketUpgradeChannel.Configuration(
            ws: WebSocketServerConfiguration(maxFrameSize: settings.webSocket.maxMessageBytes))
        try await withThrowingDiscardingTaskGroup { group in
            for address in settings.listen {
                let (host, port) = try Self.split(address)
                let onServing = onServing
                let app = Application(
                    responder: responder,
                    server: try .tls(.http1WebSocketUpgrade(webSocketRouter: webSocketRouter, configuration: upgrade),
                                     tlsConfiguration: tls),
                    configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
                    onServerRunning: { channel in onServing("\(host):\(channel.localAddress?.port ?? port)") },
                    logger: Logger(label: "http-door"))
                group.addTask { try await app.run() }
            }
        }
    }

    /// TLS 1.2+ with the server's chain and key; a client certificate is asked for and, when sent, must chain to
    /// the client CA (an untrusted one fails the handshake, as on gRPC).
    static func tlsConfiguration(_ files: TLSFiles) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .optionalVerification
        configuration.trustRoots = .file(files.clientCA)
        return configuration
    }

    static func split(_ address: String) throws -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (0...65535).contains(port) else {
            throw HTTPDoorSettingsError(message: "--http-listen \(address): expected HOST:PORT")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

/// A listen address the door cannot use.
public struct HTTPDoorSettingsError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
