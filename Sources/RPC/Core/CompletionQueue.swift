// A completion queue and the one thread that polls it, delivering every event to its tag's owner.
internal import CGRPC
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Owns one `grpc_completion_queue`; the poller destroys it after the core reports shutdown.
final class CompletionQueue: @unchecked Sendable {
    // The core's completion queue is thread-safe; the pointer is only freed by the poller at the end.
    let raw: OpaquePointer
    private let name: String
    private let exited = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    init(name: String) {
        GRPCRuntime.ensureStarted()
        self.raw = grpc_completion_queue_create_for_next(nil)
        self.name = name
    }

    /// Starts the polling thread; it runs until `shutdown()` drains the queue.
    func startPolling() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            let queue = Unmanaged<CompletionQueue>.fromOpaque(raw!).takeRetainedValue()
            queue.poll()
            return nil
        }, context)
        precondition(result == 0, "cannot start completion-queue thread: errno \(result)")
        pthread_detach(thread)
    }

    private func poll() {
        let forever = gpr_inf_future(GPR_CLOCK_MONOTONIC)
        loop: while true {
            let event = grpc_completion_queue_next(raw, forever, nil)
            switch event.type {
            case GRPC_OP_COMPLETE:
                if let tag = event.tag { Completion.dispatch(tag: tag, success: event.success != 0) }
            case GRPC_QUEUE_SHUTDOWN:
                break loop
            default:
                continue
            }
        }
        grpc_completion_queue_destroy(raw)
        let waiters = exited.withLock { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Asks the core to finish the queue; pending events are still delivered first.
    func shutdown() {
        grpc_completion_queue_shutdown(raw)
    }

    /// Returns once the poller has delivered the last event and freed the queue.
    func waitUntilDrained() async {
        await withCheckedContinuation { continuation in
            let done = exited.withLock { state in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }
}
