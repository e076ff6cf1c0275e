// The Governance audit push: follows the hash-chained audit log from a durable cursor in Postgres and sends the
// entries Governance wants in batches (up to `max_batch_size`, or fewer once the oldest has waited `max_wait_ms`).
// The cursor moves only after Governance answered 2xx, so a crash, a restart or an outage of Governance at any
// point resends at most the batch in flight, with the same event ids, in the same order: a receiver that honours
// `event_id` sees every event once and no gap. It is a loop beside the job runner rather than jobs: the audit log
// already is an ordered, durable queue, and a job per event would add a row to every create's transaction.
// A failed batch is never skipped (that would be a gap): it is retried with backoff, behind the circuit breaker.
import Foundation
import IncidentCore
import IncidentStore
import Integrations
import Synchronization

/// Pushes the audit log to LLM-Governance-Core until stopped.
final class GovernanceAuditFeed: Sendable {
    private let store: IncidentStore
    private let push: GovernanceAuditPush
    private let filter: AuditFeedFilter
    private let delivery: any HTTPDelivery
    /// The cursor's row: mock mode keeps its own, so switching to live later still sends everything.
    let cursorName: String
    private let log: ServerLog
    private let retry: RetryPolicy
    private let now: @Sendable () -> Double
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(store: IncidentStore, config: GovernanceConfig, url: String, apiKey: String, delivery: any HTTPDelivery,
         mocked: Bool, jobs: JobRunnerConfig, log: ServerLog, now: @escaping @Sendable () -> Double) {
        self.store = store
        self.push = GovernanceAuditPush(url: url, apiKey: apiKey, batchSize: config.effectiveBatchSize,
                                        maxWaitSeconds: config.maxWaitSeconds, timeoutSeconds: config.timeoutSeconds)
        self.filter = AuditFeedFilter(
            created: config.pushEvents.contains(.incidentCreated), resolved: config.pushEvents.contains(.incidentResolved),
            closed: config.pushEvents.contains(.incidentClosed), slaBreached: config.pushEvents.contains(.slaBreached),
            escalated: config.pushEvents.contains(.escalated))
        self.delivery = delivery
        self.cursorName = mocked ? "governance:mock" : "governance"
        self.log = log
        // Never gives up: every attempt is bounded by the backoff's cap instead.
        self.retry = RetryPolicy(maxAttempts: .max, baseDelaySeconds: max(0.01, jobs.retryBaseSeconds),
                                 maxDelaySeconds: max(0.01, jobs.retryMaxSeconds))
        self.now = now
    }

    /// How long an idle feed waits before looking for new entries (shorter when a partial batch falls due sooner).
    private var pollSeconds: Double { min(1, max(0.05, push.maxWaitSeconds)) }

    func start() {
        task.withLock { task in
            guard task == nil else { return }
            task = Task { [self] in await run() }
        }
    }

    /// Stops after the step in progress; a batch sent but not yet recorded is sent again by the next start.
    func stop() async {
        let running = task.withLock { task in
            defer { task = nil }
            return task
        }
        running?.cancel()
        await running?.value
    }

    private func run() async {
        var failures = 0
        while !Task.isCancelled {
            let wait: Double
            do {
                wait = try await step(failures: &failures)
            } catch {
                failures += 1
                let reason = (error as? StoreError)?.description ?? "error \(type(of: error))"
                log.error("governance: audit push cannot read or move its cursor: \(reason)")
                wait = delay(after: .retryable(reason: reason, retryAfterSeconds: nil), failures: failures)
            }
            guard wait > 0 else { continue }
            try? await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
        }
    }

    /// One look at the log; returns how long to wait before the next.
    private func step(failures: inout Int) async throws -> Double {
        let cursor = try await store.feedCursor(cursorName)
        let page = try await store.auditFeed(after: cursor, filter: filter, limit: push.batchSize)
        guard let oldest = page.entries.first else {
            // Nothing wanted in the range read: move past it so it is not read again.
            if page.through > cursor { _ = try await store.advanceFeedCursor(cursorName, from: cursor, to: page.through) }
            return page.through > cursor ? 0 : pollSeconds
        }
        let age = now() - oldest.atEpochSeconds
        guard push.isDue(count: page.entries.count, oldestAgeSeconds: age) else {
            return max(0.01, min(pollSeconds, push.maxWaitSeconds - age))
        }
        let events = page.entries.compactMap { entry in
            GovernanceAuditEvent.from(seq: entry.seq, hash: entry.hash, incidentID: entry.incidentID,
                                      actor: entry.actor, action: entry.action, oldValues: entry.oldValues,
                                      newValues: entry.newValues, at: entry.at)
        }
        let outcome = events.isEmpty ? .delivered(status: 204) : await delivery.deliver(push.request(events))
        guard case .delivered = outcome else {
            failures += 1
            let wait = delay(after: outcome, failures: failures)
            // One line when the trouble starts, then at 2, 4, 8 … attempts: an outage of hours stays readable.
            guard failures & (failures - 1) == 0 else { return wait }
            log.error("governance: \(events.count) audit events from seq \(oldest.seq) not taken (attempt \(failures)):"
                      + " \(reason(outcome)); sending again in \(String(format: "%.2f", wait)) s, nothing skipped")
            return wait
        }
        if failures > 0 { log.info("governance: audit push delivered again after \(failures) failed attempts") }
        failures = 0
        if try await !store.advanceFeedCursor(cursorName, from: cursor, to: page.through) {
            log.info("governance: another replica moved the audit cursor past \(cursor); reading it again")
        }
        return 0
    }

    private func delay(after outcome: DeliveryOutcome, failures: Int) -> Double {
        // A 4xx other than 429 will not heal by itself, but skipping the batch would leave a gap: wait the longest.
        if case .permanent = outcome { return retry.maxDelaySeconds }
        guard case .retry(let seconds) = retry.decide(after: outcome, attempt: min(failures, 30)) else {
            return retry.maxDelaySeconds
        }
        // An open breaker or the receiver's Retry-After says when trying again makes sense: wait that long (up to
        // 5 minutes) even beyond the backoff's cap, instead of knocking on a closed door.
        if case .retryable(_, let hint?) = outcome { return max(seconds, min(hint, 300)) }
        return max(0.01, seconds)
    }

    private func reason(_ outcome: DeliveryOutcome) -> String {
        switch outcome {
        case .delivered(let status): "HTTP \(status)"
        case .retryable(let reason, _), .permanent(let reason): reason
        }
    }
}
