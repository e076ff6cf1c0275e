// Everything a server needs to know before it binds: addresses, transport security, limits, timers, where it logs.
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A decision made on a completion-queue thread, before a call's handler task exists, whether and how to serve it.
/// Refusing here costs no task, so under overload work is shed before it queues behind other calls on the shared
/// executor. Called with the call's context (method, peer certificate, request metadata), the request message (for
/// methods whose request arrives with the call, else nil) and how many unary handlers are running or waiting to run;
/// it must be cheap and must not block.
public typealias CallAdmission = @Sendable (
    _ context: ServerContext, _ request: [UInt8]?, _ unaryHandlersInFlight: Int
) -> AdmissionDecision

/// What `CallAdmission` decided for one call.
public enum AdmissionDecision: Sendable, Hashable {
    /// Serve it on the shared executor, like every call.
    case serve
    /// Serve it on the server's urgent thread (`DedicatedThreadExecutor`), so it does not wait in the shared
    /// executor's queue behind a flood of other calls. For the rare calls that must overtake everything.
    case serveUrgently
    /// Answer at once with this status; the handler never runs.
    case refuse(RPCError)
}

/// How a server listens and whom it accepts.
public struct ServerConfiguration: Sendable {
    /// `host:port` addresses to bind (`127.0.0.1:0` picks a free port; see `Server.boundPorts`).
    public var listenAddresses: [String]
    /// TLS material and the client-certificate policy.
    public var security: ServerSecurity
    /// Completion-queue threads polling the core; one per core by default.
    public var completionQueueThreads: Int
    /// Outstanding `request_registered_call` slots per method and per completion queue.
    public var requestSlotsPerMethod: Int
    /// Largest request message accepted; larger ones end with `RESOURCE_EXHAUSTED`.
    public var maxReceiveMessageBytes: Int
    /// Largest response message the server sends.
    public var maxSendMessageBytes: Int
    /// Connection liveness and age limits.
    public var keepalive: Keepalive
    /// How long a new connection may take to finish its TLS handshake and send its HTTP/2 settings. A connection
    /// that connects and says nothing keeps its descriptor and handshake state until then; the core's default is
    /// 2 min, which lets a trickle of silent connections pile up.
    public var handshakeTimeout: Duration = .seconds(10)
    /// Decides whether to serve each call before its handler task exists; `nil` serves every call.
    public var admission: CallAdmission?
    /// Told about each call as it runs and ends (metrics, request-scoped logging); `nil` = nobody.
    public var callObserver: (any ServerCallObserver)?
    /// Where the server's own rare lines go (a handler that failed, certificate reloads, shutdown); never keys or
    /// payloads.
    public var logger: Logger

    public init(
        listenAddresses: [String],
        security: ServerSecurity,
        completionQueueThreads: Int = ServerConfiguration.processorCount,
        requestSlotsPerMethod: Int = 32,
        maxReceiveMessageBytes: Int = 4 * 1024 * 1024,
        maxSendMessageBytes: Int = 4 * 1024 * 1024,
        keepalive: Keepalive = Keepalive(),
        callObserver: (any ServerCallObserver)? = nil,
        logger: Logger = Logger(label: "rpc")
    ) {
        self.logger = logger
        self.listenAddresses = listenAddresses
        self.security = security
        self.completionQueueThreads = completionQueueThreads
        self.requestSlotsPerMethod = requestSlotsPerMethod
        self.maxReceiveMessageBytes = maxReceiveMessageBytes
        self.maxSendMessageBytes = maxSendMessageBytes
        self.keepalive = keepalive
        self.callObserver = callObserver
    }

    /// Online processors, at least one.
    public static var processorCount: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
}

/// Server transport security.
public enum ServerSecurity: Sendable {
    /// TLS with the server's PEM chain and key; clients must present a certificate issued by a CA in
    /// `clientCAPath`, verified at the handshake. Files are re-read when they change (rotation).
    case mutualTLS(certificateChainPath: String, privateKeyPath: String, clientCAPath: String)
    /// TLS without client certificates (no peer identity).
    case tls(certificateChainPath: String, privateKeyPath: String)
    /// Plaintext: only for loopback development. Other addresses are refused unless `force` is true.
    case insecure(force: Bool = false)
}

/// HTTP/2 keepalive and connection-age settings.
public struct Keepalive: Sendable {
    /// Interval between server pings on an idle connection.
    public var pingInterval: Duration
    /// How long a ping may go unanswered before the connection is closed.
    public var pingTimeout: Duration
    /// Shortest interval between client pings the server tolerates (faster pingers are sent GOAWAY).
    public var minimumClientPingInterval: Duration
    /// Allow clients to ping while they have no calls.
    public var permitPingsWithoutCalls: Bool
    /// Connections older than this get GOAWAY so clients rebalance; `nil` = unlimited.
    public var maxConnectionAge: Duration?
    /// Time given to calls on a connection past its age before it is closed.
    public var maxConnectionAgeGrace: Duration
    /// Idle connections are closed after this long; `nil` = never.
    public var maxConnectionIdle: Duration?

    public init(
        pingInterval: Duration = .seconds(60),
        pingTimeout: Duration = .seconds(20),
        minimumClientPingInterval: Duration = .seconds(10),
        permitPingsWithoutCalls: Bool = true,
        maxConnectionAge: Duration? = .seconds(30 * 60),
        maxConnectionAgeGrace: Duration = .seconds(60),
        maxConnectionIdle: Duration? = nil
    ) {
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.minimumClientPingInterval = minimumClientPingInterval
        self.permitPingsWithoutCalls = permitPingsWithoutCalls
        self.maxConnectionAge = maxConnectionAge
        self.maxConnectionAgeGrace = maxConnectionAgeGrace
        self.maxConnectionIdle = maxConnectionIdle
    }
}

/// Why a server could not start.
public enum ServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A certificate, key or CA file could not be read or is not usable PEM.
    case certificateUnusable(path: String, reason: String)
    /// The private key does not belong to the certificate chain's leaf.
    case keyDoesNotMatchCertificate(certificatePath: String, keyPath: String)
    /// The core could not bind the address (in use, bad syntax, no permission).
    case bindFailed(address: String)
    /// Plaintext was asked for on an address that is not loopback.
    case insecureOnNonLoopback(address: String)
    /// Two methods share a path.
    case duplicateMethod(path: String)
    /// `start()` was called twice, or after shutdown.
    case alreadyStarted
    /// No listen address was given.
    case noListenAddress

    public var description: String {
        switch self {
        case .certificateUnusable(let path, let reason): "cannot use \(path): \(reason)"
        case .keyDoesNotMatchCertificate(let cert, let key): "private key \(key) does not belong to certificate \(cert)"
        case .bindFailed(let address): "cannot listen on \(address) (in use, bad address or no permission)"
        case .insecureOnNonLoopback(let address):
            "refusing plaintext on \(address): insecure mode is for loopback only (force it explicitly)"
        case .duplicateMethod(let path): "method \(path) registered twice"
        case .alreadyStarted: "server already started or shut down"
        case .noListenAddress: "no listen address configured"
        }
    }
}

extension ServerConfiguration {
    /// True when an address can only be reached from this machine.
    static func isLoopback(_ address: String) -> Bool {
        if address.hasPrefix("unix:") || address.hasPrefix("unix-abstract:") { return true }
        var host = address
        if host.hasPrefix("ipv4:") { host.removeFirst(5) }
        if host.hasPrefix("ipv6:") { host.removeFirst(5) }
        if host.hasPrefix("[") {
            guard let end = host.firstIndex(of: "]") else { return false }
            host = String(host[host.index(after: host.startIndex)..<end])
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".")
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
