// The group-commit queue hands writers the most urgent creates first.
import Foundation
import Testing
@testable import IncidentStore

@Suite("Priority lanes")
struct PriorityLanesTests {
    @Test("a batch takes P0 before P1 … P4, FIFO within a priority, up to the limit")
    func urgentFirst() {
        let lanes = PriorityLanes<String>(capacity: 100)
        for index in 0..<3 { #expect(lanes.push("p4-\(index)", priority: 4)) }
        #expect(lanes.push("p2-0", priority: 2))
        #expect(lanes.push("p0-0", priority: 0))
        #expect(lanes.push("p0-1", priority: 0))
        #expect(lanes.takeBatch(limit: 4) == ["p0-0", "p0-1", "p2-0", "p4-0"])
        #expect(lanes.takeBatch(limit: 4) == ["p4-1", "p4-2"])
    }

    @Test("a full queue refuses, and a closed one refuses and ends takers once drained")
    func capacityAndClose() {
        let lanes = PriorityLanes<Int>(capacity: 2)
        #expect(lanes.push(1, priority: 3))
        #expect(lanes.push(2, priority: 3))
        #expect(!lanes.push(3, priority: 0))
        lanes.close()
        #expect(!lanes.push(4, priority: 0))
        #expect(lanes.takeBatch(limit: 10) == [1, 2])
        #expect(lanes.takeBatch(limit: 10).isEmpty)
    }
}

@Suite("Priority lanes gathering")
struct PriorityLanesGatheringTests {
    @Test("a small batch waits for the callers coming back, up to the target")
    func gathersUpToTarget() {
        let lanes = PriorityLanes<Int>(capacity: 100)
        #expect(lanes.push(1, priority: 2))
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
        let lanes = PriorityLanes<Int>(capacity: 100)
        #expect(lanes.push(0, priority: 0))
        let start = ContinuousClock.now
        #expect(lanes.takeBatch(limit: 10, gather: (target: 50, linger: .seconds(60))) == [0])
        // Generous: lingering would take the full minute.
        #expect(ContinuousClock.now - start < .seconds(30))
    }
}
