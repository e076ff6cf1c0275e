// The request side of streaming calls: the stream a client-streaming or bidirectional handler reads its
// requests from, and the writer a client sends its requests through.

/// The requests of a client-streaming or bidirectional call, as bytes, one at a time.
///
/// Each `next()` asks the core for one message and waits for it, so a client is held back by HTTP/2 flow
/// control while the handler is busy. The sequence ends when the client half-closes; it throws `RPCError`
/// (`CANCELLED`, `UNAVAILABLE` at shutdown, `DEADLINE_EXCEEDED` is seen as `CANCELLED`) when the call ends first.
/// One iterator at a time: a second concurrent `next()` is refused with `FAILED_PRECONDITION`.
public struct RawRequestStream: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    private let receive: @Sendable () async throws -> [UInt8]?

    /// A stream whose `next()` calls `receive` (the server passes its call; tests may pass anything).
    public init(receive: @escaping @Sendable () async throws -> [UInt8]?) {
        self.receive = receive
    }

    public func makeAsyncIterator() -> Iterator { Iterator(receive: receive) }

    /// Pulls the next request from the call.
    public struct Iterator: AsyncIteratorProtocol {
        let receive: @Sendable () async throws -> [UInt8]?

        public mutating func next() async throws -> [UInt8]? {
            try await receive()
        }
    }
}

/// A sink for a client's streamed requests, as bytes.
public protocol RawRequestWriter: Sendable {
    /// Sends one request; waits until the core accepted the previous one (flow control).
    func write(_ message: [UInt8]) async throws
}

/// Typed view over a client's request stream: serializes each message and sends it, awaiting flow control.
public struct RequestStreamWriter<Message: Sendable>: Sendable {
    private let raw: any RawRequestWriter
    private let serialize: @Sendable (Message) -> [UInt8]

    public init(raw: any RawRequestWriter, serialize: @escaping @Sendable (Message) -> [UInt8]) {
        self.raw = raw
        self.serialize = serialize
    }

    /// Sends one request; throws `RPCError` once the call has ended.
    public func send(_ message: Message) async throws {
        try await raw.write(serialize(message))
    }
}
