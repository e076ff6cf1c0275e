// What callers hand the store to create and update incidents, and what they get back.
import IncidentCore
import Foundation

/// A job to enqueue in the same transaction as an incident change (a page, a remediation action, a timer).
public struct JobRequest: Sendable, Hashable {
    /// What the job does, e.g. `page` or `remediate.block_ip`; workers dispatch on it.
    public var kind: String
    /// Idempotency key, scoped by the store to the incident; the same key is never enqueued twice.
    public var key: String
    public var priority: Priority
    /// How long after the commit the job becomes due (escalation timers).
    public var delay: Duration
    public var maxAttempts: Int
    public var payload: [String: String]

    public init(kind: String, key: String, priority: Priority, delay: Duration = .zero, maxAttempts: Int = 5,
                payload: [String: String] = [:]) {
        self.kind = kind
        self.key = key
        self.priority = priority
        self.delay = delay
        self.maxAttempts = maxAttempts
        self.payload = payload
    }
}

/// One event to turn into an incident (or recognise as a replay).
public struct CreateIncidentRequest: Sendable, Hashable {
    public var draft: IncidentDraft
    /// Who reported it: the caller's certificate identity; recorded in the audit trail.
    public var actor: String
    /// Jobs to enqueue if this creates a new incident; a replay or a folded event enqueues nothing.
    public var jobs: [JobRequest]
    /// The key this event correlates on: it folds into the open incident holding the key within the window.
    public var correlation: CorrelationKey?
    /// Jobs to enqueue if the event folds into an incident of a less urgent level and so raises it.
    public var raiseJobs: [JobRequest]

    public init(draft: IncidentDraft, actor: String, jobs: [JobRequest] = [], correlation: CorrelationKey? = nil,
                raiseJobs: [JobRequest] = []) {
        self.draft = draft
        self.actor = actor
        self.jobs = jobs
        self.correlation = correlation
        self.raiseJobs = raiseJobs
    }
}

/// The committed outcome of a create.
public struct CreateIncidentResult: Sendable, Hashable {
    public var incidentID: IncidentID
    /// True when the event was already known with the same content: nothing new was created.
    public var duplicate: Bool
    /// True when the event folded into the open incident `incidentID` of its correlation key.
    public var correlated = false
    /// True when the folded event raised that incident's level (its `raiseJobs` were enqueued).
    public var raised = false
    public var version: Int64
    /// The change-log position of this change.
    public var position: Int64
}

/// A conditional change to an incident; nil fields stay as they are.
public struct IncidentUpdate: Sendable, Hashable {
    public var incidentID: IncidentID
    /// The version the caller read; a different current version is a `versionConflict`.
    public var expectedVersion: Int64
    /// The caller's certificate identity, for the audit trail.
    public var actor: String
    public var status: IncidentStatus?
    /// A new severity; set together with `priority`, its configured mapping.
    public var severity: Severity?
    public var priority: Priority?
    public var assignedTeam: String?
    public var escalationPolicy: String?
    /// Replaces all tags when set.
    public var tags: [String: String]?
    /// Appended to the timeline.
    public var timelineEntries: [TimelineEntry]
    /// Replaces the remediation actions when set.
    public var remediationActions: [RemediationAction]?
    public var jobs: [JobRequest]
    /// Replaces the resolution record (root cause, actions taken) when set; audited as field `resolution`.
    public var resolution: ResolutionDetails?

    public init(incidentID: IncidentID, expectedVersion: Int64, actor: String, status: IncidentStatus? = nil,
                assignedTeam: String? = nil, escalationPolicy: String? = nil, tags: [String: String]? = nil,
                timelineEntries: [TimelineEntry] = [], remediationActions: [RemediationAction]? = nil,
                jobs: [JobRequest] = [], severity: Severity? = nil, priority: Priority? = nil,
                resolution: ResolutionDetails? = nil) {
        self.resolution = resolution
        self.incidentID = incidentID
        self.expectedVersion = expectedVersion
        self.actor = actor
        self.status = status
        self.severity = severity
        self.priority = priority
        self.assignedTeam = assignedTeam
        self.escalationPolicy = escalationPolicy
        self.tags = tags
        self.timelineEntries = timelineEntries
        self.remediationActions = remediationActions
        self.jobs = jobs
    }
}

/// The committed outcome of an update.
public struct UpdateIncidentResult: Sendable, Hashable {
    public var version: Int64
    public var position: Int64
}

/// Filters and a page for listing incidents, newest first. A list filter matches any of its values; an empty
/// list matches everything; the single-value filters combine with the lists (both must hold).
public struct IncidentQuery: Sendable, Hashable {
    public var status: IncidentStatus?
    public var severity: Severity?
    public var statuses: [IncidentStatus] = []
    /// Event words; an incident matches one of these or one of `levels` (the API's one `severities` filter).
    public var severities: [Severity] = []
    /// Levels (priorities); see `severities`.
    public var levels: [Priority] = []
    public var categories: [String] = []
    /// Only incidents created at or after this time.
    public var createdAfter: Date?
    /// Only incidents created before this time.
    public var createdBefore: Date?
    /// Only incidents at this priority or more urgent.
    public var maxPriority: Priority?
    public var source: String?
    public var assignedTeam: String?
    /// The `nextCursor` of the previous page; nil starts at the newest.
    public var cursor: String?
    public var limit: Int
    /// Whether to read each incident's encrypted payload: only for callers allowed to see it.
    public var includePayload = false
    /// The page stops adding incidents once their estimated size reaches this many bytes (it holds at least one,
    /// and the one that crosses the budget), and pages on: a page then always fits one gRPC message.
    public var byteBudget = IncidentStore.pageByteBudget

    public init(status: IncidentStatus? = nil, severity: Severity? = nil, maxPriority: Priority? = nil,
                source: String? = nil, assignedTeam: String? = nil, cursor: String? = nil, limit: Int = 50) {
        self.status = status
        self.severity = severity
        self.maxPriority = maxPriority
        self.source = source
        self.assignedTeam = assignedTeam
        self.cursor = cursor
        self.limit = limit
    }
}

/// One page of incidents and where the next page starts.
public struct IncidentPage: Sendable, Hashable {
    public var incidents: [Incident]
    /// Opaque; nil when this was the last page.
    public var nextCursor: String?
}

/// Consecutive change-feed entries read in one go, and whether the read stopped early at its byte budget.
public struct IncidentChangeBatch: Sendable, Hashable {
    public var changes: [IncidentChange]
    /// True when more changes may follow right after the last one although fewer than the limit came: the byte
    /// budget ended the batch. Readers must not take a short batch for the end of the log then.
    public var stoppedAtByteBudget: Bool
}

/// One entry of the change feed with the incident as that change left it.
public struct IncidentChange: Sendable, Hashable {
    public var position: Int64
    /// `created`, `event_repeated` or `updated`.
    public var kind: String
    /// The incident version this change produced.
    public var version: Int64
    public var committedAt: Date
    /// The incident right after this change (as it is now for changes written before schema version 3).
    public var incident: Incident
}

/// The result of re-computing the audit hash chain.
public struct AuditChainReport: Sendable, Hashable {
    public var entries: Int
    /// The first entry whose hash or link does not match; nil when the chain is intact.
    public var firstBrokenSequence: Int64?
    /// Whether the chain head still matches the last entry (catches a deleted tail).
    public var headMatches: Bool

    public var isIntact: Bool { firstBrokenSequence == nil && headMatches }
}
