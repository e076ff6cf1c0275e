// What a handler knows about its call: who is calling, what they sent alongside, and how long it may take.
// Skeleton of the contract; the RPC implementation owns the internals.
import Synchronization

/// The identity a client proved with its certificate during the mTLS handshake.
public struct PeerIdentity: Sendable, Hashable {
    /// The subject common name.
    public var commonName: String?
    /// DNS subject alternative names.
    public var dnsNames: [String]
    /// URI subject alternative names (SPIFFE ids among them).
    public var uris: [String]
    /// SHA-256 of the DER certificate, lower-case hex.
    public var fingerprintSHA256: String

    public init(commonName: String?, dnsNames: [String], uris: [String], fingerprintSHA256: String) {
        self.commonName = commonName
        self.dnsNames = dnsNames
        self.uris = uris
        self.fingerprintSHA256 = fingerprintSHA256
    }
}

/// A sink for a server stream's responses, as bytes.
public protocol RawResponseWriter: Sendable {
    /// Sends one message; waits until the core accepted the previous one (flow control).
    func write(_ message: [UInt8]) async throws
    /// Sends `messages` in order; returns once the core accepted the last one. The core's writer sends the run
    /// without a task switch per message and lets the transport put them in one write.
    func write(contentsOf messages: [EncodedMessage]) async throws
}

extension RawResponseWriter {
    /// One `write` per message, for writers that are not the core's.
    public func write(contentsOf messages: [EncodedMessage]) async throws {
        for message in messages { try await write(message.bytes) }
    }
}

/// The per-call state a handler sees.
public final class ServerContext: Sendable {
    /// The method being called.
    public let method: MethodDescriptor
    /// The client's certificate identity; `nil` on an insecure (loopback development) listener.
    public let peer: PeerIdentity?
    /// The client's address as the core reports it (`ipv4:127.0.0.1:50312`).
    public let peerAddress: String
    /// The metadata the client sent with the call.
    public let requestMetadata: Metadata
    /// When the call must be over; `nil` when the client set no deadline.
    public let deadline: ContinuousClock.Instant?

    private let state: Mutex<State>

    private struct State {
        var initialMetadata = Metadata()
        var trailingMetadata = Metadata()
        var cancelled = false
    }

    package init(
        method: MethodDescriptor,
        peer: PeerIdentity?,
        peerAddress: String,
        requestMetadata: Metadata,
        deadline: ContinuousClock.Instant?
    ) {
        self.method = method
        self.peer = peer
        self.peerAddress = peerAddress
        self.requestMetadata = requestMetadata
        self.deadline = deadline
        self.state = Mutex(State())
    }

    /// True once the client cancelled, the deadline passed or the server is shutting down.
    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Adds metadata sent before the first response message.
    public func addInitialMetadata(_ value: String, forKey key: String) {
        state.withLock { $0.initialMetadata.addString(value, forKey: key) }
    }

    /// Adds metadata sent with the final status.
    public func addTrailingMetadata(_ value: String, forKey key: String) {
        state.withLock { $0.trailingMetadata.addString(value, forKey: key) }
    }

    /// Adds binary metadata sent before the first response message; the key must end in `-bin`.
    public func addInitialMetadata(_ value: [UInt8], forKey key: String) {
        state.withLock { $0.initialMetadata.addBinary(value, forKey: key) }
    }

    /// Adds binary metadata sent with the final status; the key must end in `-bin`.
    public func addTrailingMetadata(_ value: [UInt8], forKey key: String) {
        state.withLock { $0.trailingMetadata.addBinary(value, forKey: key) }
    }

    package var initialMetadata: Metadata { state.withLock { $0.initialMetadata } }
    package var trailingMetadata: Metadata { state.withLock { $0.trailingMetadata } }
    package func markCancelled() { state.withLock { $0.cancelled = true } }
}
