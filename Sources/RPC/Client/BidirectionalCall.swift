// The client side of a call whose requests are streamed (client streaming and bidirectional): one batch
// that sends (initial metadata, each request, the half-close) and one that receives (each response, then
// the status), each with at most one operation in flight, so requests and responses flow independently.
internal import CGRPC
import Synchronization

final class BidirectionalCall: Completion, @unchecked Sendable {
    // Each batch is touched only by its own side (the request writer or the response reader) while no
    // operation of that side is pending; waiters and flags sit behind the mutex. The core call is thread-safe.
    private enum Operation {
        static let send = 1
        static let receive = 2
    }

    private let call: OpaquePointer
    private let channel: Channel
    private let path: String
    private let sendBatch = cgrpc_batch_create()!
    private let receiveBatch = cgrpc_batch_create()!
    private let state = Mutex(State())

    private struct State {
        var sendWaiter: CheckedContinuation<Bool, Never>?
        var receiveWaiter: CheckedContinuation<Bool, Never>?
        var sending = false
        var halfClosed = false
        var receivedInitialMetadata = false
        var responsesDone = false
        var finished = false
        var sendRefused = false
        var cancelled = false
    }

    init(call: OpaquePointer, channel: Channel, path: String) {
        self.call = call
        self.channel = channel
        self.path = path
    }

    deinit {
        if !state.withLock({ $0.finished }) { grpc_call_cancel(call, nil) }
        cgrpc_batch_destroy(sendBatch)
        cgrpc_batch_destroy(receiveBatch)
        grpc_call_unref(call)
    }

    /// Sends the request metadata; the server sees the call from here on, even before any request.
    func start(metadata: Metadata, flags: UInt32) async throws(RPCError) {
        try await send { batch in
            metadata.append(to: batch, trailing: false)
            cgrpc_batch_send_initial_metadata(batch, flags)
        }
    }

    /// Sends one request once the previous one was taken (flow control).
    func write(_ message: [UInt8]) async throws(RPCError) {
        try await send { batch in
            message.withUnsafeBytes { cgrpc_batch_send_message(batch, $0.baseAddress, $0.count) }
        }
    }

    /// Tells the server no more requests follow.
    func halfClose() async throws(RPCError) {
        let already = state.withLock { state in
            defer { state.halfClosed = true }
            return state.halfClosed
        }
        if already { return }
        try await send { cgrpc_batch_send_close_from_client($0) }
    }

    private func send(_ prepare: (OpaquePointer) -> Void) async throws(RPCError) {
        let refusal = state.withLock { state -> RPCError? in
            if state.finished || state.cancelled { return RPCError(.cancelled, "the call to \(path) has ended") }
            if state.sending { return RPCError(.failedPrecondition, "requests are sent one at a time") }
            state.sending = true
            return nil
        }
        if let refusal {
            state.withLock { $0.sendRefused = true }
            throw refusal
        }
        cgrpc_batch_reset(sendBatch)
        prepare(sendBatch)
        let sent = await run(sendBatch, operation: Operation.send)
        state.withLock { $0.sending = false }
        // A refused send means the call is over; the response side reads why.
        guard sent else {
            state.withLock { $0.sendRefused = true }
            throw RPCError(.cancelled, "the call to \(path) ended before the request was sent")
        }
    }

    /// The next response; nil once the call ended with `OK`, `RPCError` when it ended otherwise.
    func next() async throws(RPCError) -> [UInt8]? {
        let (done, first) = state.withLock { ($0.responsesDone, !$0.receivedInitialMetadata) }
        if done { return nil }
        cgrpc_batch_reset(receiveBatch)
        if first { cgrpc_batch_recv_initial_metadata(receiveBatch) }
        cgrpc_batch_recv_message(receiveBatch)
        state.withLock { $0.receivedInitialMetadata = true }
        if await run(receiveBatch, operation: Operation.receive),
           let message = cgrpc_batch_received_message(receiveBatch).map({ [UInt8](byteBuffer: $0) }) {
            return message
        }
        // No message: the call is over; the status says how.
        cgrpc_batch_reset(receiveBatch)
        cgrpc_batch_recv_status_on_client(receiveBatch)
        _ = await run(receiveBatch, operation: Operation.receive)
        state.withLock {
            $0.responsesDone = true
            $0.finished = true
        }
        let code = StatusCode(rawValue: Int(cgrpc_batch_status(receiveBatch)))
        guard code == .ok else {
            throw RPCError(code, String(slice: cgrpc_batch_status_details(receiveBatch)),
                           trailingMetadata: Metadata(array: cgrpc_batch_received_trailing_metadata(receiveBatch)))
        }
        return nil
    }

    /// True once the call's status was received.
    var isFinished: Bool { state.withLock { $0.finished } }

    /// True once a send failed because the call had ended (its status, not the send, explains why).
    var sendRefused: Bool { state.withLock { $0.sendRefused } }

    /// Ends the call from the client side unless it already ended; a reader still waiting gets `CANCELLED`.
    func cancel() {
        let running = state.withLock { state in
            defer { state.cancelled = true }
            return !state.finished
        }
        if running { grpc_call_cancel(call, nil) }
    }

    /// Runs a prepared batch; a cancelled task cancels the call (the batch then completes quickly).
    private func run(_ batch: OpaquePointer, operation: Int) async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                state.withLock { state in
                    if operation == Operation.send { state.sendWaiter = continuation } else {
                        state.receiveWaiter = continuation
                    }
                }
                let tag = retainedTag(operation: operation)
                if cgrpc_batch_start(call, batch, tag) != GRPC_CALL_OK {
                    releaseTag(tag)
                    takeWaiter(operation)?.resume(returning: false)
                }
            }
        } onCancel: {
            grpc_call_cancel(call, nil)
        }
    }

    private func takeWaiter(_ operation: Int) -> CheckedContinuation<Bool, Never>? {
        state.withLock { state in
            if operation == Operation.send {
                defer { state.sendWaiter = nil }
                return state.sendWaiter
            }
            defer { state.receiveWaiter = nil }
            return state.receiveWaiter
        }
    }

    override func complete(operation: Int, success: Bool) {
        takeWaiter(operation)?.resume(returning: success)
    }
}

/// The writer handed to a client's request closure.
struct BidirectionalCallWriter: RawRequestWriter {
    let call: BidirectionalCall

    func write(_ message: [UInt8]) async throws {
        try await call.write(message)
    }
}

extension Channel {
    public func bidirectionalStreaming<Result: Sendable>(
        path: String, options: CallOptions,
        requests: @escaping @Sendable (_ writer: any RawRequestWriter) async throws -> Void,
        responses: @escaping @Sendable (_ stream: AsyncThrowingStream<[UInt8], any Error>) async throws -> Result
    ) async throws -> Result {
        let call = try startBidirectional(path: path, options: options)
        do {
            try await call.start(metadata: options.metadata, flags: Self.initialMetadataFlags(options))
        } catch {
            // The call could not even begin (no connection, deadline): its status says why.
            while try await call.next() != nil {}
            throw error
        }
        let failure = RequestFailure()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await requests(BidirectionalCallWriter(call: call))
                    try await call.halfClose()
                } catch {
                    // A write refused because the call ended is not the cause, nor is the cancellation that follows
                    // the end of the responses (or of the caller's task): the response side reports those, and
                    // cancelling here would hide the status it is about to read.
                    if call.sendRefused || Task.isCancelled { return }
                    failure.record(error)
                    call.cancel()
                }
            }
            do {
                let result = try await responses(AsyncThrowingStream(unfolding: { try await call.next() }))
                // A cancelled task ends an unfolding stream quietly: that is a cancelled call, not a finished one.
                if Task.isCancelled && !call.isFinished { throw RPCError(.cancelled, "call cancelled") }
                call.cancel()
                group.cancelAll()
                return result
            } catch {
                call.cancel()
                group.cancelAll()
                try? await group.waitForAll()
                throw failure.recorded ?? error
            }
        }
    }
}

/// The error the request side threw, kept so that it wins over the cancellation it causes.
final class RequestFailure: Sendable {
    private let error = Mutex<(any Error)?>(nil)

    func record(_ failure: any Error) {
        error.withLock { if $0 == nil { $0 = failure } }
    }

    var recorded: (any Error)? { error.withLock { $0 } }
}
