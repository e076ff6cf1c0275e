// An UpdateIncident as any front door receives it (names as the caller wrote them) and the checked change the
// update decisions work on. Checking needs no incident, so a bad field is refused before anything is read.
import Foundation

/// An update as a door received it, not yet checked; every field optional except the incident id.
public struct UpdateChangeRequest: Sendable, Hashable {
    public var incidentID: String
    /// The version the caller read; 0 means "as it is now" (the intake retries a concurrent change).
    public var expectedVersion: UInt64
    public var status: String?
    public var severity: String?
    public var assignedTeam: String?
    public var note: String
    public var actionDecisions: [ActionDecisionRequest]
    public var resolution: ResolutionChoice
    /// The event's own source says the condition is over (an Alertmanager `resolved` alert): RESOLVED may then be
    /// reached from any open status in one step. Set only by a door translating its source's resolve, never from a
    /// caller's request body.
    public var resolvedAtSource = false
    /// `root_cause` (nil: not sent) and `actions_taken` (empty: not sent).
    public var rootCause: String?
    public var actionsTaken: [String]

    public init(incidentID: String, expectedVersion: UInt64 = 0, status: String? = nil, severity: String? = nil,
                assignedTeam: String? = nil, note: String = "", actionDecisions: [ActionDecisionRequest] = [],
                resolution: ResolutionChoice = .unspecified, rootCause: String? = nil, actionsTaken: [String] = []) {
        self.rootCause = rootCause
        self.actionsTaken = actionsTaken
        self.incidentID = incidentID
        self.expectedVersion = expectedVersion
        self.status = status
        self.severity = severity
        self.assignedTeam = assignedTeam
        self.note = note
        self.actionDecisions = actionDecisions
        self.resolution = resolution
    }
}

/// One approve/reject of an action awaiting approval; `verdict` nil when the caller sent neither.
public struct ActionDecisionRequest: Sendable, Hashable {
    public var actionID: String
    public var verdict: ApprovalVerdict?
    public var reason: String

    public init(actionID: String, verdict: ApprovalVerdict?, reason: String = "") {
        self.actionID = actionID
        self.verdict = verdict
        self.reason = reason
    }
}

/// How a resolution closes the incident, as the caller chose it.
public enum ResolutionChoice: Sendable, Hashable {
    case unspecified
    case fixed
    case falsePositive
    /// A value this server does not know (a newer client's enum value).
    case unknown
}

/// A checked update: each field parsed, the note trimmed, and at least one thing to change.
public struct UpdateChange: Sendable, Hashable {
    public var incidentID: IncidentID
    /// Nil: "as it is now".
    public var expectedVersion: Int64?
    public var status: IncidentStatus?
    public var severity: SeverityName?
    public var assignedTeam: String?
    public var note: String
    public var actionDecisions: [ActionDecisionRequest]
    public var resolution: ResolutionChoice
    /// A source's own resolve (see `UpdateChangeRequest.resolvedAtSource`), for a change to RESOLVED only.
    public var resolvedAtSource: Bool
    /// Root cause and actions taken, when the caller sent either.
    public var resolutionDetails: ResolutionDetails?

    /// Most bytes of a note.
    public static let maxNoteBytes = 4096

    /// Checks `request` field by field; the error names the first field to fix.
    public init(_ request: UpdateChangeRequest) throws(DomainError) {
        incidentID = try IncidentID.parse(request.incidentID)
        expectedVersion = request.expectedVersion == 0 ? nil : Int64(clamping: request.expectedVersion)
        status = try request.status.map { name throws(DomainError) in try IncidentStatus.parse(name) }
        severity = try request.severity.map { name throws(DomainError) in try SeverityName.parse(name) }
        assignedTeam = try request.assignedTeam.map { name throws(DomainError) in try Self.teamName(name) }
        note = request.note.trimmingCharacters(in: .whitespacesAndNewlines)
        guard note.utf8.count <= Self.maxNoteBytes else {
            throw DomainError(.invalidArgument, "note: is \(note.utf8.count) bytes; at most \(Self.maxNoteBytes)")
        }
        actionDecisions = request.actionDecisions
        resolution = request.resolution
        resolvedAtSource = request.resolvedAtSource && status == .resolved
        resolutionDetails = try ResolutionDetails.parse(rootCause: request.rootCause,
                                                        actionsTaken: request.actionsTaken)
        guard status != nil || severity != nil || assignedTeam != nil || !note.isEmpty || !actionDecisions.isEmpty
                || resolutionDetails != nil
        else {
            throw DomainError(.invalidArgument, "nothing to change: set status, severity, assigned_team, note, "
                              + "action_decisions, root_cause or actions_taken")
        }
    }

    /// A team name: trimmed, 1 to 128 bytes, no control characters.
    public static func teamName(_ name: String) throws(DomainError) -> String {
        let team = name.trimmingCharacters(in: .whitespaces)
        guard !team.isEmpty else { throw DomainError(.invalidArgument, "assigned_team: must not be empty") }
        guard team.utf8.count <= 128, !team.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw DomainError(.invalidArgument, "assigned_team: at most 128 bytes, no control characters") }
        return team
    }
}

extension IncidentID {
    /// The id a caller named in `field`, or the error that says what it must look like.
    public static func parse(_ text: String, field: String = "incident_id") throws(DomainError) -> IncidentID {
        guard !text.isEmpty else { throw DomainError(.invalidArgument, "\(field): is required") }
        guard let id = IncidentID(text) else {
            throw DomainError(.invalidArgument, "\(field): must look like INC-YYYYMMDD-NNNNN")
        }
        return id
    }
}

extension IncidentStatus {
    /// Parses `ACKNOWLEDGED`, `acknowledged`, `in-progress`, ... as a status.
    public static func parse(_ name: String, field: String = "status") throws(DomainError) -> IncidentStatus {
        let normalized = name.trimmingCharacters(in: .whitespaces).uppercased()
            .replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: " ", with: "_")
        guard let status = IncidentStatus(rawValue: normalized) else {
            let names = IncidentStatus.allCases.map(\.rawValue).joined(separator: ", ")
            throw DomainError(.invalidArgument, "\(field): \"\(name)\" is not one of \(names)")
        }
        return status
    }
}

extension SeverityName {
    /// Parses `P1`, `critical`, `High`, ... as a level or an event word.
    public static func parse(_ name: String, field: String = "severity") throws(DomainError) -> SeverityName {
        guard let severity = SeverityName(name) else {
            throw DomainError(.invalidArgument, "\(field): \(UnknownSeverityName(name: name).problem)")
        }
        return severity
    }
}
