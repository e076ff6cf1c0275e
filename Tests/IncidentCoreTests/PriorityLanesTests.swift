import Testing
@testable import IncidentCore

@Suite struct PriorityLanesTests {
    @Test func batchesTakeTheMostUrgentFirstAndFIFOWithinAPriority() {
        var lanes = PriorityLanes<String>(capacity: 10)
        for (name, priority) in [("p3a", 3), ("p1a", 1), ("p3b", 3), ("p0a", 0), ("p1b", 1)] {
            guard case .admitted = lanes.offer(name, priority: priority) else { Issue.record("refused \(name)"); return }
        }
        #expect(lanes.depths == [1, 2, 0, 2, 0])
        #expect(lanes.takeBatch(maxCount: 3) == ["p0a", "p1a", "p1b"])
        #expect(lanes.takeBatch(maxCount: 3) == ["p3a", "p3b"])
        #expect(lanes.isEmpty)
    }

    @Test func waitingP0IsTakenAloneThenTheRestAsUsual() {
        var lanes = PriorityLanes<String>(capacity: 10)
        for (name, priority) in [("p3a", 3), ("p0a", 0), ("p1a", 1), ("p0b", 0)] {
            _ = lanes.offer(name, priority: priority)
        }
        #expect(lanes.takeBatch(maxCount: 10, alone: 0) == ["p0a", "p0b"])
        #expect(lanes.takeBatch(maxCount: 10, alone: 0) == ["p1a", "p3a"])
        _ = lanes.offer("p1b", priority: 1)
        _ = lanes.offer("p2a", priority: 2)
        #expect(lanes.takeBatch(maxCount: 10, alone: 1) == ["p1b"])
        #expect(lanes.takeBatch(maxCount: 10, alone: 1) == ["p2a"])
        #expect(lanes.isEmpty)
    }

    @Test func whenFullTheLeastUrgentIsRefusedFirst() {
        var lanes = PriorityLanes<String>(capacity: 3)
        _ = lanes.offer("p3a", priority: 3)
        _ = lanes.offer("p2a", priority: 2)
        _ = lanes.offer("p3b", priority: 3)
        // A P1 arriving displaces the newest P3.
        guard case .admittedDisplacing(let victim) = lanes.offer("p1a", priority: 1) else { Issue.record("expected displacement"); return }
        #expect(victim == "p3b")
        // A P4 arriving when nothing less urgent waits is refused.
        guard case .refused = lanes.offer("p4a", priority: 4) else { Issue.record("expected refusal"); return }
        // Same priority as the least urgent waiting: refused, not displacing its peer.
        guard case .refused = lanes.offer("p3c", priority: 3) else { Issue.record("expected refusal"); return }
        #expect(lanes.count == 3)
    }

    @Test func p0IsNeverRefusedForLoad() {
        var lanes = PriorityLanes<Int>(capacity: 100)
        for i in 0..<100 { _ = lanes.offer(i, priority: 3) }
        var displaced = 0
        for i in 0..<100 { if case .admittedDisplacing = lanes.offer(1000 + i, priority: 0) { displaced += 1 } }
        #expect(displaced == 100)
        // Full of P0 now: more P0 are still admitted beyond the bound.
        for i in 0..<50 {
            guard case .admitted = lanes.offer(2000 + i, priority: 0) else { Issue.record("P0 refused"); return }
        }
        #expect(lanes.depths[0] == 150)
        let first = lanes.takeBatch(maxCount: 1000)
        #expect(first.count == 150 && first.first == 1000 && first.last == 2049)
    }

    @Test func cancelledEntriesCanBeRemoved() {
        var lanes = PriorityLanes<Int>(capacity: 10)
        for i in 0..<6 { _ = lanes.offer(i, priority: i % 3) }
        let removed = lanes.removeAll { $0.isMultiple(of: 2) }
        #expect(removed.sorted() == [0, 2, 4])
        #expect(lanes.count == 3)
        #expect(lanes.takeBatch(maxCount: 10) == [3, 1, 5])
    }

    @Test func restoredEntriesGoBackToTheHeadOfTheirLanesPastTheCapacity() {
        var lanes = PriorityLanes<String>(capacity: 3)
        for (name, priority) in [("p3a", 3), ("p2a", 2), ("p3b", 3)] { _ = lanes.offer(name, priority: priority) }
        let taken = lanes.takeBatch(maxCount: 2)
        #expect(taken == ["p2a", "p3a"])
        for (name, priority) in [("p3c", 3), ("p2b", 2)] { _ = lanes.offer(name, priority: priority) }
        #expect(lanes.count == 3)
        lanes.restore([(element: "p2a", priority: 2), (element: "p3a", priority: 3)])
        #expect(lanes.count == 5)
        #expect(lanes.depths == [0, 0, 2, 3, 0])
        // Full, and past it: a P3 arriving is refused, the restored entries stay first in their lanes.
        guard case .refused = lanes.offer("p3d", priority: 3) else { Issue.record("p3d admitted past capacity"); return }
        #expect(lanes.takeBatch(maxCount: 10) == ["p2a", "p2b", "p3a", "p3b", "p3c"])
    }

    @Test func closedLanesRefuseOffersButStillHandOutAndRestoreWhatWaits() {
        var lanes = PriorityLanes<String>(capacity: 3)
        for (name, priority) in [("p2a", 2), ("p0a", 0)] { _ = lanes.offer(name, priority: priority) }
        lanes.close()
        #expect(lanes.isClosed)
        guard case .closed = lanes.offer("p0b", priority: 0) else { Issue.record("closed lanes took a P0"); return }
        #expect(lanes.count == 2)
        let taken = lanes.takeBatch(maxCount: 1)
        #expect(taken == ["p0a"])
        lanes.restore([(element: "p0a", priority: 0)])
        #expect(lanes.takeBatch(maxCount: 10) == ["p0a", "p2a"])
        #expect(lanes.isEmpty)
    }

    @Test func dequeStaysCorrectAcrossCompaction() {
        var deque = Deque<Int>()
        var expected = 0
        for round in 0..<10 {
            for i in 0..<100 { deque.append(round * 100 + i) }
            for _ in 0..<90 {
                #expect(deque.popFirst() == expected)
                expected += 1
            }
        }
        #expect(deque.count == 100)
    }
}
