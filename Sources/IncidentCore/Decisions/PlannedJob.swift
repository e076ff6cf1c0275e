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
    /// Opens the incident's Jira issue (one per incident: a retry searches before it creates). No payload.
    case jiraCreate = "jira.create"
    /// Carries one of our changes to the linked Jira issue. Payload: `status` (moves the issue through the configured
    /// transition) and/or `note` (added as a comment).
    case jiraSync = "jira.sync"
}

/// The work of one job with what it needs; `kind` and `payload` are its stored form, encoded here and nowhere else.
public enum Job: Sendable, Hashable {
    case pageTrigger(PageTrigger)
    /// PagerDuty `acknowledge` on behalf of `actor`: of one `alert`, or (nil) of every alert the triggers opened.
    case pageAcknowledge(actor: String, alert: PageAlert? = nil)
    /// PagerDuty `resolve` on behalf of `actor`, of one `alert` or (nil) of every one.
    case pageResolve(actor: String, alert: PageAlert? = nil)
    /// A Slack message about `event` (`incident_created`, `escalated`, ...) to `channel`.
    case slackNotify(channel: String, event: String)
    /// The configured webhook `name`, for `trigger` (`incident_created`, `incident_resolved`, ...).
    case webhook(name: String, trigger: String)
    /// Runs action `actionID`; `inputs` are the executor's unredacted parameters (empty: found in an earlier job).
    case remediate(actionID: String, inputs: [String: String] = [:])
    /// Undoes action `actionID`; `reason` is `false_positive` when a resolution asked for it, nil after a TTL.
    case compensate(actionID: String, inputs: [String: String] = [:], reason: String? = nil)
    /// Escalation timer for `step` of the frozen `policy` (nil in timers stored before policies were frozen: the
    /// configured one applies).
    case escalate(step: Int, policy: EscalationPolicy?)
    /// SLA timer for `clock`; `dueAt` when it re-checks a deadline that moved.
    case slaCheck(clock: SLAKind, dueAt: Double? = nil)
    /// Approval TTL of action `actionID`.
    case approvalExpiry(actionID: String, inputs: [String: String] = [:])
    /// The incident's Jira issue.
    case jiraCreate
    /// Our new `status` and/or `note`, for the linked Jira issue.
    case jiraSync(status: String?, note: String?)

    /// A PagerDuty trigger: the first page of an incident or an escalation step's.
    public struct PageTrigger: Sendable, Hashable {
        public var reason: String
        /// The escalation step that pages (nil for the first page).
        public var step: Int?
        /// The policy level paged, from 1, with its targets; nil when the service routing's key is used.
        public var level: Int?
        public var targets: String?
        /// The alert it opens (nil: the incident id).
        public var dedupKey: String?
        /// A level's own key, as its `${VARIABLE}` reference (never the key itself).
        public var integrationKey: String?

        public init(reason: String, step: Int? = nil, level: Int? = nil, targets: String? = nil,
                    dedupKey: String? = nil, integrationKey: String? = nil) {
            self.reason = reason
            self.step = step
            self.level = level
            self.targets = targets
            self.dedupKey = dedupKey
            self.integrationKey = integrationKey
        }
    }

    /// One alert a trigger opened: the dedup key it was opened under and the key it went to.
    public struct PageAlert: Sendable, Hashable {
        public var dedupKey: String
        /// The `${VARIABLE}` reference of the key the trigger used (nil: `service_routing`'s).
        public var integrationKey: String?
        public var level: Int?
        public var targets: String?

        public init(dedupKey: String, integrationKey: String? = nil, level: Int? = nil, targets: String? = nil) {
            self.dedupKey = dedupKey
            self.integrationKey = integrationKey
            self.level = level
            self.targets = targets
        }

        /// The alert `trigger` opens (`incidentID` when it names no dedup key).
        public init(of trigger: PageTrigger, incidentID: String) {
            self.init(dedupKey: trigger.dedupKey ?? incidentID, integrationKey: trigger.integrationKey,
                      level: trigger.level, targets: trigger.targets)
        }
    }

    /// The kind the queue stores and the runner dispatches on.
    public var kind: JobKind {
        switch self {
        case .pageTrigger: .pageTrigger
        case .pageAcknowledge: .pageAcknowledge
        case .pageResolve: .pageResolve
        case .slackNotify: .slackNotify
        case .webhook: .webhook
        case .remediate: .remediate
        case .compensate: .compensate
        case .escalate: .escalate
        case .slaCheck: .slaCheck
        case .approvalExpiry: .approvalExpiry
        case .jiraCreate: .jiraCreate
        case .jiraSync: .jiraSync
        }
    }

    /// The payload the queue stores; the handlers read these keys (documented on `JobKind`).
    public var payload: [String: String] {
        switch self {
        case .pageTrigger(let page):
            var payload = ["reason": page.reason]
            payload["step"] = page.step.map(String.init)
            payload["level"] = page.level.map(String.init)
            payload["targets"] = page.targets
            payload["dedup_key"] = page.dedupKey
            payload["integration_key"] = page.integrationKey
            return payload
        case .pageAcknowledge(let actor, let alert), .pageResolve(let actor, let alert):
            var payload = ["actor": actor]
            if let alert {
                payload["dedup_key"] = alert.dedupKey
                payload["integration_key"] = alert.integrationKey
                payload["level"] = alert.level.map(String.init)
                payload["targets"] = alert.targets
            }
            return payload
        case .slackNotify(let channel, let event):
            return ["channel": channel, "event": event]
        case .webhook(let name, let trigger):
            return ["webhook": name, "trigger": trigger]
        case .remediate(let actionID, let inputs), .approvalExpiry(let actionID, let inputs):
            return Self.action(actionID, inputs: inputs)
        case .compensate(let actionID, let inputs, let reason):
            var payload = Self.action(actionID, inputs: inputs)
            payload["reason"] = reason
            return payload
        case .escalate(let step, let policy):
            var payload = ["step": String(step)]
            payload["policy"] = policy.map(PlannedJob.encodedPolicy)
            return payload
        case .slaCheck(let clock, let dueAt):
            var payload = ["clock": clock.rawValue]
            payload["due_at"] = dueAt.map { String($0) }
            return payload
        case .jiraCreate:
            return [:]
        case .jiraSync(let status, let note):
            var payload: [String: String] = [:]
            payload["status"] = status
            payload["note"] = note
            return payload
        }
    }

    private static func action(_ id: String, inputs: [String: String]) -> [String: String] {
        ExecutorInputPayload.payload(inputs).merging(["action_id": id]) { $1 }
    }

    /// Decodes a stored job, the inverse of `kind` and `payload`: handlers read typed work, never payload keys.
    /// Optional fields left out of older rows decode as absent; a missing required field is an error naming it.
    public init(kind name: String, payload: [String: String]) throws(JobPayloadError) {
        guard let kind = JobKind(rawValue: name) else { throw JobPayloadError(kind: name, problem: "unknown kind") }
        func required(_ key: String) throws(JobPayloadError) -> String {
            guard let value = payload[key], !value.isEmpty else {
                throw JobPayloadError(kind: name, problem: "no \(key)")
            }
            return value
        }
        func number(_ key: String) throws(JobPayloadError) -> Int? {
            guard let text = payload[key] else { return nil }
            guard let value = Int(text), value >= 0 else {
                throw JobPayloadError(kind: name, problem: "\(key) is not a count")
            }
            return value
        }
        let inputs = ExecutorInputPayload.inputs(in: payload)
        switch kind {
        case .pageTrigger:
            self = .pageTrigger(PageTrigger(
                reason: payload["reason"] ?? "auto_page", step: try number("step"), level: try number("level"),
                targets: payload["targets"], dedupKey: payload["dedup_key"], integrationKey: payload["integration_key"]))
        case .pageAcknowledge, .pageResolve:
            let alert = try payload["dedup_key"].map { key throws(JobPayloadError) in
                PageAlert(dedupKey: key, integrationKey: payload["integration_key"], level: try number("level"),
                          targets: payload["targets"])
            }
            let actor = payload["actor"] ?? ""
            self = kind == .pageAcknowledge ? .pageAcknowledge(actor: actor, alert: alert)
                : .pageResolve(actor: actor, alert: alert)
        case .slackNotify:
            self = .slackNotify(channel: payload["channel"] ?? "", event: payload["event"] ?? "incident_created")
        case .webhook:
            self = .webhook(name: try required("webhook"), trigger: try required("trigger"))
        case .remediate:
            self = .remediate(actionID: try required("action_id"), inputs: inputs)
        case .compensate:
            self = .compensate(actionID: try required("action_id"), inputs: inputs, reason: payload["reason"])
        case .approvalExpiry:
            self = .approvalExpiry(actionID: try required("action_id"), inputs: inputs)
        case .escalate:
            guard let step = try number("step") else { throw JobPayloadError(kind: name, problem: "no step") }
            self = .escalate(step: step, policy: PlannedJob.decodedPolicy(payload["policy"]))
        case .slaCheck:
            guard let clock = SLAKind(rawValue: try required("clock")) else {
                throw JobPayloadError(kind: name, problem: "clock is not acknowledge or resolve")
            }
            self = .slaCheck(clock: clock, dueAt: payload["due_at"].flatMap(Double.init))
        case .jiraCreate:
            self = .jiraCreate
        case .jiraSync:
            self = .jiraSync(status: payload["status"], note: payload["note"])
        }
    }
}

/// A stored job whose kind or payload does not decode: which kind, and what is missing or wrong.
public struct JobPayloadError: Error, Sendable, Hashable, CustomStringConvertible {
    public var kind: String
    public var problem: String

    public init(kind: String, problem: String) {
        self.kind = kind
        self.problem = problem
    }

    public var description: String { "\(kind) job: \(problem)" }
}

/// One job a decision starts: its work, idempotency key, priority, when and how often.
public struct PlannedJob: Sendable, Hashable {
    public var job: Job
    /// Idempotency key, scoped to the incident: the same key is never enqueued twice.
    public var key: String
    public var priority: Priority
    /// How long after the commit the job becomes due (timers, TTLs).
    public var delay: Duration
    public var maxAttempts: Int

    public var kind: JobKind { job.kind }
    public var payload: [String: String] { job.payload }

    public init(_ job: Job, key: String, priority: Priority, delay: Duration = .zero, maxAttempts: Int = 5) {
        self.job = job
        self.key = key
        self.priority = priority
        self.delay = delay
        self.maxAttempts = maxAttempts
    }

    /// The `escalate` timer that fires when `step` of `policy` has gone unacknowledged for its timeout. The policy
    /// travels frozen in the payload, so a config reload never changes an escalation already under way.
    public static func escalation(after step: EscalationStep, of policy: EscalationPolicy,
                                  priority: Priority) -> PlannedJob {
        PlannedJob(.escalate(step: step.index, policy: policy), key: "escalate:\(step.index)", priority: priority,
                   delay: .milliseconds(Int64((step.timeoutSeconds * 1000).rounded())))
    }

    /// The frozen policy an `escalate` job carries; nil when it carries none (or one that is not usable).
    public static func decodedPolicy(_ text: String?) -> EscalationPolicy? {
        guard let text, let policy = try? JSONDecoder().decode(EscalationPolicy.self, from: Data(text.utf8)),
              !policy.levels.isEmpty, policy.repeats >= 0 else { return nil }
        return policy
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

    /// The inputs a payload carries (empty when it carries none).
    public static func inputs(in payload: [String: String]) -> [String: String] {
        var inputs: [String: String] = [:]
        for (key, value) in payload where key.hasPrefix(prefix) { inputs[String(key.dropFirst(prefix.count))] = value }
        return inputs
    }
}
