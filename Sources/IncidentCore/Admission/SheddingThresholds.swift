// Which levels are refused at how much load: the one rule every door's load shedding uses.

/// Load shedding by priority: with `limit` creates (or calls) in flight, the least urgent levels are refused first and
/// P0 never.
public struct SheddingThresholds: Sendable, Hashable {
    /// In flight at which P1 is refused; lower levels are refused earlier.
    public let limit: Int

    public init(limit: Int) { self.limit = max(1, limit) }

    /// The in-flight count from which `priority` is refused: P1 at the limit, P2 at ¾, P3 at ½, P4 at ¼; never P0.
    public func threshold(for priority: Priority) -> Int? {
        switch priority {
        case .p0: nil
        case .p1: limit
        case .p2: limit * 3 / 4
        case .p3: limit / 2
        case .p4: limit / 4
        }
    }

    /// Whether a `priority` create is refused with `inFlight` others already running.
    public func refuses(_ priority: Priority, inFlight: Int) -> Bool {
        threshold(for: priority).map { inFlight >= $0 } ?? false
    }
}
