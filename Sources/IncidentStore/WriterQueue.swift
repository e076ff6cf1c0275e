// The queue group-commit writers take creates from: IncidentCore's priority lanes behind a lock, with takers that
// wait for work.
import Foundation
import IncidentCore

/// A create waiting for its batch: the prepared statement and the caller to complete after commit.
struct PendingCreate: Sendable {
    let statement: Statement
    let priority: Priority
    let continuation: CheckedContinuation<CreateIncidentResult, any Error>
    /// A P0 preempted this create's write once: it is not preempted again, so a stream of P0 cannot starve it.
    var wasPreempted = false
}

/// The creates waiting for a writer.
typealias PendingCreates = WriterQueue<PendingCreate>

/// `PriorityLanes` (0 most urgent … 4) shared by threads: writers wait here for work and take the most urgent
/// first, FIFO within a priority; admission, displacement, closing and restoring are the lanes' own.
final class WriterQueue<Element: Sendable>: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var lanes: PriorityLanes<Element>

    init(capacity: Int) {
        lanes = PriorityLanes(capacity: capacity)
    }

    /// Queues an element by the lanes' admission policy: when full, the least urgent waiting (or this arriving)
    /// element is refused, and P0 is always taken. A displaced element is returned for its owner to refuse.
    func push(_ element: Element, priority: Int) -> AdmissionOutcome<Element> {
        condition.lock()
        defer { condition.unlock() }
        let outcome = lanes.offer(element, priority: priority)
        switch outcome {
        case .admitted, .admittedDisplacing: condition.broadcast()
        case .refused, .closed: break
        }
        return outcome
    }

    /// How many elements wait at each priority (index 0 is P0).
    var depths: [Int] {
        condition.lock()
        defer { condition.unlock() }
        return lanes.depths
    }

    /// Waits for work and takes up to `limit` elements, most urgent first; empty once closed and drained.
    ///
    /// With `gather`, a batch smaller than `gather.target` waits up to `gather.linger` for more to arrive: callers
    /// answered by the previous batch come back a moment later, and taking the first few alone would split them
    /// over two commits. Nothing lingers while a P0 waits, and waiting P0 elements are taken alone (`alone`).
    func takeBatch(limit: Int, gather: (target: Int, linger: Duration)? = nil, alone: Int? = nil) -> [Element] {
        condition.lock()
        defer { condition.unlock() }
        while lanes.isEmpty && !lanes.isClosed { condition.wait() }
        if let gather, lanes.count < min(gather.target, limit), !lanes.isClosed {
            let (seconds, attoseconds) = gather.linger.components
            let until = Date(timeIntervalSinceNow: Double(seconds) + Double(attoseconds) / 1e18)
            while lanes.count < min(gather.target, limit) && lanes.depth(of: 0) == 0 && !lanes.isClosed {
                if !condition.wait(until: until) { break }
            }
        }
        return lanes.takeBatch(maxCount: limit, alone: alone)
    }

    /// Puts a taken batch back at the head of its lanes (a preempted write), even when closed: these were
    /// admitted, and writers drain what is queued before they stop.
    func restore(_ entries: [(element: Element, priority: Int)]) {
        condition.lock()
        defer { condition.unlock() }
        lanes.restore(entries)
        condition.broadcast()
    }

    /// Refuses new creates; writers drain what is queued and then stop.
    func close() {
        condition.lock()
        lanes.close()
        condition.broadcast()
        condition.unlock()
    }
}
