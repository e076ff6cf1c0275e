// Severity and priority of an incident, and the default mapping between them.

/// How bad the reporting source says an event is.
public enum Severity: String, Sendable, CaseIterable, Codable {
    case critical, high, medium, low, info

    /// The priority an incident of this severity gets when no rule says otherwise.
    public var defaultPriority: Priority {
        switch self {
        case .critical: .p0
        case .high: .p1
        case .medium: .p2
        case .low: .p3
        case .info: .p4
        }
    }
}

/// Urgency of an incident: P0 is handled first and is never shed for load.
public enum Priority: Int, Sendable, CaseIterable, Comparable, Codable {
    case p0 = 0, p1, p2, p3, p4

    /// P0 sorts before P4: a smaller raw value is more urgent.
    public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rawValue < rhs.rawValue }
}
