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
    /// Work goes NEW → ACKNOWLEDGED → IN_PROGRESS → RESOLVED → CLOSED, one step at a time so the audit trail
    /// shows who acknowledged and who resolved; a resolved incident may be reopened (→ IN_PROGRESS) until it is
    /// closed, and closing is final.
    public func canMove(to next: IncidentStatus) -> Bool {
        switch (self, next) {
        case (.new, .acknowledged), (.acknowledged, .inProgress), (.inProgress, .resolved), (.resolved, .closed),
             (.resolved, .inProgress): true
        default: false
        }
    }
}
