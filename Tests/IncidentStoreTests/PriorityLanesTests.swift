// The group-commit queue hands writers the most urgent creates first.
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
