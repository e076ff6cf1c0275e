// How a client channel reaches a server: target, transport security and limits.

/// Client transport security.
public enum ChannelSecurity: Sendable {
    /// TLS verifying the server against `trustRootsPath`, presenting the client's certificate chain and key.
    case mutualTLS(trustRootsPath: String, certificateChainPath: String, privateKeyPath: String)
    /// TLS verifying the server against `trustRootsPath` (system roots when nil), no client certificate.
    case tls(trustRootsPath: String?)
    /// Plaintext, for loopback development only.
    case insecure
}

/// Options of one client channel.
public struct ChannelConfiguration: Sendable {
    /// The server, as the core names targets (`127.0.0.1:9090`, `dns:///incidents.example.com:9090`).
    public var target: String
    /// TLS material, or plaintext.
    public var security: ChannelSecurity
    /// Name to verify in the server certificate instead of the target's host (tests, IP targets).
    public var serverNameOverride: String?
    /// Largest response message accepted.
    public var maxReceiveMessageBytes: Int
    /// Interval between client keepalive pings; `nil` disables them.
    public var keepaliveInterval: Duration?
    /// How long a keepalive ping may go unanswered.
    public var keepaliveTimeout: Duration
    /// Give the channel's calls a completion queue and polling thread of their own instead of the process's
    /// shared ones: its answers then never wait behind other channels' events (a load generator whose own
    /// streams keep the shared queues busy).
    public var ownCompletionQueue = false

    public init(
        target: String,
        security: ChannelSecurity,
        serverNameOverride: String? = nil,
        maxReceiveMessageBytes: Int = 4 * 1024 * 1024,
        keepaliveInterval: Duration? = .seconds(60),
        keepaliveTimeout: Duration = .seconds(20)
    ) {
        self.target = target
        self.security = security
        self.serverNameOverride = serverNameOverride
        self.maxReceiveMessageBytes = maxReceiveMessageBytes
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveTimeout = keepaliveTimeout
    }
}

/// Why a channel could not be created.
public enum ChannelError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A trust-root, certificate or key file could not be read or is not usable PEM.
    case certificateUnusable(path: String, reason: String)
    /// The core refused the target or the credentials.
    case cannotCreate(target: String)

    public var description: String {
        switch self {
        case .certificateUnusable(let path, let reason): "cannot use \(path): \(reason)"
        case .cannotCreate(let target): "cannot create a channel to \(target)"
        }
    }
}

/// A unary response with the metadata that came with it.
public struct UnaryResponse: Sendable {
    /// The response message.
    public var message: [UInt8]
    /// Metadata the server sent before the response.
    public var initialMetadata: Metadata
    /// Metadata the server sent with the status.
    public var trailingMetadata: Metadata
}
