// The contract between the RPC layer and typed services (the generated IncidentAPI code).
// RPC moves bytes; a service turns bytes into messages with the closures it registers here.

/// One method a server can serve: its service and method names and its wire path.
public struct MethodDescriptor: Sendable, Hashable, CustomStringConvertible {
    /// The fully qualified service name (`incident_manager.IncidentService`).
    public let service: String
    /// The method name as declared in the proto (`CreateIncident`).
    public let method: String

    public init(service: String, method: String) {
        self.service = service
        self.method = method
    }

    /// The HTTP/2 path gRPC uses: `/service/method`.
    public var path: String { "/\(service)/\(method)" }
    public var description: String { path }
}

/// How a server runs one method, by streaming kind, with requests and responses as bytes.
public enum ServerMethodHandler: Sendable {
    /// One request in, one response out.
    case unary(@Sendable (_ request: [UInt8], _ context: ServerContext) async throws -> [UInt8])
    /// One request in, any number of responses out through the writer, then the status.
    case serverStreaming(
        @Sendable (_ request: [UInt8], _ responses: RawResponseWriter, _ context: ServerContext) async throws -> Void
    )
    /// Any number of requests in, read one at a time from the stream, then one response out.
    case clientStreaming(
        @Sendable (_ requests: RawRequestStream, _ context: ServerContext) async throws -> [UInt8]
    )
    /// Requests and responses both streamed: requests read one at a time, responses sent through the writer,
    /// in any interleaving the handler chooses, then the status.
    case bidirectionalStreaming(
        @Sendable (_ requests: RawRequestStream, _ responses: RawResponseWriter, _ context: ServerContext)
            async throws -> Void
    )

    /// True when the core delivers the one request with the call (unary and server streaming).
    var requestArrivesWithCall: Bool {
        switch self {
        case .unary, .serverStreaming: true
        case .clientStreaming, .bidirectionalStreaming: false
        }
    }
}

/// A group of methods registered together, as a generated service provider offers them.
public protocol RegistrableService: Sendable {
    /// Every method of the service and its handler.
    var methodHandlers: [(MethodDescriptor, ServerMethodHandler)] { get }
}

/// Typed view over a raw server stream: serializes each message and sends it, awaiting flow control.
public struct ServerStreamWriter<Message: Sendable>: Sendable {
    private let raw: RawResponseWriter
    private let serialize: @Sendable (Message) -> [UInt8]

    public init(raw: RawResponseWriter, serialize: @escaping @Sendable (Message) -> [UInt8]) {
        self.raw = raw
        self.serialize = serialize
    }

    /// Sends one message; throws `RPCError` (`CANCELLED`, `UNAVAILABLE`) once the call has ended.
    public func send(_ message: Message) async throws {
        try await raw.write(serialize(message))
    }

    /// Sends messages encoded beforehand (each must be the wire form of a `Message`), in order, as one run: the
    /// bytes are shared, not copied, and the run costs no task switch per message. Returns once the core accepted
    /// the last one.
    public func send(encoded messages: [EncodedMessage]) async throws {
        try await raw.write(contentsOf: messages)
    }
}

/// Options for one client call.
public struct CallOptions: Sendable {
    /// Time allowed for the whole call; `nil` waits without a deadline.
    public var timeout: Duration?
    /// Request metadata sent with the call.
    public var metadata: Metadata
    /// Wait for the channel to become ready instead of failing fast while it connects.
    public var waitForReady: Bool

    public init(timeout: Duration? = nil, metadata: Metadata = Metadata(), waitForReady: Bool = false) {
        self.timeout = timeout
        self.metadata = metadata
        self.waitForReady = waitForReady
    }
}

/// What a client stub needs from a connection: byte-level unary, server-streaming and bidirectional calls.
/// `Channel` is the real one.
public protocol ClientTransport: Sendable {
    /// Makes a unary call; throws `RPCError` when the status is not `OK`.
    func unary(path: String, request: [UInt8], options: CallOptions) async throws -> [UInt8]
    /// Starts a server-streaming call. The stream ends when the call ends with `OK` and throws
    /// `RPCError` otherwise; ending the iteration early (or cancelling the task) cancels the call.
    func serverStreaming(path: String, request: [UInt8], options: CallOptions) -> AsyncThrowingStream<[UInt8], any Error>
    /// Runs a call whose requests are streamed (client streaming and bidirectional streaming alike).
    ///
    /// `requests` writes the requests; when it returns the call is half-closed. `responses` reads the responses
    /// at the same time; the stream ends when the call ends with `OK` and throws `RPCError` otherwise. Returns what
    /// `responses` returns; when it returns before the stream ended, the call is cancelled. An error thrown by
    /// `requests` cancels the call and is what this throws.
    func bidirectionalStreaming<Result: Sendable>(
        path: String, options: CallOptions,
        requests: @escaping @Sendable (_ writer: any RawRequestWriter) async throws -> Void,
        responses: @escaping @Sendable (_ stream: AsyncThrowingStream<[UInt8], any Error>) async throws -> Result
    ) async throws -> Result
}
