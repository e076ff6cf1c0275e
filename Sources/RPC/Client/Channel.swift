// The client channel: a connection (pool) to one target with TLS/mTLS, and unary and
// server-streaming calls with deadlines, metadata and cancellation (streamed requests: BidirectionalCall.swift).
internal import CGRPC
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A client connection to one server target; thread-safe, meant to be shared.
public final class Channel: ClientTransport, @unchecked Sendable {
    // The core channel is thread-safe; it and the registered-method strings are freed once, in deinit,
    // after every call (each holds the channel) has ended.
    private let raw: OpaquePointer
    private let target: String
    private let registeredMethods = Mutex<[String: RegisteredPath]>([:])
    /// The channel's own completion queue, when configured; shut down in deinit, once every call has ended.
    private let ownQueue: CompletionQueue?

    private struct RegisteredPath: @unchecked Sendable {
        // The core keeps `path` without copying it: it lives until the channel is destroyed.
        let handle: UnsafeMutableRawPointer
        let path: UnsafeMutablePointer<CChar>
    }

    /// Opens a channel; connecting happens lazily on the first call.
    public init(configuration: ChannelConfiguration) throws(ChannelError) {
        GRPCRuntime.ensureStarted()
        target = configuration.target
        let credentials = try Self.makeCredentials(configuration.security)
        defer { grpc_channel_credentials_release(credentials) }
        var arguments = CoreChannelArguments()
        arguments.integers.append(
            (GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, Int32(clamping: configuration.maxReceiveMessageBytes)))
        // One connection per Channel object: callers that open several channels want several connections.
        arguments.integers.append((GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1))
        if let interval = configuration.keepaliveInterval {
            arguments.integers.append((GRPC_ARG_KEEPALIVE_TIME_MS, CoreTime.milliseconds(interval)))
            arguments.integers.append((GRPC_ARG_KEEPALIVE_TIMEOUT_MS, CoreTime.milliseconds(configuration.keepaliveTimeout)))
        }
        if let name = configuration.serverNameOverride {
            arguments.strings.append((GRPC_SSL_TARGET_NAME_OVERRIDE_ARG, name))
        }
        let channel = arguments.withCoreArguments { grpc_channel_create(configuration.target, credentials, $0) }
        guard let channel else { throw .cannotCreate(target: configuration.target) }
        raw = channel
        if configuration.ownCompletionQueue {
            let queue = CompletionQueue(name: "grpc-channel-cq")
            queue.startPolling()
            ownQueue = queue
        } else {
            ownQueue = nil
        }
    }

    /// Opens a channel to `target`.
    public convenience init(target: String, security: ChannelSecurity) throws(ChannelError) {
        try self.init(configuration: ChannelConfiguration(target: target, security: security))
    }

    deinit {
        grpc_channel_destroy(raw)
        // Every call held the channel, so none is left to complete on the queue.
        ownQueue?.shutdown()
        for entry in registeredMethods.withLock({ Array($0.values) }) { free(entry.path) }
    }

    private static func makeCredentials(_ security: ChannelSecurity) throws(ChannelError) -> OpaquePointer {
        func read(_ path: String) throws(ChannelError) -> String {
            do { return try PEMFile.read(path) } catch {
                if case .certificateUnusable(let path, let reason) = error {
                    throw .certificateUnusable(path: path, reason: reason)
                }
                throw .certificateUnusable(path: path, reason: "\(error)")
            }
        }
        switch security {
        case .insecure:
            return grpc_insecure_credentials_create()
        case .tls(let rootsPath):
            let roots = try rootsPath.map { path throws(ChannelError) in try read(path) }
            let credentials = roots.map { $0.withCString { grpc_ssl_credentials_create($0, nil, nil, nil) } }
                ?? grpc_ssl_credentials_create(nil, nil, nil, nil)
            guard let credentials else { throw .cannotCreate(target: "tls") }
            return credentials
        case .mutualTLS(let rootsPath, let chainPath, let keyPath):
            let roots = try read(rootsPath)
            let chain = try read(chainPath)
            let key = try read(keyPath)
            let credentials = roots.withCString { rootsPointer in
                chain.withCString { chainPointer in
                    key.withCString { keyPointer in
                        var pair = grpc_ssl_pem_key_cert_pair(private_key: keyPointer, cert_chain: chainPointer)
                        return grpc_ssl_credentials_create(rootsPointer, &pair, nil, nil)
                    }
                }
            }
            guard let credentials else { throw .cannotCreate(target: "mutual TLS") }
            return credentials
        }
    }

    /// Makes a core call on a registered path (registration avoids re-parsing the path on every call).
    private func makeCall(path: String, options: CallOptions) throws(RPCError) -> ClientCall {
        ClientCall(call: try makeCoreCall(path: path, options: options), channel: self)
    }

    /// A call whose requests are streamed; the caller starts it.
    func startBidirectional(path: String, options: CallOptions) throws(RPCError) -> BidirectionalCall {
        BidirectionalCall(call: try makeCoreCall(path: path, options: options), channel: self, path: path)
    }

    func makeCoreCall(path: String, options: CallOptions) throws(RPCError) -> OpaquePointer {
        let handle = registeredMethods.withLock { methods -> UnsafeMutableRawPointer? in
            if let known = methods[path] { return known.handle }
            let copy = strdup(path)!
            guard let handle = grpc_channel_register_call(raw, copy, nil, nil) else {
                free(copy)
                return nil
            }
            methods[path] = RegisteredPath(handle: handle, path: copy)
            return handle
        }
        guard let handle else { throw RPCError(.internal, "cannot register \(path) with the channel") }
        let queue = ownQueue ?? ClientQueues.shared.pick()
        let deadline = CoreTime.deadline(after: options.timeout)
        guard let call = grpc_channel_create_registered_call(
            raw, nil, cgrpc_propagate_defaults(), queue.raw, handle, deadline, nil)
        else { throw RPCError(.internal, "the core refused to create a call to \(path)") }
        return call
    }

    /// Adds to `batch` what every call with one request message starts with: the metadata, the message, the
    /// half-close, and receiving the initial metadata and the first response message.
    static func addSingleRequest(_ request: [UInt8], options: CallOptions, to batch: OpaquePointer) {
        options.metadata.append(to: batch, trailing: false)
        cgrpc_batch_send_initial_metadata(batch, initialMetadataFlags(options))
        request.withUnsafeBytes { cgrpc_batch_send_message(batch, $0.baseAddress, $0.count) }
        cgrpc_batch_send_close_from_client(batch)
        cgrpc_batch_recv_initial_metadata(batch)
        cgrpc_batch_recv_message(batch)
    }

    static func initialMetadataFlags(_ options: CallOptions) -> UInt32 {
        options.waitForReady
            ? UInt32(GRPC_INITIAL_METADATA_WAIT_FOR_READY | GRPC_INITIAL_METADATA_WAIT_FOR_READY_EXPLICITLY_SET) : 0
    }

    /// Makes a unary call and returns the response with its metadata; throws `RPCError` unless `OK`.
    public func unaryCall(path: String, request: [UInt8], options: CallOptions = CallOptions()) async throws(RPCError)
        -> UnaryResponse
    {
        let call = try makeCall(path: path, options: options)
        let batch = call.batch
        Self.addSingleRequest(request, options: options, to: batch)
        cgrpc_batch_recv_status_on_client(batch)
        let ran = await call.run()
        call.finished = true
        guard ran else { throw RPCError(.internal, "the core could not run the call to \(path)") }
        if let status = call.receivedStatus() { throw status }
        guard let message = call.receivedMessage() else {
            throw RPCError(.internal, "the server answered \(path) with OK but no response message")
        }
        return UnaryResponse(
            message: message,
            initialMetadata: Metadata(array: cgrpc_batch_received_initial_metadata(batch)),
            trailingMetadata: Metadata(array: cgrpc_batch_received_trailing_metadata(batch)))
    }

    public func unary(path: String, request: [UInt8], options: CallOptions) async throws -> [UInt8] {
        try await unaryCall(path: path, request: request, options: options).message
    }

    public func serverStreaming(
        path: String, request: [UInt8], options: CallOptions
    ) -> AsyncThrowingStream<[UInt8], any Error> {
        let stream = ServerStreamingCall(channel: self, path: path, request: request, options: options)
        return AsyncThrowingStream(unfolding: { try await stream.next() })
    }

    func startStream(path: String, request: [UInt8], options: CallOptions) throws(RPCError) -> ClientCall {
        let call = try makeCall(path: path, options: options)
        let batch = call.batch
        Self.addSingleRequest(request, options: options, to: batch)
        return call
    }
}

/// The client side of one server stream, pulled one message at a time (the core's flow control
/// then holds the server back when the consumer is slow). Dropping it cancels the call.
private final class ServerStreamingCall: @unchecked Sendable {
    // `next()` is only called by one consumer at a time (AsyncThrowingStream's unfolding contract).
    private let channel: Channel
    private let path: String
    private let request: [UInt8]
    private let options: CallOptions
    private var call: ClientCall?
    private var done = false

    init(channel: Channel, path: String, request: [UInt8], options: CallOptions) {
        self.channel = channel
        self.path = path
        self.request = request
        self.options = options
    }

    func next() async throws -> [UInt8]? {
        if done { return nil }
        let call: ClientCall
        if let existing = self.call {
            call = existing
            cgrpc_batch_reset(call.batch)
            cgrpc_batch_recv_message(call.batch)
        } else {
            do { call = try channel.startStream(path: path, request: request, options: options) } catch {
                done = true
                throw error
            }
            self.call = call
        }
        if await call.run(), let message = call.receivedMessage() { return message }
        // No message: the stream is over (or the call failed); the status says which.
        cgrpc_batch_reset(call.batch)
        cgrpc_batch_recv_status_on_client(call.batch)
        _ = await call.run()
        call.finished = true
        done = true
        if let status = call.receivedStatus() { throw status }
        return nil
    }
}
