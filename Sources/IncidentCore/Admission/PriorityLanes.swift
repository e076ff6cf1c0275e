// Admission by priority: a bounded set of FIFO lanes, one per priority, in front of the write path.
// When it is full, the least urgent waiting (or arriving) entry is refused first; P0 is never refused
// for load, so under a flood of P3 noise a P0 still gets in and leaves first. Closed lanes (shutting down) take
// nothing new, but what waits is still taken, and a preempted batch is still restored.

/// What happened to an entry offered to the lanes.
public enum AdmissionOutcome<Element>: Sendable where Element: Sendable {
    /// Admitted; nothing was displaced.
    case admitted
    /// Admitted by displacing a less urgent waiting entry, which the caller must refuse.
    case admittedDisplacing(Element)
    /// Refused: everything waiting is at least as urgent.
    case refused
    /// Refused: the lanes are closed (shutting down).
    case closed
}

/// Bounded per-priority FIFO lanes. Not thread-safe on its own: the owner serializes access.
public struct PriorityLanes<Element: Sendable>: Sendable {
    /// Entries waiting beyond this count are refused, except P0.
    public let capacity: Int
    private var lanes: [Deque<Element>]

    /// Lanes for priorities 0 (most urgent) through `priorityCount - 1`.
    public init(capacity: Int, priorityCount: Int = 5) {
        precondition(capacity > 0 && priorityCount > 0)
        self.capacity = capacity
        self.lanes = Array(repeating: Deque(), count: priorityCount)
    }

    /// How many entries wait in all lanes.
    public private(set) var count = 0
    /// Whether `close()` was called: offers are refused from then on.
    public private(set) var isClosed = false
    public var isEmpty: Bool { count == 0 }

    /// How many entries wait at each priority.
    public var depths: [Int] { lanes.map(\.count) }

    /// How many entries wait at one priority (clamped like `offer`).
    public func depth(of priority: Int) -> Int {
        lanes[lane(for: priority)].count
    }

    /// Offers an entry at a priority (clamped to the lanes that exist).
    public mutating func offer(_ element: Element, priority: Int) -> AdmissionOutcome<Element> {
        guard !isClosed else { return .closed }
        let priority = lane(for: priority)
        if count < capacity {
            lanes[priority].append(element)
            count += 1
            return .admitted
        }
        // Full: make room by refusing the newest entry of the least urgent lane below this one.
        if let victimLane = lanes.indices.reversed().first(where: { $0 > priority && !lanes[$0].isEmpty }) {
            let victim = lanes[victimLane].removeLast()
            lanes[priority].append(element)
            return .admittedDisplacing(victim)
        }
        // Nothing less urgent waits. P0 is still taken: the bound is for load shedding, and P0 is what the
        // service exists for.
        if priority == 0 {
            lanes[0].append(element)
            count += 1
            return .admitted
        }
        return .refused
    }

    /// Refuses every later offer; entries waiting stay to be taken.
    public mutating func close() {
        isClosed = true
    }

    /// Takes up to `maxCount` entries, most urgent first, FIFO within a priority.
    ///
    /// With `alone`, when entries of that priority or more urgent wait, only they are taken: a small batch of them
    /// commits in a few milliseconds, where sharing a full batch with hundreds of others would make them wait for
    /// all of those to be written.
    public mutating func takeBatch(maxCount: Int, alone: Int? = nil) -> [Element] {
        var batch: [Element] = []
        batch.reserveCapacity(min(maxCount, count))
        var taken = lanes.indices
        if let alone, let urgent = lanes.indices.first(where: { !lanes[$0].isEmpty }), urgent <= alone {
            taken = lanes.indices.prefix(alone + 1)
        }
        for lane in taken {
            while batch.count < maxCount, let element = lanes[lane].popFirst() {
                batch.append(element)
            }
            if batch.count == maxCount { break }
        }
        count -= batch.count
        return batch
    }

    /// Puts taken entries back at the head of their lanes, in their order, whatever the capacity and even when
    /// closed: they were admitted already (a write that was preempted gives its batch back).
    public mutating func restore(_ entries: [(element: Element, priority: Int)]) {
        var returning = [[Element]](repeating: [], count: lanes.count)
        for entry in entries { returning[lane(for: entry.priority)].append(entry.element) }
        for lane in lanes.indices where !returning[lane].isEmpty {
            lanes[lane] = Deque(returning[lane] + lanes[lane].elements)
        }
        count += entries.count
    }

    /// The lane of a priority, clamped to the lanes that exist.
    private func lane(for priority: Int) -> Int {
        min(max(priority, 0), lanes.count - 1)
    }

    /// Removes every waiting entry matching `predicate` (a cancelled caller), returning them.
    public mutating func removeAll(where predicate: (Element) -> Bool) -> [Element] {
        var removed: [Element] = []
        for lane in lanes.indices {
            let kept = lanes[lane].elements.filter { element in
                if predicate(element) { removed.append(element); return false }
                return true
            }
            lanes[lane] = Deque(kept)
        }
        count -= removed.count
        return removed
    }
}

/// A small FIFO with O(1) amortized pops from the front (the standard library has none).
struct Deque<Element: Sendable>: Sendable {
    private var storage: [Element] = []
    private var head = 0

    init() {}
    init(_ elements: [Element]) { storage = elements }

    var count: Int { storage.count - head }
    var isEmpty: Bool { count == 0 }
    var elements: ArraySlice<Element> { storage[head...] }

    mutating func append(_ element: Element) { storage.append(element) }

    mutating func popFirst() -> Element? {
        guard head < storage.count else { return nil }
        let element = storage[head]
        head += 1
        // Compact once the dead prefix dominates, keeping memory bounded by what is waiting.
        if head >= 64 && head * 2 >= storage.count {
            storage.removeFirst(head)
            head = 0
        }
        return element
    }

    mutating func removeLast() -> Element {
        precondition(count > 0)
        return storage.removeLast()
    }
}
