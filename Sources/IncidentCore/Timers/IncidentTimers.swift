// What the timers recorded on an incident: how far its escalation went and which SLA clocks ran out. Each is
// a fact written once by the timer jobs, so a job that runs twice cannot record it twice.
import Foundation

/// The timer facts of one incident.
public struct IncidentTimers: Sendable, Hashable {
    /// The escalation step paged last: 0 is the first page, each escalation adds one.
    public var escalationStep: Int
    /// The SLA clocks that ran out, in the order they were recorded.
    public var slaBreaches: [SLABreach]

    public init(escalationStep: Int = 0, slaBreaches: [SLABreach] = []) {
        self.escalationStep = escalationStep
        self.slaBreaches = slaBreaches
    }

    /// The breach of `clock`, if it was recorded.
    public func breach(_ clock: SLAKind) -> SLABreach? {
        slaBreaches.first { $0.clock == clock }
    }
}

/// One SLA clock that ran out before its goal was reached.
public struct SLABreach: Sendable, Hashable, Codable {
    public var clock: SLAKind
    /// When the clock ran out.
    public var dueAt: Date
    /// When the breach was noticed and recorded.
    public var recordedAt: Date

    public init(clock: SLAKind, dueAt: Date, recordedAt: Date) {
        self.clock = clock
        self.dueAt = dueAt
        self.recordedAt = recordedAt
    }
}
