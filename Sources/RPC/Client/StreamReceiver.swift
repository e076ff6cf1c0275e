// A server stream read on the completion-queue thread: each message is handed to a closure there and the next
// read starts at once, with no task switch per message (for consumers that keep up with thousands a second).
internal import CGRPC
import Synchronization

extension Channel {
    /// Makes a server-streaming call and hands every response to `onMessage`, in order, on a completion-queue
    /// thread (keep it short and never block in it). Returns when the call ends with `OK`; throws `RPCError`
    /// otherwise. Cancelling the task cancels the call.
    public func receiveStream(
        path: String, request: [UInt8], options: CallOptions = CallOptions(),
        onMessage: @escaping @Sendable ([UInt8]) -> Void
    ) async throws {
        let receiver = StreamReceiver(
            call: try makeCoreCall(path: path, options: options), channel: self, onMessage: onMessage)
        try await receiver.run(request: request, options: options)
    }
}

/// One server stream whose responses go to a closure; owns the core call and its batch.
private final class StreamReceiver: Completion, @unchecked Sendable {
    // The batch is touched by `run` before the first read starts, then only by completions, one at a time (one
    // operation in flight); the waiter sits behind the mutex.
    private enum Operation {
        static let message = 1
        static let status = 2
    }

    private let call: OpaquePointer
    /// Held so the core channel outlives its call.
    private let channel: Channel
    private let batch = cgrpc_batch_create()!
    private let onMessage: @Sendable ([UInt8]) -> Void
    private let state = Mutex<(ended: Bool, waiter: CheckedContinuation<Void, any Error>?)>((false, nil))

    init(call: OpaquePointer, channel: Channel, onMessage: @escaping @Sendable ([UInt8]) -> Void) {
        self.call = call
        self.channel = channel
        self.onMessage = onMessage
    }

    deinit {
        if !state.withLock({ $0.ended }) { grpc_call_cancel(call, nil) }
        cgrpc_batch_destroy(batch)
        grpc_call_unref(call)
    }

    func run(request: [UInt8], options: CallOptions) async throws {
        Channel.addSingleRequest(request, options: options, to: batch)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                state.withLock { $0.waiter = continuation }
                if !start(Operation.message) { end(RPCError(.internal, "the core refused to start the stream")) }
            }
        } onCancel: {
            grpc_call_cancel(call, nil)
        }
    }

    private func start(_ operation: Int) -> Bool {
        let tag = retainedTag(operation: operation)
        guard cgrpc_batch_start(call, batch, tag) == GRPC_CALL_OK else {
            releaseTag(tag)
            return false
        }
        return true
    }

    private func end(_ failure: RPCError?) {
        let waiter = state.withLock { state in
            state.ended = true
            defer { state.waiter = nil }
            return state.waiter
        }
        if let failure { waiter?.resume(throwing: failure) } else { waiter?.resume() }
    }

    override func complete(operation: Int, success: Bool) {
        switch operation {
        case Operation.message:
            if success, let received = cgrpc_batch_received_message(batch) {
                onMessage([UInt8](byteBuffer: received))
                cgrpc_batch_reset(batch)
                cgrpc_batch_recv_message(batch)
                if !start(Operation.message) { end(RPCError(.internal, "the core refused to read the stream")) }
                return
            }
            // No message: the stream is over (or the call failed); the status says which.
            cgrpc_batch_reset(batch)
            cgrpc_batch_recv_status_on_client(batch)
            if !start(Operation.status) { end(RPCError(.internal, "the core refused to read the status")) }
        default:
            let code = StatusCode(rawValue: Int(cgrpc_batch_status(batch)))
            guard success, code != .ok else { return end(success ? nil : RPCError(.internal, "no status")) }
            end(RPCError(
                code, String(slice: cgrpc_batch_status_details(batch)),
                trailingMetadata: Metadata(array: cgrpc_batch_received_trailing_metadata(batch))))
        }
    }
}
