// The jobs decisions start, before they are stored. The store keeps a job as a (kind string, payload map) pair;
// `JobKind`'s raw values are those stored strings, so existing rows and queued jobs keep decoding.
import Foundation

/// What a job does; the raw value is the `kind` the job queue stores and the runner dispatches on.
public enum JobKind: String, Sendable, CaseIterable {
    /// PagerDuty `trigger` for a P0/P1 or an escalation. Payload: `reason`; optionally `dedup_key` (default the
    /// incident id), `integration_key` (a `${VARIABLE}` reference; default `service_routing`'s), `level`, `targets`.
    case pageTrigger = "page.trigger"
    /// PagerDuty `acknowledge`, after the incident was acknowledged. Payload: `actor`; without `dedup_key` it fans
    /// out into one such job per alert the triggers opened, with the trigger's `dedup_key` and `integration_key`.
    case pageAcknowledge = "page.acknowledge"
    /// PagerDuty `resolve`, after the incident was resolved; fans out as `page.acknowledge` does.
    case pageResolve = "page.resolve"
    /// A Slack message to one channel. Payload: `channel`, `event` (`incident_created`, `escalated`, ...).
    case slackNotify = "notify.slack"
    /// One configured generic webhook. Payload: `webhook` (its name), `trigger` (`incident_created`, ...).
    case webhook = "webhook"
    /// Runs one remediation action. Payload: `action_id` (the incident's action id).
    case remediate = "remediate"
    /// Undoes a remediation action (e.g. unblock after the rule's TTL). Payload: `action_id`.
    case compensate = "remediate.compensate"
    /// Escalation timer: fires when the current level was not acknowledged in time. Payload: `step`.
    case escalate = "escalate"
    /// SLA timer. Payload: `clock` (`acknowledge` or `resolve`).
    case slaCheck = "sla.check"
    /// An approval's TTL ran out: the action becomes `denied` unless decided before. Payload: `action_id`.
    case approvalExpiry = "approval.expire"
}

/// One job a decision starts: what, under which idempotency key, at which priority, when and how often.
public struct PlannedJob: Sendable, Hashable {
    public var kind: JobKind
    /// Idempotency key, scoped to the incident: the same key is never enqueued twice.
    public var key: String
    public var priority: Priority
    /// How long after the commit the job becomes due (timers, TTLs).
    public var delay: Duration
    public var maxAttempts: Int
    public var payload: [String: String]

    public init(_ kind: JobKind, key: String, priority: Priority, delay: Duration = .zero, maxAttempts: Int = 5,
                payload: [String: String] = [:]) {
        self.kind = kind
        self.key = key
        self.priority = priority
        self.delay = delay
        self.maxAttempts = maxAttempts
        self.payload = payload
    }

    /// The `escalate` timer that fires when `step` of `policy` has gone unacknowledged for its timeout. The policy
    /// travels frozen in the payload (`step`, `policy` as JSON), so a config reload never changes an escalation
    /// already under way.
    public static func escalation(after step: EscalationStep, of policy: EscalationPolicy,
                                  priority: Priority) -> PlannedJob {
        PlannedJob(.escalate, key: "escalate:\(step.index)", priority: priority,
                   delay: .milliseconds(Int64((step.timeoutSeconds * 1000).rounded())),
                   payload: ["step": String(step.index), "policy": encodedPolicy(policy)])
    }

    /// `policy` as the sorted-keys JSON an `escalate` job carries.
    public static func encodedPolicy(_ policy: EscalationPolicy) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain strings, numbers and arrays cannot fail.
        return String(decoding: (try? encoder.encode(policy)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// Executor inputs carried in action job payloads under `input.`-prefixed keys: the unredacted parameters a
/// remediation executor needs, which no RPC returns and the job runner never logs.
public enum ExecutorInputPayload {
    public static let prefix = "input."

    /// `parameters` as payload entries, to merge into an action job's payload.
    public static func payload(_ parameters: [String: String]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: parameters.map { (prefix + $0.key, $0.value) })
    }
}
