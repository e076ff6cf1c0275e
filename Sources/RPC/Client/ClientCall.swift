// One client call: the core call, the batch being run, and the continuation waiting for it.
// Owns the call and the batch; frees both in deinit (cancelling the call if it never finished).
internal import CGRPC

final class ClientCall: Completion, @unchecked Sendable {
    // `batch` is touched only while no batch is pending; `waiter` is set before a batch starts and
    // taken by its completion (the core orders the two). The call is thread-safe in the core.
    let batch = cgrpc_batch_create()!
    private let call: OpaquePointer
    private let channel: Channel
    private var waiter: CheckedContinuation<Bool, Never>?
    var finished = false

    init(call: OpaquePointer, channel: Channel) {
        self.call = call
        self.channel = channel
    }

    deinit {
        if !finished { grpc_call_cancel(call, nil) }
        cgrpc_batch_destroy(batch)
        grpc_call_unref(call)
    }

    /// Runs the prepared batch; a cancelled task cancels the call (the batch then completes quickly).
    func run() async -> Bool {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                waiter = continuation
                let tag = retainedTag(operation: 0)
                if cgrpc_batch_start(call, batch, tag) != GRPC_CALL_OK {
                    waiter = nil
                    releaseTag(tag)
                    continuation.resume(returning: false)
                }
            }
        } onCancel: {
            grpc_call_cancel(call, nil)
        }
    }

    override func complete(operation: Int, success: Bool) {
        let continuation = waiter
        waiter = nil
        continuation?.resume(returning: success)
    }

    /// The status a `RECV_STATUS_ON_CLIENT` in the last batch received, as an error unless OK.
    func receivedStatus() -> RPCError? {
        let code = StatusCode(rawValue: Int(cgrpc_batch_status(batch)))
        guard code != .ok else { return nil }
        return RPCError(
            code, String(slice: cgrpc_batch_status_details(batch)),
            trailingMetadata: Metadata(array: cgrpc_batch_received_trailing_metadata(batch)))
    }

    func receivedMessage() -> [UInt8]? {
        cgrpc_batch_received_message(batch).map { [UInt8](byteBuffer: $0) }
    }
}
