// Support for the timer tests: a server whose config has short escalation levels, SLA clocks and an approval rule,
// and a small claim loop that runs the timer handlers on jobs claimed from the real Postgres queue. The timers are
// the ones CreateIncident enqueues in the incident's transaction, as in production; a test changes the config to
// get the timers it needs. The loop stands in for the shared JobRunner: it completes the jobs of other kinds
// untouched, so the tests can read what was enqueued from the jobs table.
import Foundation
import IncidentAPI
import IncidentCore
@testable import IncidentServer
@testable import IncidentStore
import RPC

/// A harness with the timer handlers beside it.
struct TimerHarness {
    let service: ServiceHarness
    let settings: TimerSettings
    var store: IncidentStore { service.store }

    /// Escalation `security-critical`: primary, secondary, manager, one second each, no repeats.
    static let policy = EscalationPolicy(name: "security-critical", levels: [
        EscalationLevel(targets: ["primary"], timeoutMinutes: 1.0 / 60),
        EscalationLevel(targets: ["secondary"], timeoutMinutes: 1.0 / 60),
        EscalationLevel(targets: ["manager"], timeoutMinutes: 1.0 / 60),
    ])

    /// The test config: PagerDuty on, so a P0 is paged and its first escalation timer (the policy above) starts;
    /// P0 acknowledged within 2 s and resolved within 1 h; and a `block_user` rule that waits for approval (TTL
    /// `approvalTTL`).
    static func config(approvalTTL: Double = 3600) -> ServiceConfig {
        var config = ServiceHarness.defaultConfig
        config.notifications.pagerDuty.enabled = true
        config.notifications.pagerDuty.escalateOnTimeout = true
        config.escalationPolicies = [policy.name: policy]
        config.sla.targets[0] = SLATarget(acknowledgeWithinSeconds: 2, resolveWithinSeconds: 3600)
        config.remediation.enabled = true
        config.remediation.rules = [RemediationRule(
            name: "block-with-approval", kind: .blockUser, conditions: RuleConditions(priorities: [.p0]),
            requiresApproval: true, approvalTTLSeconds: approvalTTL)]
        return config
    }

    /// No escalation timers: a P0 is still paged (for the tests of other timers, and of timers built by hand).
    static func withoutEscalation(_ config: inout ServiceConfig) {
        config.notifications.pagerDuty.escalateOnTimeout = false
    }

    /// No SLA clocks for a P0 (for the tests of escalation alone).
    static func withoutSLA(_ config: inout ServiceConfig) {
        config.sla.targets[0] = nil
    }

    /// Timers of the config above as changed by `configure`; `reloadedSince`, when given, is a change made to the
    /// config the timer handlers read after the incidents were created (a config reload).
    static func start(
        approvalTTL: Double = 3600, configure: (inout ServiceConfig) -> Void = { _ in },
        reloadedSince: ((inout ServiceConfig) -> Void)? = nil
    ) async throws -> TimerHarness {
        var config = config(approvalTTL: approvalTTL)
        configure(&config)
        let service = try await ServiceHarness.start(config: config)
        reloadedSince?(&config)
        let settings = TimerSettings(
            config: config,
            webhooks: { trigger, _ in trigger == "escalated" || trigger == "sla_breached" ? ["siem"] : [] },
            slackChannels: { _ in ["#sec-incidents"] })
        return TimerHarness(service: service, settings: settings)
    }

    var handlers: [any JobHandler] { TimerHandlers.all(store: store, settings: settings) }

    /// Creates a P0 incident about `user` through the real RPC (as LLM-Shield) and returns its id. The approval
    /// rule's cooldown holds per user: a second incident about the same user gets no action to approve.
    func createP0(user: String = "user-789") async throws -> IncidentID {
        try await create(severity: "critical", user: user)
    }

    /// Creates an incident of `severity` about `user` through the real RPC (as LLM-Shield) and returns its id.
    func create(severity: String, user: String = "user-789") async throws -> IncidentID {
        var event = Sample.event(severity: severity)
        event.tags["user_id"] = user
        let created = try await service.client("llm-shield").createIncident(event, options: .test)
        return IncidentID(created.incidentId)!
    }

    /// Enqueues jobs CreateIncident does not: timers a test builds on purpose (a legacy timer, a bad step).
    func enqueue(_ jobs: [JobRequest], for id: IncidentID) async throws {
        try await store.jobs.enqueue(jobs, incidentID: id)
    }

    /// Claims due jobs from the queue and runs the timer handlers on theirs (other kinds are completed as they
    /// are) until `done` holds or `timeout` passes; returns the timer jobs run with what they came to.
    @discardableResult
    func runJobs(timeout: Duration = .seconds(20), until done: () async throws -> Bool)
        async throws -> [(ClaimedJob, JobResult)] {
        let byKind = Dictionary(handlers.flatMap { handler in handler.kinds.map { ($0.rawValue, handler) } },
                                uniquingKeysWith: { first, _ in first })
        var ran: [(ClaimedJob, JobResult)] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await done() { return ran }
            for job in try await store.jobs.claim(worker: "timer-test", limit: 20) {
                guard let handler = byKind[job.kind] else {
                    _ = try await store.jobs.complete(job)
                    continue
                }
                let result = try await handler.outcome(of: job)
                ran.append((job, result))
                switch result {
                case .done: _ = try await store.jobs.complete(job)
                case .retry(let reason): _ = try await store.jobs.fail(job, error: reason)
                case .failed: try await deadLetter(job)
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        if try await done() { return ran }
        throw TimedOut()
    }

    /// Runs due jobs until none of the timer kinds is ready or running for `id`, leaving alone the timers due only
    /// after `timeout` (CreateIncident's hour-long clocks).
    @discardableResult
    func drainTimers(for id: IncidentID, timeout: Duration = .seconds(20)) async throws -> [(ClaimedJob, JobResult)] {
        let deadline = ContinuousClock.now + timeout
        return try await runJobs(timeout: timeout) {
            let left = (deadline - ContinuousClock.now) / .seconds(1)
            return try await jobs(for: id).allSatisfy { job in
                !["escalate", "sla.check", "approval.expire"].contains(job.kind) || ["done", "dead"].contains(job.state)
                    || job.dueIn > left
            }
        }
    }

    /// What the runner does with a `.failed` job: dead-lettered at once, whatever attempts remain.
    private func deadLetter(_ job: ClaimedJob) async throws {
        try await sql("UPDATE jobs SET state = 'dead', lease_owner = NULL, lease_until = NULL WHERE id = $1", [job.id])
    }

    private func sql(_ text: String, _ binds: [(any PostgresEncodable)?]) async throws {
        let worker = ConnectionWorker(settings: service.database, name: "test-sql", capacity: 1)
        defer { worker.stop() }
        let statement = Statement(text, binds)
        _ = try await worker.run { try $0.run(statement) }
    }

    struct TimedOut: Error {}

    /// A row of the jobs table.
    struct JobRow: Sendable {
        var kind: String
        var key: String
        var payload: [String: String]
        var priority: Int
        var state: String
        /// Seconds from the incident's creation until the job was due.
        var dueAfterCreation: Double
        /// Seconds from now until the job is due (negative once due).
        var dueIn: Double
    }

    /// Every job enqueued for `id`, oldest first.
    func jobs(for id: IncidentID) async throws -> [JobRow] {
        let worker = ConnectionWorker(settings: service.database, name: "test-jobs", capacity: 1)
        defer { worker.stop() }
        let statement = Statement("""
            SELECT j.kind, j.idempotency_key, j.payload, j.priority, j.state,
                   extract(epoch FROM j.due_at - i.created_at)::float8 AS due_after,
                   extract(epoch FROM j.due_at - clock_timestamp())::float8 AS due_in
            FROM jobs j JOIN incidents i ON i.id = j.incident_id WHERE j.incident_id = $1 ORDER BY j.id
            """, [id.description])
        let result = try await worker.run { try $0.run(statement) }
        return try result.allRows.map { row in
            JobRow(kind: try row.decode("kind"),
                   key: String(try row.decode("idempotency_key", as: String.self).dropFirst(id.description.count + 1)),
                   payload: try JSONColumn.decode([String: String].self, from: row.decode("payload")),
                   priority: try row.decode("priority"), state: try row.decode("state"),
                   dueAfterCreation: try row.decode("due_after"), dueIn: try row.decode("due_in"))
        }
    }

    func stop() async {
        await service.stop()
    }
}

extension UpdateIncidentRequest {
    /// A decision on one action.
    static func deciding(_ id: String, action: String, _ decision: ActionDecision.Decision, reason: String = "")
        -> UpdateIncidentRequest {
        var request = UpdateIncidentRequest.with(id: id)
        var entry = ActionDecision()
        entry.actionId = action
        entry.decision = decision
        entry.reason = reason
        request.actionDecisions = [entry]
        return request
    }
}
