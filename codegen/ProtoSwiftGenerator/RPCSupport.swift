// Swift emitted once per module that has services: the glue between generated messages and the RPC layer.

enum RPCSupport {
    static let source = """
    /// Decodes a request; malformed bytes end the call with `INVALID_ARGUMENT` naming the message and the problem.
    func decodeRequest<M: ProtoMessage>(_ type: M.Type, from bytes: [UInt8]) throws(RPCError) -> M {
        do {
            return try M(serializedBytes: bytes)
        } catch {
            throw RPCError(.invalidArgument, "\\(M.protoMessageName): \\(error)")
        }
    }

    /// Decodes a response; a server that sends malformed bytes is an `INTERNAL` failure of the call.
    func decodeResponse<M: ProtoMessage>(_ type: M.Type, from bytes: [UInt8]) throws(RPCError) -> M {
        do {
            return try M(serializedBytes: bytes)
        } catch {
            throw RPCError(.internal, "malformed \\(M.protoMessageName) from the server: \\(error)")
        }
    }

    /// The one response of a client-streaming call: none or several is an `INTERNAL` failure of the call.
    func singleResponse<M: ProtoMessage>(
        _ type: M.Type, from raw: AsyncThrowingStream<[UInt8], any Error>
    ) async throws -> M {
        var response: M?
        for try await bytes in raw {
            guard response == nil else {
                throw RPCError(.internal, "the server sent more than one \\(M.protoMessageName)")
            }
            response = try decodeResponse(M.self, from: bytes)
        }
        guard let response else {
            throw RPCError(.internal, "the server ended the call without a \\(M.protoMessageName)")
        }
        return response
    }

    /// The typed requests a client-streaming or bidirectional handler reads, decoded one at a time as they arrive;
    /// a malformed one ends the call with `INVALID_ARGUMENT`.
    public struct RequestStream<Message: ProtoMessage>: AsyncSequence, Sendable {
        public typealias Element = Message

        private let raw: RawRequestStream

        public init(_ raw: RawRequestStream) { self.raw = raw }

        public func makeAsyncIterator() -> Iterator { Iterator(raw: raw.makeAsyncIterator()) }

        /// Decodes each request as it arrives.
        public struct Iterator: AsyncIteratorProtocol {
            var raw: RawRequestStream.Iterator

            public mutating func next() async throws -> Message? {
                guard let bytes = try await raw.next() else { return nil }
                return try decodeRequest(Message.self, from: bytes)
            }
        }
    }

    /// The typed responses of a server-streaming call; ends when the call ends with `OK`, throws `RPCError` otherwise.
    /// Ending the iteration early cancels the call.
    public struct ResponseStream<Message: ProtoMessage>: AsyncSequence, Sendable {
        public typealias Element = Message

        private let raw: AsyncThrowingStream<[UInt8], any Error>

        public init(_ raw: AsyncThrowingStream<[UInt8], any Error>) { self.raw = raw }

        public func makeAsyncIterator() -> Iterator { Iterator(raw: raw.makeAsyncIterator()) }

        /// Decodes each message as it arrives.
        public struct Iterator: AsyncIteratorProtocol {
            var raw: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator

            public mutating func next() async throws -> Message? {
                guard let bytes = try await raw.next() else { return nil }
                return try decodeResponse(Message.self, from: bytes)
            }
        }
    }

    """
}
