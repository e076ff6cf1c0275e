// The `kind` of every timeline entry the service writes, in one place. These strings are stored in incidents and
// read by clients (the spec lists them): never change one, only add.

/// The machine-readable kinds of timeline entries.
public enum TimelineKind {
    public static let created = "created"
    /// An event folded into the incident (`correlated: <event_id>`); written by the store (schema version 9).
    public static let correlated = "correlated"
    /// After the first 20 folded events, one line per minute counts the rest; written by the store.
    public static let correlatedSummary = "correlated_summary"
    public static let redacted = "redacted"
    public static let routed = "routed"
    public static let pageScheduled = "page_scheduled"
    public static let remediationPlanned = "remediation_planned"
    public static let statusChanged = "status_changed"
    public static let severityChanged = "severity_changed"
    public static let assigned = "assigned"
    public static let note = "note"
    public static let actionApproved = "action_approved"
    public static let actionRejected = "action_rejected"
    public static let actionDenied = "action_denied"
    public static let resolution = "resolution"
    /// The incident's Jira issue was opened or found (details `key`, `url`).
    public static let jiraLinked = "jira_linked"
    /// Root cause and actions taken were recorded (UpdateIncident's `root_cause`, `actions_taken`).
    public static let resolutionRecorded = "resolution_recorded"
    public static let compensationScheduled = "compensation_scheduled"
    public static let escalated = "escalated"
    public static let slaBreached = "sla_breached"
    // What the job handlers report.
    public static let paged = "paged"
    public static let pageAcknowledged = "page_acknowledged"
    public static let pageResolved = "page_resolved"
    public static let pageFailed = "page_failed"
    public static let notified = "notified"
    public static let notifyFailed = "notify_failed"
    public static let webhookSent = "webhook_sent"
    public static let webhookFailed = "webhook_failed"
    public static let remediationDone = "remediation_done"
    public static let remediationFailed = "remediation_failed"
    public static let remediationCompensated = "remediation_compensated"
    public static let compensationSkipped = "compensation_skipped"
    public static let compensationFailed = "compensation_failed"
}
