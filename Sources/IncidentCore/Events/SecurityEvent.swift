// A security event as a detector reports it (the 13 fields of CreateIncidentRequest), before validation.
import Foundation

/// The incoming event in domain terms; the service builds it from the decoded request.
public struct SecurityEvent: Sendable, Hashable {
    public var eventID: String
    public var source: String
    public var sourceVersion: String
    /// RFC 3339, or empty.
    public var timestamp: String
    public var eventType: String
    public var category: String
    public var title: String
    public var description: String
    /// As sent; validation accepts the severity names in any case.
    public var severity: String
    public var resource: Resource
    public var metrics: [String: Double]
    public var tags: [String: String]
    public var encryptedPayload: [UInt8]

    public init(
        eventID: String, source: String, sourceVersion: String = "", timestamp: String = "", eventType: String = "",
        category: String = "", title: String, description: String = "", severity: String,
        resource: Resource = Resource(), metrics: [String: Double] = [:], tags: [String: String] = [:],
        encryptedPayload: [UInt8] = []
    ) {
        self.eventID = eventID
        self.source = source
        self.sourceVersion = sourceVersion
        self.timestamp = timestamp
        self.eventType = eventType
        self.category = category
        self.title = title
        self.description = description
        self.severity = severity
        self.resource = resource
        self.metrics = metrics
        self.tags = tags
        self.encryptedPayload = encryptedPayload
    }
}

/// Why an event was refused; the service answers `INVALID_ARGUMENT` with `field: problem`.
public struct EventValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The request field as the proto names it (`event_id`, `tags["user_id"]`).
    public var field: String
    public var problem: String

    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }

    public var description: String { "\(field): \(problem)" }
}
