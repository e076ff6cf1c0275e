// The `escalate` timer jobs. The escalation policy in force when the incident was created travels frozen in each
// timer's payload, from the first timer (enqueued with the first page) to the last, so a config reload never
// changes an escalation already under way.
import Foundation
import IncidentCore
import IncidentStore

/// Builds and reads `escalate` jobs.
enum EscalationTimer {
    /// The timer that fires when `step` of `policy` has gone unacknowledged for its timeout. Payload: `step`,
    /// `policy` (the frozen policy as JSON).
    static func job(after step: EscalationStep, of policy: EscalationPolicy, priority: Priority) -> JobRequest {
        JobRequest(.escalation(after: step, of: policy, priority: priority))
    }

    static func encode(_ policy: EscalationPolicy) -> String { PlannedJob.encodedPolicy(policy) }

    /// `90s`, `15 min`: how long a level had, for people.
    static func describe(seconds: Double) -> String {
        seconds < 120 ? "\(Int(seconds.rounded()))s" : "\(Int((seconds / 60).rounded())) min"
    }
}
