// What outbound messages say about an incident: already redacted text, never the encrypted payload.
import IncidentCore

/// The view of an incident that integrations send out.
public struct IncidentSummary: Sendable, Hashable {
    public var id: String
    public var title: String
    public var description: String
    public var status: String
    /// The event's own word (critical … info); the level the guide calls severity is `priority`.
    public var severity: Severity
    public var priority: Priority
    public var category: String
    public var source: String
    public var eventType: String
    public var team: String
    public var escalationPolicy: String
    /// Where a person reads the incident.
    public var url: String
    /// RFC 3339.
    public var createdAt: String
    /// What the incident is about, as people name it (the resource's name, else its id, else its type).
    public var resource: String
    /// The event's measurements (`p95_latency_ms`, ...).
    public var metrics: [String: Double]

    public init(
        id: String, title: String, description: String, status: String, severity: Severity, priority: Priority,
        category: String, source: String, eventType: String, team: String, escalationPolicy: String, url: String,
        createdAt: String, resource: String = "", metrics: [String: Double] = [:]
    ) {
        self.id = id
        self.title = title
        self.description = description
        self.status = status
        self.severity = severity
        self.priority = priority
        self.category = category
        self.source = source
        self.eventType = eventType
        self.team = team
        self.escalationPolicy = escalationPolicy
        self.url = url
        self.createdAt = createdAt
        self.resource = resource
        self.metrics = metrics
    }
}
