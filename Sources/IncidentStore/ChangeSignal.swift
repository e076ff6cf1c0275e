// An in-process signal that wakes stream readers when new changes may have committed.
import Foundation

/// A generation counter bumped on every `NOTIFY` (and on listener reconnects, when notifications may have been
/// missed). Readers note the generation, read the feed, and wait only if the generation has not moved: no
/// wake-up is lost between reading and waiting.
final class ChangeSignal: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var generation: UInt64 = 0
    private var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var cancelledWaiters: Set<UInt64> = []
    private var nextWaiter: UInt64 = 0

    var current: UInt64 {
        lock.withLock { generation }
    }

    func bump() {
        let woken = lock.withLock {
            generation += 1
            defer { waiters.removeAll() }
            return Array(waiters.values)
        }
        woken.forEach { $0.resume() }
    }

    /// Returns once the generation passes `seen`, or when the task is cancelled.
    func wait(after seen: UInt64) async {
        let id = lock.withLock {
            nextWaiter += 1
            return nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = lock.withLock {
                    if generation > seen || cancelledWaiters.remove(id) != nil { return true }
                    waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = lock.withLock {
                guard let waiter = waiters.removeValue(forKey: id) else {
                    cancelledWaiters.insert(id)
                    return nil as CheckedContinuation<Void, Never>?
                }
                return waiter
            }
            waiter?.resume()
        }
    }
}
