// P0 preempts the bulk commit batch in flight: without it an arriving P0 waits for the whole batch being written
// (tens of milliseconds under a flood, more on a machine where one writer is the bottleneck) before its own.
import Foundation
import Synchronization

/// Lets an arriving P0 create cancel the group-commit batch of less urgent creates being written, so the P0 is
/// written next; the cancelled batch rolls back and goes back to the head of its lanes, admitted as before.
///
/// The cancel request travels on a thread of its own: `PQcancel` opens a connection to the server, and the P0's
/// caller must not wait for that. A batch can finish before its cancel is sent; the writer then waits for the
/// sending to end before its next statement (a session ignores a cancel that arrives between statements, but one
/// sent late would cancel the next statement instead). Should that wait time out, a statement cancelled shortly
/// after a preemption is still taken as preempted and written again.
final class BatchPreemption: Sendable {
    private struct State {
        /// The canceller of the preemptible batch being written, if one is.
        var inFlight: QueryCanceller?
        /// A cancel waiting for the cancel thread.
        var queued: QueryCanceller?
        /// The cancel thread is sending one.
        var sending = false
        /// When the last cancel was asked for: a cancelled statement soon after it is taken as preempted.
        var lastRequest: ContinuousClock.Instant?
        var preemptions = 0
        var stopped = false
    }

    private let state = Mutex(State())
    private let wake = NSCondition()
    /// A cancel arriving this long after the last request is not ours (a statement timeout, an operator).
    static let attributionWindow: Duration = .seconds(5)

    init() {
        let thread = Thread { [self] in sendCancels() }
        thread.name = "pg-preempt"
        thread.start()
    }

    /// How many batches were preempted (cancelled, then given back to the lanes) since start.
    var preemptionCount: Int { state.withLock { $0.preemptions } }

    /// The writer gave a preempted batch back to the lanes.
    func notePreempted() {
        state.withLock { $0.preemptions += 1 }
    }

    /// The writer is about to write a batch that may be preempted through `canceller`.
    func writing(preemptibleThrough canceller: QueryCanceller) {
        state.withLock { $0.inFlight = canceller }
    }

    /// The writer finished its preemptible batch (committed, failed or cancelled): returns once no cancel meant
    /// for it can still reach the session (or after `timeout`, should the server not take the cancel).
    func finished(timeout: Duration = .seconds(1)) {
        let outstanding = state.withLock { state in
            state.inFlight = nil
            return state.queued != nil || state.sending
        }
        guard outstanding else { return }
        let (seconds, attoseconds) = timeout.components
        let until = Date(timeIntervalSinceNow: Double(seconds) + Double(attoseconds) / 1e18)
        wake.lock()
        defer { wake.unlock() }
        while state.withLock({ $0.queued != nil || $0.sending }) {
            if !wake.wait(until: until) { return }
        }
    }

    /// Whether a statement the server cancelled was most likely cancelled by a preemption.
    func explainsCancel(now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { state in state.lastRequest.map { now - $0 < Self.attributionWindow } ?? false }
    }

    /// A P0 create is waiting: cancel the preemptible batch in flight, if any (once per batch).
    func preempt() {
        let requested = state.withLock { state -> Bool in
            guard let canceller = state.inFlight, !state.stopped else { return false }
            state.inFlight = nil
            state.queued = canceller
            state.lastRequest = .now
            return true
        }
        guard requested else { return }
        wake.lock()
        wake.broadcast()
        wake.unlock()
    }

    /// Ends the cancel thread.
    func stop() {
        state.withLock { $0.stopped = true }
        wake.lock()
        wake.broadcast()
        wake.unlock()
    }

    private func sendCancels() {
        while true {
            wake.lock()
            var next: QueryCanceller?
            var stopped = false
            while true {
                (next, stopped) = state.withLock { state in
                    defer {
                        state.sending = state.queued != nil
                        state.queued = nil
                    }
                    return (state.queued, state.stopped)
                }
                if next != nil || stopped { break }
                wake.wait()
            }
            wake.unlock()
            next?.send()
            state.withLock { $0.sending = false }
            wake.lock()
            wake.broadcast()
            wake.unlock()
            if stopped { return }
        }
    }
}
