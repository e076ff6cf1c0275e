// The server's C resources and their lifecycle: the core server, its completion queues and pollers,
// the registered methods, the certificate reloader, and the streams to end at shutdown.
internal import CGRPC
import Logging
import Synchronization
internal import ThreadExecutors

final class ServerRuntime: @unchecked Sendable {
    // `server` is thread-safe in the core; it is destroyed once, after the shutdown notification.
    let server: OpaquePointer
    let queues: [CompletionQueue]
    let methods: [RegisteredMethod]
    let peerReader = PeerIdentityReader()
    let work = WorkTracker()
    let reloaders: [CertificateReloader]
    let boundPorts: [Int]
    /// Unary handler tasks started and not yet finished: what `CallAdmission` weighs.
    let unaryHandlersInFlight = Atomic<Int>(0)
    private let configuration: ServerConfiguration
    var admission: CallAdmission? { configuration.admission }
    /// Runs the handlers `admission` marks urgent; started with the server when it has an admission hook.
    let urgentExecutor: (any Sendable)?
    /// Told about every call; read once per call.
    var callObserver: (any ServerCallObserver)? { configuration.callObserver }
    var logger: Logger { configuration.logger }
    private let streams = Mutex<[ObjectIdentifier: ServerCall]>([:])
    private let lifecycle = Mutex<Lifecycle>(.created)
    private let terminationWaiters = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    private enum Lifecycle { case created, running, shuttingDown, terminated }

    init(configuration: ServerConfiguration, services: [any RegistrableService]) throws(ServerError) {
        GRPCRuntime.ensureStarted()
        guard !configuration.listenAddresses.isEmpty else { throw .noListenAddress }
        if case .insecure(let force) = configuration.security, !force {
            for address in configuration.listenAddresses where !ServerConfiguration.isLoopback(address) {
                throw .insecureOnNonLoopback(address: address)
            }
        }
        self.configuration = configuration
        if #available(macOS 15.0, *), configuration.admission != nil {
            urgentExecutor = DedicatedThreadExecutor(name: "rpc-urgent")
        } else {
            urgentExecutor = nil
        }
        // One reloader per listener: the core fetches an initial config for each listener, and a shared
        // reloader would answer "unchanged" to all but the first.
        var reloaders: [CertificateReloader] = []
        for _ in configuration.listenAddresses {
            switch configuration.security {
            case .mutualTLS(let chain, let key, let clientCA):
                reloaders.append(
                    try CertificateReloader(
                        certificateChainPath: chain, privateKeyPath: key, clientCAPath: clientCA,
                        logger: configuration.logger))
            case .tls(let chain, let key):
                reloaders.append(
                    try CertificateReloader(
                        certificateChainPath: chain, privateKeyPath: key, clientCAPath: nil, logger: configuration.logger))
            case .insecure:
                break
            }
        }
        self.reloaders = reloaders

        server = CoreChannelArguments(server: configuration).withCoreArguments { grpc_server_create($0, nil) }
        let queueCount = max(1, configuration.completionQueueThreads)
        queues = (0..<queueCount).map { CompletionQueue(name: "grpc-server-cq\($0)") }
        for queue in queues { grpc_server_register_completion_queue(server, queue.raw, nil) }

        var registered: [RegisteredMethod] = []
        var paths = Set<String>()
        var failure: ServerError?
        for service in services {
            for (descriptor, handler) in service.methodHandlers {
                guard paths.insert(descriptor.path).inserted else {
                    failure = .duplicateMethod(path: descriptor.path)
                    break
                }
                // Unary and server-streaming calls carry exactly one request: the core reads it with the call.
                // Streamed requests are read by the handler, one RECV_MESSAGE at a time.
                let payload = handler.requestArrivesWithCall
                    ? GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER : GRPC_SRM_PAYLOAD_NONE
                let handle = grpc_server_register_method(server, descriptor.path, nil, payload, 0)
                guard let handle else {
                    failure = .duplicateMethod(path: descriptor.path)
                    break
                }
                registered.append(RegisteredMethod(descriptor: descriptor, handler: handler, coreHandle: handle))
            }
        }
        methods = registered

        var ports: [Int] = []
        if failure == nil {
            for (index, address) in configuration.listenAddresses.enumerated() {
                let credentials = Self.makeCredentials(
                    configuration.security, reloader: reloaders.isEmpty ? nil : reloaders[index])
                let port = grpc_server_add_http2_port(server, address, credentials)
                grpc_server_credentials_release(credentials)
                guard port > 0 else {
                    failure = .bindFailed(address: address)
                    break
                }
                ports.append(Int(port))
            }
        }
        boundPorts = ports
        for queue in queues { queue.startPolling() }
        if let failure {
            destroyUnstarted()
            throw failure
        }
    }

    private static func makeCredentials(
        _ security: ServerSecurity, reloader: CertificateReloader?
    ) -> OpaquePointer {
        guard let reloader else { return grpc_insecure_server_credentials_create() }
        let requestType: grpc_ssl_client_certificate_request_type
        if case .mutualTLS = security {
            requestType = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
        } else {
            requestType = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
        }
        // The reloader outlives the core server (the runtime holds both and destroys the server first).
        let userData = Unmanaged.passUnretained(reloader).toOpaque()
        let options = grpc_ssl_server_credentials_create_options_using_config_fetcher(
            requestType,
            { userData, config in
                Unmanaged<CertificateReloader>.fromOpaque(userData!).takeUnretainedValue().fetch(config)
            },
            userData)
        return grpc_ssl_server_credentials_create_with_options(options)
    }

    private func destroyUnstarted() {
        lifecycle.withLock { $0 = .terminated }
        // The core insists on a shutdown call before destroying a server that has listeners.
        grpc_server_shutdown_and_notify(server, queues[0].raw, ShutdownNotification().retainedTag(operation: 0))
        grpc_server_cancel_all_calls(server)
        grpc_server_destroy(server)
        for queue in queues { queue.shutdown() }
        markTerminated()
    }

    func start() throws(ServerError) {
        let started = lifecycle.withLock { state -> Bool in
            guard state == .created else { return false }
            state = .running
            return true
        }
        guard started else { throw .alreadyStarted }
        grpc_server_start(server)
        let slots = max(1, configuration.requestSlotsPerMethod)
        for queue in queues {
            for method in methods {
                for _ in 0..<slots { RequestSlot(method: method, queue: queue, runtime: self).post() }
            }
            for _ in 0..<2 { RequestSlot(method: nil, queue: queue, runtime: self).post() }
        }
    }

    func streamStarted(_ call: ServerCall) {
        streams.withLock { _ = $0.updateValue(call, forKey: ObjectIdentifier(call)) }
        if lifecycle.withLock({ $0 == .shuttingDown }) { call.endForShutdown() }
    }

    func streamEnded(_ call: ServerCall) {
        streams.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(call)) }
    }

    /// Stops accepting, ends streams with `UNAVAILABLE`, gives unary calls `grace`, then cancels the rest.
    func shutdown(grace: Duration) async {
        let previous = lifecycle.withLock { state -> Lifecycle in
            defer { if state == .running || state == .created { state = .shuttingDown } }
            return state
        }
        switch previous {
        case .created:
            destroyUnstarted()
            return
        case .shuttingDown, .terminated:
            await waitUntilTerminated()
            return
        case .running:
            break
        }
        let notification = ShutdownNotification()
        grpc_server_shutdown_and_notify(server, queues[0].raw, notification.retainedTag(operation: 0))
        for call in streams.withLock({ Array($0.values) }) { call.endForShutdown() }
        let server = CoreServer(raw: self.server)
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await notification.wait()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: grace)
                return false
            }
            if await group.next() == false {
                logger.info("shutdown grace period over: cancelling the calls still running")
                grpc_server_cancel_all_calls(server.raw)
            }
            group.cancelAll()
        }
        grpc_server_destroy(self.server)
        // Handlers may still be finishing (a stream's final status after its cancellation): the queues
        // must outlive every call and request slot, or the core aborts on a shut-down queue.
        if await work.waitUntilIdle(timeout: max(grace, .seconds(5))) {
            for queue in queues { queue.shutdown() }
            for queue in queues { await queue.waitUntilDrained() }
        } else {
            // A handler ignores its cancellation. Its call must still find a live queue when it ends, so the
            // queues stay up (a small leak in a process that is stopping) rather than the process aborting.
            logger.error(
                "call(s) ignored cancellation; completion queues left running", metadata: ["calls": "\(work.live)"])
        }
        lifecycle.withLock { $0 = .terminated }
        markTerminated()
    }

    private func markTerminated() {
        let waiters = terminationWaiters.withLock { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func waitUntilTerminated() async {
        await withCheckedContinuation { continuation in
            let done = terminationWaiters.withLock { state in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }
}

/// The core server pointer, to cancel calls from a child task (the core's server is thread-safe).
private struct CoreServer: @unchecked Sendable {
    let raw: OpaquePointer
}

/// Completes when the core reports that the server has shut down.
final class ShutdownNotification: Completion, @unchecked Sendable {
    // All state sits behind the mutex.
    private let state = Mutex<(done: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    override func complete(operation: Int, success: Bool) {
        let waiter = state.withLock { state in
            state.done = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state in
                if !state.done { state.waiter = continuation }
                return state.done
            }
            if done { continuation.resume() }
        }
    }
}
