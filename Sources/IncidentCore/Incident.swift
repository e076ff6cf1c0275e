// The incident record and the draft a new incident is created from.
import Foundation

/// What a validated, normalized security event contributes to a new incident.
public struct IncidentDraft: Sendable, Hashable {
    /// The reporting system, e.g. `llm-shield`; with `eventID` it identifies the event.
    public var source: String
    /// The source's own id of the event; a repeat of it is not a new incident.
    public var eventID: String
    /// SHA-256 of the normalized event, to tell an idempotent replay from a different event reusing an id.
    public var contentHash: [UInt8]
    public var severity: Severity
    public var priority: Priority
    public var title: String
    public var description: String
    public var sourceVersion: String
    public var eventType: String
    public var category: String
    public var resource: Resource
    public var metrics: [String: Double]
    public var tags: [String: String]
    /// Opaque bytes the source encrypted; stored as given, never logged.
    public var encryptedPayload: [UInt8]?
    public var requestHash: String?
    public var assignedTeam: String
    public var escalationPolicy: String
    public var timeline: [TimelineEntry]
    public var remediationActions: [RemediationAction]

    /// A draft with the identifying fields set and everything else empty.
    public init(
        source: String, eventID: String, contentHash: [UInt8], severity: Severity, title: String,
        priority: Priority? = nil, description: String = "", sourceVersion: String = "", eventType: String = "",
        category: String = "", resource: Resource = Resource(), metrics: [String: Double] = [:],
        tags: [String: String] = [:], encryptedPayload: [UInt8]? = nil, requestHash: String? = nil,
        assignedTeam: String = "", escalationPolicy: String = "", timeline: [TimelineEntry] = [],
        remediationActions: [RemediationAction] = []
    ) {
        self.source = source
        self.eventID = eventID
        self.contentHash = contentHash
        self.severity = severity
        self.priority = priority ?? severity.defaultPriority
        self.title = title
        self.description = description
        self.sourceVersion = sourceVersion
        self.eventType = eventType
        self.category = category
        self.resource = resource
        self.metrics = metrics
        self.tags = tags
        self.encryptedPayload = encryptedPayload
        self.requestHash = requestHash
        self.assignedTeam = assignedTeam
        self.escalationPolicy = escalationPolicy
        self.timeline = timeline
        self.remediationActions = remediationActions
    }
}

/// A stored incident as the service reads it.
public struct Incident: Sendable, Hashable {
    public var id: IncidentID
    public var status: IncidentStatus
    public var severity: Severity
    public var priority: Priority
    public var title: String
    public var description: String
    public var source: String
    public var sourceVersion: String
    public var eventType: String
    public var category: String
    public var resource: Resource
    public var metrics: [String: Double]
    public var tags: [String: String]
    public var encryptedPayload: [UInt8]?
    public var requestHash: String?
    public var assignedTeam: String
    public var escalationPolicy: String
    /// How many events fed this incident: the first, the events correlated into it, and idempotent replays.
    public var eventCount: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var acknowledgedAt: Date?
    public var resolvedAt: Date?
    /// Bumped on every change; updates name the version they expect (optimistic concurrency).
    public var version: Int64
    /// The change-log position of the incident's latest change.
    public var position: Int64
    public var timeline: [TimelineEntry]
    public var remediationActions: [RemediationAction]
    /// The source's id of the event that opened the incident (empty when the store does not know it).
    public var eventID = ""
    /// How far escalation went and which SLA clocks ran out.
    public var timers: IncidentTimers
    /// The correlation key events fold on (empty when its event had none); see `CorrelationConfig`.
    public var correlationKey = ""
    /// When its first and latest events arrived (folded events included); the creation time when unknown.
    public var firstEventAt: Date?
    public var lastEventAt: Date?
    /// Earlier incidents of the same correlation key that no longer absorbed events when this one opened.
    public var relatedIncidents: [String] = []
    /// Root cause and actions taken, once someone recorded them (with or after the resolution).
    public var resolution: ResolutionDetails?

    public init(
        id: IncidentID, status: IncidentStatus, severity: Severity, priority: Priority, title: String,
        description: String, source: String, sourceVersion: String, eventType: String, category: String,
        resource: Resource, metrics: [String: Double], tags: [String: String], encryptedPayload: [UInt8]?,
        requestHash: String?, assignedTeam: String, escalationPolicy: String, eventCount: Int, createdAt: Date,
        updatedAt: Date, acknowledgedAt: Date?, resolvedAt: Date?, version: Int64, position: Int64,
        timeline: [TimelineEntry], remediationActions: [RemediationAction], timers: IncidentTimers = IncidentTimers()
    ) {
        self.id = id
        self.status = status
        self.severity = severity
        self.priority = priority
        self.title = title
        self.description = description
        self.source = source
        self.sourceVersion = sourceVersion
        self.eventType = eventType
        self.category = category
        self.resource = resource
        self.metrics = metrics
        self.tags = tags
        self.encryptedPayload = encryptedPayload
        self.requestHash = requestHash
        self.assignedTeam = assignedTeam
        self.escalationPolicy = escalationPolicy
        self.eventCount = eventCount
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.acknowledgedAt = acknowledgedAt
        self.resolvedAt = resolvedAt
        self.version = version
        self.position = position
        self.timeline = timeline
        self.remediationActions = remediationActions
        self.timers = timers
    }
}
