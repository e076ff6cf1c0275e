// The contract between the job runner and the code that acts on jobs: the job kinds the service enqueues, what
// each carries in its payload, and what running one came to. The runner claims jobs highest priority first and
// hands each to the handler that names its kind.
import IncidentStore

/// The kinds of background job the service enqueues; the raw value is what the `jobs` table stores.
enum JobKind: String, Sendable, CaseIterable {
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

/// What running one job came to.
enum JobResult: Sendable, Equatable {
    /// Finished (or nothing left to do, e.g. the incident was acknowledged before the escalation timer fired).
    case done
    /// Failed in a way worth retrying (timeout, 5xx, 429); the queue retries with backoff until out of attempts.
    case retry(reason: String)
    /// Will never succeed (4xx, unknown action): dead-lettered at once. Keep secrets and PII out of the reason.
    case failed(reason: String)
}

/// Runs the jobs of the kinds it names.
protocol JobHandler: Sendable {
    /// The kinds this handler runs.
    var kinds: [JobKind] { get }
    /// Runs one claimed job. Must be safe to run again with the same job (the lease may expire mid-run):
    /// use `job.idempotencyKey` toward the outside world.
    func run(_ job: ClaimedJob) async throws -> JobResult
}
