// Counts the objects that may still start operations on the server's completion queues (request
// slots and calls). A queue may only be shut down once none is left: the core aborts the process when
// a batch or request is started on a queue that is already shut down.
import Synchronization

final class WorkTracker: Sendable {
    private let state = Mutex<State>(State())

    private struct State {
        var live = 0
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
    }

    var live: Int { state.withLock { $0.live } }

    func enter() {
        state.withLock { $0.live += 1 }
    }

    func leave() {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.live -= 1
            guard state.live == 0 else { return [] }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// True once every tracked object is gone; false if some are still alive after `timeout`.
    func waitUntilIdle(timeout: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            let id = state.withLock { state -> Int? in
                if state.live == 0 { return nil }
                state.nextWaiter += 1
                state.waiters[state.nextWaiter] = continuation
                return state.nextWaiter
            }
            guard let id else {
                continuation.resume(returning: true)
                return
            }
            Task {
                try? await Task.sleep(for: timeout)
                let expired = self.state.withLock { $0.waiters.removeValue(forKey: id) }
                expired?.resume(returning: false)
            }
        }
    }
}
