// Blocking priority lanes: the queue group-commit writers take creates from, most urgent first.
import Foundation

/// A create waiting for its batch: the prepared statement and the caller to complete after commit.
struct PendingCreate: Sendable {
    let statement: Statement
    let continuation: CheckedContinuation<CreateIncidentResult, any Error>
}

/// The creates waiting for a writer.
typealias PendingCreates = PriorityLanes<PendingCreate>

/// Blocking priority lanes (0 most urgent … 4). Takers get the most urgent first, FIFO within a priority.
final class PriorityLanes<Element: Sendable>: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var lanes: [[Element]] = Array(repeating: [], count: 5)
    private var heads: [Int] = Array(repeating: 0, count: 5)
    private var count = 0
    private var closed = false
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Queues a create; false when the queue is full or closed (the caller answers with a retryable error).
    func push(_ create: Element, priority: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed, count < capacity else { return false }
        lanes[priority].append(create)
        count += 1
        condition.broadcast()
        return true
    }

    /// Waits for work and takes up to `limit` elements, most urgent first; empty once closed and drained.
    ///
    /// With `gather`, a batch smaller than `gather.target` waits up to `gather.linger` for more to arrive: callers
    /// answered by the previous batch come back a moment later, and taking the first few alone would split them
    /// over two commits. Nothing lingers while a P0 waits.
    func takeBatch(limit: Int, gather: (target: Int, linger: Duration)? = nil) -> [Element] {
        condition.lock()
        defer { condition.unlock() }
        while count == 0 && !closed { condition.wait() }
        if let gather, count < min(gather.target, limit), !closed {
            let (seconds, attoseconds) = gather.linger.components
            let until = Date(timeIntervalSinceNow: Double(seconds) + Double(attoseconds) / 1e18)
            while count < min(gather.target, limit) && lanes[0].count == heads[0] && !closed {
                if !condition.wait(until: until) { break }
            }
        }
        var batch: [Element] = []
        for lane in lanes.indices where batch.count < limit {
            let take = min(limit - batch.count, lanes[lane].count - heads[lane])
            guard take > 0 else { continue }
            batch.append(contentsOf: lanes[lane][heads[lane]..<heads[lane] + take])
            heads[lane] += take
            if heads[lane] == lanes[lane].count {
                lanes[lane].removeAll(keepingCapacity: true)
                heads[lane] = 0
            } else if heads[lane] > 1024 {
                lanes[lane].removeFirst(heads[lane])
                heads[lane] = 0
            }
        }
        count -= batch.count
        return batch
    }

    /// Refuses new creates; writers drain what is queued and then stop.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
