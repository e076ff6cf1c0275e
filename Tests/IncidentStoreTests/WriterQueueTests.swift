// The group-commit queue hands writers the most urgent creates first.
import Foundation
import IncidentCore
import Testing
@testable import IncidentStore

@Suite("Priority lanes")
struct WriterQueueTests {
    @Test("a batch takes P0 before P1 … P4, FIFO within a priority, up to the limit")
    func urgentFirst() {
        let lanes = WriterQueue<String>(capacity: 100)
        for index in 0..<3 { #expect(admitted(lanes.push("p4-\(index)", priority: 4))) }
        #expect(admitted(lanes.push("p2-0", priority: 2)))
        #expect(admitted(lanes.push("p0-0", priority: 0)))
        #expect(admitted(lanes.push("p0-1", priority: 0)))
        #expect(lanes.takeBatch(limit: 4) == ["p0-0", "p0-1", "p2-0", "p4-0"])
        #expect(lanes.takeBatch(limit: 4) == ["p4-1", "p4-2"])
    }

    @Test("a full queue refuses the least urgent, always takes P0, and a closed one ends takers once drained")
    func capacityAndClose() {
        let lanes = WriterQueue<Int>(capacity: 2)
        #expect(admitted(lanes.push(1, priority: 3)))
        #expect(admitted(lanes.push(2, priority: 3)))
        // Full: an arriving P3 is refused; more urgent arrivals displace the newest of the least urgent waiting.
        guard case .refused = lanes.push(3, priority: 3) else { Issue.record("P3 into a full queue"); return }
        guard case .admittedDisplacing(2) = lanes.push(4, priority: 2) else { Issue.record("P2 over P3"); return }
        guard case .admittedDisplacing(1) = lanes.push(5, priority: 1) else { Issue.record("P1 over P3"); return }
        guard case .refused = lanes.push(6, priority: 2) else { Issue.record("P2 over P1, P2"); return }
        guard case .admittedDisplacing(4) = lanes.push(7, priority: 0) else { Issue.record("P0 over P2"); return }
        guard case .admittedDisplacing(5) = lanes.push(8, priority: 0) else { Issue.record("P0 over P1"); return }
        // Nothing less urgent waits, and P0 still gets in, past the bound.
        #expect(admitted(lanes.push(9, priority: 0)))
        #expect(lanes.depths == [3, 0, 0, 0, 0])
        lanes.close()
        guard case .closed = lanes.push(10, priority: 0) else { Issue.record("closed lanes took a push"); return }
        #expect(lanes.takeBatch(limit: 10) == [7, 8, 9])
        #expect(lanes.takeBatch(limit: 10).isEmpty)
    }
}

@Suite("Priority lanes gathering")
struct WriterQueueGatheringTests {
    @Test("a small batch waits for the callers coming back, up to the target")
    func gathersUpToTarget() {
        let lanes = WriterQueue<Int>(capacity: 100)
        #expect(admitted(lanes.push(1, priority: 2)))
        // A plain thread, so the producer runs even if the test occupies the only cooperative thread.
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.05)
            _ = lanes.push(2, priority: 2)
            _ = lanes.push(3, priority: 2)
        }
        let batch = lanes.takeBatch(limit: 10, gather: (target: 3, linger: .seconds(60)))
        #expect(batch == [1, 2, 3])
    }

    @Test("nothing lingers while a P0 waits")
    func p0DoesNotWait() {
        let lanes = WriterQueue<Int>(capacity: 100)
        #expect(admitted(lanes.push(0, priority: 0)))
        let start = ContinuousClock.now
        #expect(lanes.takeBatch(limit: 10, gather: (target: 50, linger: .seconds(60))) == [0])
        // Generous: lingering would take the full minute.
        #expect(ContinuousClock.now - start < .seconds(30))
    }
}

/// True when the lanes took the element without displacing another.
private func admitted<T>(_ outcome: AdmissionOutcome<T>) -> Bool {
    if case .admitted = outcome { return true }
    return false
}
