// The life cycle of an incident and which moves along it are allowed.

/// Where an incident stands in its life cycle.
public enum IncidentStatus: String, Sendable, CaseIterable, Codable {
    case new = "NEW"
    case acknowledged = "ACKNOWLEDGED"
    case inProgress = "IN_PROGRESS"
    case resolved = "RESOLVED"
    case closed = "CLOSED"

    /// Whether an incident may move from this status to `next`.
    ///
    /// Work may be reopened until the incident is closed; closing is final so the audit trail ends cleanly.
    public func canMove(to next: IncidentStatus) -> Bool {
        switch (self, next) {
        case (.closed, _): false
        case (let from, let to) where from == to: false
        case (_, .new): false
        default: true
        }
    }
}
