// What the escalation and SLA timers write: their facts, recorded at most once, with timeline entries and
// follow-up jobs in the same transaction; and whether an incident was ever paged.
import Foundation
import IncidentCore

/// A change a timer job makes to an incident: an escalation step or an SLA breach, recorded at most once.
public struct TimerChange: Sendable, Hashable {
    public var incidentID: IncidentID
    /// The version the timer read; a different current version is a `versionConflict` (read again, decide again).
    public var expectedVersion: Int64
    /// Who records it, for the audit trail (`system`).
    public var actor: String
    /// The escalation step now paged; ignored (`alreadyRecorded`) unless above the recorded one.
    public var escalationStep: Int?
    /// The SLA breach to record; ignored (`alreadyRecorded`) when that clock's breach is already recorded.
    public var slaBreach: SLABreach?
    /// Appended to the timeline.
    public var timelineEntries: [TimelineEntry]
    /// Enqueued in the same transaction (re-pages, webhooks, the next timer).
    public var jobs: [JobRequest]

    public init(incidentID: IncidentID, expectedVersion: Int64, actor: String, escalationStep: Int? = nil,
                slaBreach: SLABreach? = nil, timelineEntries: [TimelineEntry] = [], jobs: [JobRequest] = []) {
        self.incidentID = incidentID
        self.expectedVersion = expectedVersion
        self.actor = actor
        self.escalationStep = escalationStep
        self.slaBreach = slaBreach
        self.timelineEntries = timelineEntries
        self.jobs = jobs
    }
}

/// What became of a timer change.
public enum TimerChangeOutcome: Sendable, Hashable {
    /// Written, with the incident's new version and change position.
    case recorded(UpdateIncidentResult)
    /// The step or breach was already on the incident: nothing was written.
    case alreadyRecorded
}

extension IncidentStore {
    /// Records a timer's fact with its timeline entries and jobs in one transaction, at most once.
    /// Throws `notFound`, or `versionConflict` when the incident changed since it was read.
    public func recordTimerChange(_ change: TimerChange) async throws -> TimerChangeOutcome {
        let statement = Statement("""
            SELECT outcome, version, change_position AS position FROM im_record_timer(
                $1::text, $2::bigint, $3::text, $4::integer, $5::jsonb, $6::jsonb, $7::jsonb)
            """, [
                change.incidentID.description, change.expectedVersion, change.actor, change.escalationStep,
                try change.slaBreach.map(JSONColumn.encode), try JSONColumn.encode(change.timelineEntries),
                try JSONColumn.encode(change.jobs.map(JobRecord.init)),
            ])
        let row = try await pool.withTransaction { connection in
            guard let row = try connection.run(statement).first else {
                throw PostgresError(.decoding, message: "im_record_timer returned no row")
            }
            return row
        }
        let id = change.incidentID.description
        switch try decoding({ try row.decode("outcome", as: String.self) }) {
        case "not_found": throw StoreError.notFound(incidentID: id)
        case "already": return .alreadyRecorded
        case "conflict":
            throw StoreError.versionConflict(incidentID: id, expected: change.expectedVersion,
                                             actual: try decoding { try row.decode("version") })
        default:
            if !change.jobs.isEmpty { jobs.signalEnqueued() }
            return .recorded(try decoding {
                UpdateIncidentResult(version: try row.decode("version"), position: try row.decode("position"))
            })
        }
    }

    /// Whether a job of `kind` was ever enqueued for the incident, e.g. `page.trigger`: only an incident that
    /// was paged has a PagerDuty alert to acknowledge or resolve.
    public func hasJob(kind: String, incidentID: IncidentID) async throws -> Bool {
        let result = try await pool.withConnection { connection in
            try connection.query("SELECT EXISTS (SELECT 1 FROM jobs WHERE incident_id = $1 AND kind = $2) AS found",
                                 [incidentID.description, kind])
        }
        return try decoding { try result.first?.decode("found", as: Bool.self) ?? false }
    }
}
