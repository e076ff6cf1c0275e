// Counts the objects that may still start operations on the server's completion queues (request
// slots and calls). A queue may only be shut down once none is left: the core aborts the process when
// a batch or request is started on a queue that is already shut down.
import Synchronization

final class WorkTracker: Sendable {
    private let state = Mutex<(live: Int, waiters: [CheckedContinuation<Void, Never>])>((0, []))

    func enter() {
        state.withLock { $0.live += 1 }
    }

    func leave() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.live -= 1
            guard state.live == 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once every tracked object is gone.
    func waitUntilIdle() async {
        await withCheckedContinuation { continuation in
            let idle = state.withLock { state in
                if state.live > 0 { state.waiters.append(continuation) }
                return state.live == 0
            }
            if idle { continuation.resume() }
        }
    }
}
