// Conversions between the store's domain values (IncidentCore) and the generated API messages (IncidentAPI),
// kept in one place so every RPC answers with the same shape. The gRPC door (this folder) is the one place where
// both vocabularies meet, so it is the one place that names types module-qualified.
import Foundation
import IncidentAPI
import IncidentCore
import IncidentStore
import RPC

/// RFC 3339 with fractional seconds, UTC: the format every timestamp in the API uses.
enum APITime {
    static func format(_ date: Date?) -> String {
        guard let date else { return "" }
        return Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }
}

extension IncidentAPI.Incident {
    /// The API view of a stored incident; the encrypted payload and the request's SHA-256 (a hash of the same
    /// secret-bearing request, so as sensitive) are left out unless `includePayload`.
    package init(_ incident: IncidentCore.Incident, includePayload: Bool) {
        self.init()
        id = incident.id.description
        status = incident.status.rawValue
        // The guide's field 3 is the level; the event's own word has a field of its own, and `priority` repeats
        // the level until its documented removal.
        severity = incident.priority.description
        eventSeverity = incident.severity.rawValue
        title = incident.title
        description = incident.description
        createdAt = APITime.format(incident.createdAt)
        updatedAt = APITime.format(incident.updatedAt)
        source = incident.source
        eventId = incident.eventID
        requestSha256 = includePayload ? incident.requestHash ?? "" : ""
        eventType = incident.eventType
        category = incident.category
        resource = IncidentAPI.Resource(incident.resource)
        metrics = incident.metrics
        tags = incident.tags
        assignedTeam = incident.assignedTeam
        escalationPolicy = incident.escalationPolicy
        priority = incident.priority.description
        eventCount = UInt64(max(0, incident.eventCount))
        acknowledgedAt = APITime.format(incident.acknowledgedAt)
        resolvedAt = APITime.format(incident.resolvedAt)
        version = UInt64(max(0, incident.version))
        position = UInt64(max(0, incident.position))
        actions = incident.remediationActions.map(IncidentAPI.RemediationAction.init)
        timeline = incident.timeline.map(IncidentAPI.TimelineEntry.init)
        if includePayload { encryptedPayload = incident.encryptedPayload ?? [] }
        setTimers(incident.timers)
        correlationKey = incident.correlationKey
        firstEventAt = APITime.format(incident.firstEventAt ?? incident.createdAt)
        lastEventAt = APITime.format(incident.lastEventAt ?? incident.createdAt)
        relatedIncidents = incident.relatedIncidents
        resolution = incident.resolution.map { details in
            var message = IncidentAPI.ResolutionDetails()
            message.rootCause = details.rootCause
            message.actionsTaken = details.actionsTaken
            return message
        }
    }
}

extension IncidentAPI.IncidentEvent {
    /// The API view of one recorded event.
    init(_ event: RecordedEvent) {
        self.init()
        source = event.source
        eventId = event.eventID
        receivedAt = APITime.format(event.receivedAt)
        eventSeverity = event.severity?.rawValue ?? ""
        severity = event.priority?.description ?? ""
        eventType = event.eventType
        category = event.category
        title = event.title
        description = event.description
        resource = IncidentAPI.Resource(event.resource)
        metrics = event.metrics
        tags = event.tags
        sourceVersion = event.sourceVersion
    }
}

extension IncidentAPI.Resource {
    init(_ resource: IncidentCore.Resource) {
        self.init()
        type = resource.type
        id = resource.id
        name = resource.name
        metadata = resource.metadata
    }
}

extension IncidentCore.Resource {
    init(_ resource: IncidentAPI.Resource?) {
        guard let resource else {
            self.init()
            return
        }
        self.init(type: resource.type, id: resource.id, name: resource.name, metadata: resource.metadata)
    }
}

extension IncidentAPI.TimelineEntry {
    init(_ entry: IncidentCore.TimelineEntry) {
        self.init()
        at = APITime.format(entry.at)
        kind = entry.kind
        actor = entry.actor
        message = entry.message
        position = UInt64(max(0, entry.position))
        details = entry.details
    }
}

extension IncidentAPI.RemediationAction {
    init(_ action: IncidentCore.RemediationAction) {
        self.init()
        id = action.id
        type = action.kind
        state = ActionState(action.state)
        var parameters = action.params
        reason = parameters.removeValue(forKey: "reason") ?? ""
        setDecision(from: &parameters)
        self.parameters = parameters
    }
}

extension ActionState {
    /// The API state for a stored action state (the rules' verdict, a decision, the runner's outcome).
    init(_ state: IncidentCore.RemediationAction.State) {
        switch state {
        case .pending, .approved: self = .approved
        case .awaitingApproval: self = .pendingApproval
        case .rejected, .denied: self = .rejected
        case .running: self = .running
        case .done, .succeeded: self = .succeeded
        case .failed: self = .failed
        case .skipped, .dryRun, .suppressedByCooldown, .cappedByBlastRadius: self = .skipped
        case .compensated: self = .compensated
        default: self = .unspecified
        }
    }
}

extension SecurityEvent {
    /// The event a CreateIncident request reports, before validation.
    package init(_ request: IncidentAPI.CreateIncidentRequest) {
        self.init(
            eventID: request.eventId, source: request.source, sourceVersion: request.sourceVersion,
            timestamp: request.timestamp, eventType: request.eventType, category: request.category,
            title: request.title, description: request.description, severity: request.severity,
            resource: IncidentCore.Resource(request.resource), metrics: request.metrics, tags: request.tags,
            encryptedPayload: request.encryptedPayload)
    }
}

extension UpdateChangeRequest {
    /// The change an UpdateIncident request asks for, before checking.
    package init(_ request: UpdateIncidentRequest) {
        let resolution: ResolutionChoice = switch request.resolution {
        case .unspecified: .unspecified
        case .fixed: .fixed
        case .falsePositive: .falsePositive
        default: .unknown
        }
        self.init(
            incidentID: request.incidentId, expectedVersion: request.expectedVersion, status: request.status,
            severity: request.severity, assignedTeam: request.assignedTeam, note: request.note,
            actionDecisions: request.actionDecisions.map { decision in
                let verdict: ApprovalVerdict? = switch decision.decision {
                case .approve: .approve
                case .reject: .reject
                default: nil
                }
                return ActionDecisionRequest(actionID: decision.actionId, verdict: verdict, reason: decision.reason)
            },
            resolution: resolution, rootCause: request.rootCause, actionsTaken: request.actionsTaken)
    }
}

extension IncidentAPI.Incident {
    /// The answer for an incident as its caller may see it.
    package init(_ view: IncidentView) {
        switch view {
        case .full(let incident, let includesPayload):
            self.init(incident, includePayload: includesPayload)
        case .versionOnly(let id, let version, let position):
            self.init()
            self.id = id.description
            self.version = UInt64(max(0, version))
            self.position = UInt64(max(0, position))
        }
    }
}

extension IncidentListRequest {
    /// The filters a ListIncidents request names, before checking.
    package init(_ request: ListIncidentsRequest) {
        self.init(severities: request.severities, statuses: request.statuses, categories: request.categories,
                  createdAfter: request.createdAfter, createdBefore: request.createdBefore,
                  assignedTeam: request.assignedTeam, pageToken: request.pageToken, pageSize: request.pageSize)
    }
}

extension IncidentStreamRequest {
    /// The filters and start a StreamIncidents request names, before checking.
    init(_ request: StreamIncidentsRequest) {
        self.init(severities: request.severities, categories: request.categories, statuses: request.statuses,
                  sources: request.sources, teams: request.assignedTeams,
                  sincePosition: Int64(clamping: request.sincePosition), fromNow: request.fromNow)
    }
}

extension IncidentChange {
    /// The change's incident as StreamIncidents sends it, without and with the encrypted payload (one encoding
    /// when there is no payload); the position and version say which change this was.
    func wireForms() -> (withPayload: EncodedMessage, withoutPayload: EncodedMessage) {
        var message = IncidentAPI.Incident(incident, includePayload: false)
        message.position = UInt64(max(0, position))
        message.version = UInt64(max(0, version))
        let withoutPayload = EncodedMessage(message.serializedBytes())
        let payload = incident.encryptedPayload ?? []
        let requestHash = incident.requestHash ?? ""
        guard !payload.isEmpty || !requestHash.isEmpty else { return (withoutPayload, withoutPayload) }
        message.encryptedPayload = payload
        message.requestSha256 = requestHash
        return (EncodedMessage(message.serializedBytes()), withoutPayload)
    }
}
