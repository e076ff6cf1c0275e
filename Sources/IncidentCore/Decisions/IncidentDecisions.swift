// The service's decisions, pure: given an incident (or an event), a caller and the time, what should change and
// which jobs start. No I/O and no transport types: the intake reads and writes, the doors translate.
import Foundation

/// Decides creates and updates from the configuration; every front door's requests end up here.
public struct IncidentDecisions: Sendable {
    public let config: ServiceConfig
    let drafts: DraftBuilder
    let validator = EventValidator()

    public init(config: ServiceConfig) {
        self.config = config
        self.drafts = DraftBuilder(security: config.security)
    }
}

/// What one update writes: its fields, timeline entries, action changes and jobs, all in one transaction.
public struct UpdatePlan: Sendable, Hashable {
    /// The version the write expects (the caller's, or the one just read).
    public var expectedVersion: Int64
    public var status: IncidentStatus?
    public var assignedTeam: String?
    /// A new event word, when the caller named a different one.
    public var severity: Severity?
    /// A new level, when it differs from the incident's.
    public var priority: Priority?
    public var timelineEntries: [TimelineEntry]
    /// The whole action list, when a decision changed one.
    public var remediationActions: [RemediationAction]?
    public var jobs: [PlannedJob]
    /// The incident's whole resolution record after this update, when the update records one.
    public var resolution: ResolutionDetails?

    /// True when the update would change nothing (only the severity the incident already has): answer the incident
    /// as it is rather than bump its version.
    public var changesNothing: Bool {
        timelineEntries.isEmpty && status == nil && assignedTeam == nil && resolution == nil
    }
}

/// A new incident ready to be written: its level, draft and jobs, and what its rules plan reserved.
public struct CreatePlan: Sendable {
    public var level: Priority
    public var draft: IncidentDraft
    public var jobs: [PlannedJob]
    /// The cooldowns and blast-radius counts the rules plan took; given back when the create is a replay, folds
    /// into an open incident, or fails.
    public var reservation: PlanReservation
    /// The key the event folds on into an open incident; nil when it always opens its own.
    public var correlation: CorrelationKey?
    /// What a fold that raises the incident to `level` starts (see `raiseJobs(from:level:)`).
    public var raiseJobs: [PlannedJob] = []
}
