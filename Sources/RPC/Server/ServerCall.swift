// One call being served: the handler's task, the batch that notices cancellation, the batch that sends
// responses and the final status, and (for streamed requests) the batch that receives one request at a time.
// Owns the core's call and its batches; frees them in deinit.
internal import CGRPC
import Logging
import Synchronization
internal import ThreadExecutors

final class ServerCall: Completion, @unchecked Sendable {
    // The core call and batches are touched only while their operation is not pending (the state machine starts
    // one send and one receive at a time), and freed once, in deinit, after every tag holding `self` completed.
    // The lock guards only the state machine: C calls and continuations run after it is released.
    private enum Operation {
        static let close = 1
        static let finish = 2
        static let write = 3
        static let receive = 4
    }

    typealias Writer = CheckedContinuation<Void, any Error>
    typealias Reader = CheckedContinuation<[UInt8]?, any Error>
    typealias StateMachine = ServerCallStateMachine<Task<Void, Never>, Writer, Reader, EncodedMessage, FinalStatus>

    /// What the final batch carries: `status == nil` means OK; `response` is the unary response.
    struct FinalStatus {
        var status: RPCError?
        var response: [UInt8]?
    }

    let context: ServerContext
    private let call: OpaquePointer
    private let runtime: ServerRuntime
    private let isStream: Bool
    private let closeBatch = cgrpc_batch_create()!
    private let sendBatch = cgrpc_batch_create()!
    /// Only calls whose requests are streamed read them with their own batch.
    private let receiveBatch: OpaquePointer?
    private let state = Mutex(StateMachine())
    /// When the handler was handed the call, for the observer's duration.
    private let startedAt = ContinuousClock.now

    init(call: OpaquePointer, context: ServerContext, isStream: Bool, streamsRequests: Bool, runtime: ServerRuntime) {
        self.call = call
        self.context = context
        self.isStream = isStream
        self.receiveBatch = streamsRequests ? cgrpc_batch_create()! : nil
        self.runtime = runtime
        super.init()
        runtime.work.enter()
    }

    deinit {
        cgrpc_batch_destroy(closeBatch)
        cgrpc_batch_destroy(sendBatch)
        if let receiveBatch { cgrpc_batch_destroy(receiveBatch) }
        grpc_call_unref(call)
        runtime.work.leave()
    }

    /// Starts watching for cancellation and runs the handler as a task; called on a completion-queue thread.
    /// `request` is the message the core read with the call; nil for handlers that stream their requests.
    func begin(handler: ServerMethodHandler, request: [UInt8]?) {
        cgrpc_batch_recv_close_on_server(closeBatch)
        let closeTag = retainedTag(operation: Operation.close)
        if cgrpc_batch_start(call, closeBatch, closeTag) != GRPC_CALL_OK {
            releaseTag(closeTag)
            runtime.logger.error(
                "cannot watch for cancellation; ending the call", metadata: ["method": "\(context.method)"])
            finish(status: RPCError(.internal, "internal error"))
            return
        }
        if handler.requestArrivesWithCall && request == nil {
            // The core delivers no payload when the client half-closed without a message.
            finish(status: RPCError(.internal, "the request message is missing"))
            return
        }
        let counted = !isStream && handler.requestArrivesWithCall
        var urgent = false
        if let admission = runtime.admission {
            switch admission(context, request, runtime.unaryHandlersInFlight.load(ordering: .relaxed)) {
            case .serve: break
            case .serveUrgently: urgent = true
            case .refuse(let refusal):
                finish(status: refusal)
                return
            }
        }
        if isStream { runtime.streamStarted(self) }
        if counted { runtime.unaryHandlersInFlight.add(1, ordering: .relaxed) }
        let operation: @Sendable () async -> Void = {
            await self.run(handler, request)
            if counted { self.runtime.unaryHandlersInFlight.subtract(1, ordering: .relaxed) }
        }
        let task: Task<Void, Never>
        if #available(macOS 15.0, *), urgent, let executor = runtime.urgentExecutor as? DedicatedThreadExecutor {
            task = Task(executorPreference: executor, operation: operation)
        } else {
            task = Task(operation: operation)
        }
        switch state.withLock({ $0.handlerStarted(task) }) {
        case .none: break
        case .cancel(let task): task.cancel()
        }
    }

    private func run(_ handler: ServerMethodHandler, _ request: [UInt8]?) async {
        guard let observer = runtime.callObserver else { return await runHandler(handler, request) }
        await observer.around(context) { await self.runHandler(handler, request) }
    }

    private func runHandler(_ handler: ServerMethodHandler, _ request: [UInt8]?) async {
        do {
            switch handler {
            case .unary(let body):
                let response = try await body(request ?? [], context)
                finish(status: nil, response: response)
            case .serverStreaming(let body):
                try await body(request ?? [], ServerCallWriter(call: self), context)
                finish(status: nil)
            case .clientStreaming(let body):
                let response = try await body(RawRequestStream { try await self.receive() }, context)
                finish(status: nil, response: response)
            case .bidirectionalStreaming(let body):
                try await body(RawRequestStream { try await self.receive() }, ServerCallWriter(call: self), context)
                finish(status: nil)
            }
        } catch {
            finish(status: statusForThrown(error))
        }
    }

    private func statusForThrown(_ error: any Error) -> RPCError {
        let reason = state.withLock { $0.endReason }
        if reason == .shutdown { return RPCError(.unavailable, "server is shutting down") }
        if let status = error as? RPCError { return status }
        if error is CancellationError || reason == .clientCancelled { return RPCError(.cancelled, "call cancelled") }
        // Thrown details may hold SQL, paths, secrets or PII: the client gets a generic message and the log only the
        // error's type.
        runtime.logger.error(
            "handler failed (answered INTERNAL)",
            metadata: ["method": "\(context.method)", "error_type": "\(String(reflecting: type(of: error)))"])
        return RPCError(.internal, "internal error")
    }

    /// Sends the final status (and the unary response); `status == nil` means OK.
    private func finish(status: RPCError?, response: [UInt8]? = nil) {
        let action = state.withLock { $0.finish(FinalStatus(status: status, response: response)) }
        if case .none = action { return }
        if isStream { runtime.streamEnded(self) }
        runtime.callObserver?.callEnded(context, code: status?.code ?? .ok, duration: startedAt.duration(to: .now))
        if case .send(let final, let includeInitialMetadata) = action {
            startFinal(final, includeInitialMetadata: includeInitialMetadata)
        }
    }

    private func startFinal(_ final: FinalStatus, includeInitialMetadata: Bool) {
        cgrpc_batch_reset(sendBatch)
        if includeInitialMetadata {
            context.initialMetadata.append(to: sendBatch, trailing: false)
            cgrpc_batch_send_initial_metadata(sendBatch, 0)
        }
        if let response = final.response {
            response.withUnsafeBytes { cgrpc_batch_send_message(sendBatch, $0.baseAddress, $0.count) }
        }
        context.trailingMetadata.append(to: sendBatch, trailing: true)
        final.status?.trailingMetadata.append(to: sendBatch, trailing: true)
        var message = final.status?.message ?? ""
        let code = final.status?.code.rawValue ?? 0
        message.withUTF8 { text in
            text.withMemoryRebound(to: CChar.self) {
                cgrpc_batch_send_status(sendBatch, Int32(code), $0.baseAddress, $0.count)
            }
        }
        let tag = retainedTag(operation: Operation.finish)
        if cgrpc_batch_start(call, sendBatch, tag) != GRPC_CALL_OK {
            releaseTag(tag)
            runtime.logger.warning("the core refused the final status", metadata: ["method": "\(context.method)"])
        }
    }

    /// Sends one stream message and waits until the core took it (flow control).
    func write(_ message: [UInt8]) async throws {
        try await write(contentsOf: [EncodedMessage(message)])
    }

    /// Sends a run of shared messages in order and waits until the core took the last one. Each next message
    /// is started by the completion-queue thread as the previous completes (no task switch per message), and
    /// all but the last carry the buffer hint, so the transport writes the run together.
    func write(contentsOf messages: [EncodedMessage]) async throws {
        guard !messages.isEmpty else { return }
        try await withCheckedThrowingContinuation { (writer: Writer) in
            switch state.withLock({ $0.write(messages, writer: writer) }) {
            case .refuse(let writer, let error):
                writer.resume(throwing: error)
            case .start(let message, let includeInitialMetadata, let bufferHint):
                startSend(message, includeInitialMetadata: includeInitialMetadata, bufferHint: bufferHint)
            }
        }
    }

    /// Starts one message's send batch; the state machine made sure the batch is idle.
    private func startSend(_ message: EncodedMessage, includeInitialMetadata: Bool, bufferHint: Bool) {
        cgrpc_batch_reset(sendBatch)
        if includeInitialMetadata {
            context.initialMetadata.append(to: sendBatch, trailing: false)
            cgrpc_batch_send_initial_metadata(sendBatch, 0)
        }
        message.addSend(to: sendBatch, bufferHint: bufferHint)
        let tag = retainedTag(operation: Operation.write)
        if cgrpc_batch_start(call, sendBatch, tag) != GRPC_CALL_OK {
            releaseTag(tag)
            perform(state.withLock { $0.writeStartFailed() })
        }
    }

    /// Reads the next request (one `RECV_MESSAGE` in flight at most); nil once the client half-closed.
    func receive() async throws -> [UInt8]? {
        guard let receiveBatch else {
            throw RPCError(.internal, "\(context.method) does not stream its requests")
        }
        return try await withCheckedThrowingContinuation { (reader: Reader) in
            switch state.withLock({ $0.read(reader: reader) }) {
            case .refuse(let reader, let error):
                reader.resume(throwing: error)
            case .endOfRequests(let reader):
                reader.resume(returning: nil)
            case .start:
                cgrpc_batch_reset(receiveBatch)
                cgrpc_batch_recv_message(receiveBatch)
                let tag = retainedTag(operation: Operation.receive)
                if cgrpc_batch_start(call, receiveBatch, tag) != GRPC_CALL_OK {
                    releaseTag(tag)
                    let reader = state.withLock { $0.readStartFailed() }
                    reader?.resume(throwing: RPCError(.internal, "the core refused to read a request"))
                }
            }
        }
    }

    /// Ends a stream because the server is shutting down: the client sees `UNAVAILABLE`.
    func endForShutdown() {
        guard case .cancel(let task) = state.withLock({ $0.endForShutdown() }) else { return }
        grpc_call_cancel_with_status(call, GRPC_STATUS_UNAVAILABLE, "server is shutting down", nil)
        context.markCancelled()
        task?.cancel()
    }

    override func complete(operation: Int, success: Bool) {
        switch operation {
        case Operation.close:
            let cancelled = !success || cgrpc_batch_cancelled(closeBatch) != 0
            guard cancelled, case .cancel(let task) = state.withLock({ $0.cancelledByClient() }) else { return }
            context.markCancelled()
            task?.cancel()
        case Operation.write:
            completeWrite(success: success)
        case Operation.receive:
            completeReceive(success: success)
        default:
            break
        }
    }
}

extension ServerCall {
    /// Starts the next message of a run right here on the completion-queue thread, or hands the outcome to the
    /// waiting writer (and starts a final status that waited for this write).
    private func completeWrite(success: Bool) {
        perform(state.withLock { $0.writeCompleted(success: success) })
    }

    private func perform(_ action: StateMachine.WriteCompletionAction) {
        switch action {
        case .none:
            break
        case .startNext(let message, let includeInitialMetadata, let bufferHint):
            startSend(message, includeInitialMetadata: includeInitialMetadata, bufferHint: bufferHint)
        case .resume(let writer, let error):
            if let error { writer.resume(throwing: error) } else { writer.resume() }
        case .resumeAndSendFinal(let writer, let error, let final, let includeInitialMetadata):
            if let error { writer.resume(throwing: error) } else { writer.resume() }
            startFinal(final, includeInitialMetadata: includeInitialMetadata)
        }
    }

    /// Hands the received request (or the end of the requests) to the waiting reader.
    private func completeReceive(success: Bool) {
        guard let receiveBatch else { return }
        // The batch is idle again: nothing else touches it until the next `receive()` resets it.
        let message = success ? cgrpc_batch_received_message(receiveBatch).map { [UInt8](byteBuffer: $0) } : nil
        // The core reports a cancelled call's read like a half-close (success, no message); only this tells them
        // apart, before the close batch says the call was cancelled.
        let failed = !success || (message == nil && grpc_call_failed_before_recv_message(call) != 0)
        switch state.withLock({ $0.readCompleted(message: message != nil, failed: failed) }) {
        case .none: break
        case .deliver(let reader): reader.resume(returning: message)
        case .fail(let reader, let error): reader.resume(throwing: error)
        }
    }
}

/// The writer a server-streaming handler receives.
struct ServerCallWriter: RawResponseWriter {
    let call: ServerCall

    func write(_ message: [UInt8]) async throws {
        try await call.write(message)
    }

    func write(contentsOf messages: [EncodedMessage]) async throws {
        try await call.write(contentsOf: messages)
    }
}

/// Answers a call for a method nobody registered with `UNIMPLEMENTED`; owns that call.
final class UnimplementedCall: Completion, @unchecked Sendable {
    // The call and batch are used once, then freed in deinit after the batch's tag completed.
    private let call: OpaquePointer
    private let batch = cgrpc_batch_create()!
    private let work: WorkTracker

    init(call: OpaquePointer, method: String, work: WorkTracker) {
        self.call = call
        self.work = work
        super.init()
        work.enter()
        cgrpc_batch_send_initial_metadata(batch, 0)
        var message = "method \(method) is not implemented by this server"
        message.withUTF8 { text in
            text.withMemoryRebound(to: CChar.self) {
                cgrpc_batch_send_status(batch, Int32(StatusCode.unimplemented.rawValue), $0.baseAddress, $0.count)
            }
        }
        cgrpc_batch_recv_close_on_server(batch)
        let tag = retainedTag(operation: 1)
        if cgrpc_batch_start(call, batch, tag) != GRPC_CALL_OK { releaseTag(tag) }
    }

    deinit {
        cgrpc_batch_destroy(batch)
        grpc_call_unref(call)
        work.leave()
    }
}
