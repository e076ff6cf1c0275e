// A thread-safe record of what handlers saw, with a bounded wait for a condition.
import Synchronization

/// Events recorded by handlers, awaited by tests with a generous timeout (never a fixed sleep).
final class Probe: Sendable {
    private let events = Mutex<[String]>([])

    func record(_ event: String) {
        events.withLock { $0.append(event) }
    }

    func count(_ event: String) -> Int {
        events.withLock { $0.filter { $0 == event }.count }
    }

    /// True once `event` was recorded; false if it was not within `timeout`.
    func wait(for event: String, timeout: Duration = .seconds(30)) async -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + timeout
        while clock.now < end {
            if count(event) > 0 { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return count(event) > 0
    }
}

/// A wait that ignores task cancellation until the test opens it: stands in for a handler that
/// does not cooperate with cancellation.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let open = state.withLock { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
