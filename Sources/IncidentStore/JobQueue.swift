// The Postgres-backed job queue: claim by priority with a lease, complete, retry with backoff, dead-letter.
import Foundation
import IncidentCore
import Synchronization

/// A job a worker holds a lease on.
public struct ClaimedJob: Sendable, Hashable {
    public var id: Int64
    public var kind: String
    public var incidentID: String?
    public var payload: [String: String]
    public var priority: Priority
    /// Runs so far, this one included.
    public var attempts: Int
    public var maxAttempts: Int
    /// Hand this to the outside world (e.g. PagerDuty's dedup_key) so a job run twice acts once.
    public var idempotencyKey: String
    /// Proves the lease: completing or failing with a lease that expired and was re-claimed does nothing.
    public var leaseToken: String
}

/// What happened to a failed job.
public enum JobFailureOutcome: Sendable, Hashable {
    /// It runs again at this time.
    case retryScheduled(at: Date)
    /// Out of attempts: kept in the `dead` state for people to look at.
    case deadLettered
    /// The lease had expired and someone else holds the job now; nothing changed.
    case leaseLost
}

/// Exponential backoff with jitter: attempt n waits a random time in [½, 1] × min(cap, base × 2ⁿ⁻¹), so
/// workers that failed together do not retry together.
public struct RetryBackoff: Sendable, Hashable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration = .seconds(1), cap: Duration = .seconds(300)) {
        self.base = base
        self.cap = cap
    }

    /// The delay before the next run after `attempts` runs.
    public func delay<G: RandomNumberGenerator>(afterAttempts attempts: Int, using generator: inout G) -> Duration {
        let exponent = min(max(attempts - 1, 0), 30)
        let full = min(cap, base * (1 << exponent))
        return full * Double.random(in: 0.5...1.0, using: &generator)
    }
}

/// Counts of jobs per state, for tests and metrics.
public struct JobCounts: Sendable, Hashable {
    public var ready = 0
    public var running = 0
    public var done = 0
    public var dead = 0
}

/// Claims and settles jobs; several replicas share the queue through `FOR UPDATE SKIP LOCKED`.
public final class JobQueue: Sendable {
    private let pool: ConnectionPool
    /// Bumped whenever this process commits new jobs, so idle workers here start them at once; jobs enqueued by
    /// other replicas or due later are found by the workers' short poll.
    private let enqueued = ChangeSignal()
    /// When the expired-lease sweep last ran here: every claim used to run it, one more statement per job.
    private let lastSweep = Mutex<ContinuousClock.Instant?>(nil)
    /// Least time between two sweeps by this process; a lease expiring waits at most this much longer.
    static let sweepInterval: Duration = .milliseconds(250)

    init(pool: ConnectionPool) {
        self.pool = pool
    }

    /// Enqueues jobs for an incident outside an incident change; keys already used are skipped.
    public func enqueue(_ jobs: [JobRequest], incidentID: IncidentID) async throws {
        let json = try JSONColumn.encode(jobs.map(JobRecord.init))
        _ = try await pool.withConnection { connection in
            try connection.query("SELECT im_enqueue_jobs($1::text, $2::jsonb)", [incidentID.description, json])
        }
        signalEnqueued()
    }

    /// A counter that moves whenever this process commits jobs; note it before `claim`, then wait on it.
    public var enqueueGeneration: UInt64 { enqueued.current }

    /// Returns when jobs were committed here after `generation` was read, or after `timeout`.
    public func waitForEnqueue(after generation: UInt64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [enqueued] in await enqueued.wait(after: generation) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Wakes waiting workers: jobs were just committed.
    func signalEnqueued() {
        enqueued.bump()
    }

    /// Puts running jobs whose lease ran out (their worker died) back to ready, or dead-letters them when that was
    /// their last attempt; runs before a claim (at most every `sweepInterval`), so it must stay an index scan of
    /// the running jobs (`jobs_running_lease`), never a read of the whole table.
    static let expiredLeaseSweepSQL = """
        UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'ready' END,
               last_error = CASE WHEN attempts >= max_attempts THEN 'lease expired on the final attempt'
                                 ELSE 'lease expired' END,
               lease_owner = NULL, lease_until = NULL, updated_at = now()
        WHERE state = 'running' AND lease_until <= now()
        """

    /// Leases the most urgent due ready jobs ($1 lease owner, $2 how many, $3 lease in milliseconds, $4 the least
    /// urgent priority taken): one index range of `jobs_ready` per priority, most urgent first, stopping once $2
    /// are found.
    static let claimSQL = """
        WITH due AS (
            SELECT j.id FROM (SELECT * FROM (VALUES (0), (1), (2), (3), (4)) AS v(priority)
                              WHERE v.priority <= $4::int) AS p
            CROSS JOIN LATERAL (
                SELECT id FROM jobs
                WHERE state = 'ready' AND priority = p.priority AND due_at <= now()
                ORDER BY due_at, id
                LIMIT $2
                FOR UPDATE SKIP LOCKED
            ) j
            LIMIT $2
        )
        UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, lease_owner = $1,
               lease_until = now() + $3::bigint * interval '1 millisecond', updated_at = now()
        FROM due WHERE j.id = due.id
        RETURNING j.id, j.kind, j.incident_id, j.payload, j.priority, j.attempts, j.max_attempts,
                  j.idempotency_key, extract(epoch FROM j.due_at) AS due_epoch
        """

    /// Leases up to `limit` due jobs, most urgent first. Jobs whose lease expired (their worker died) are due
    /// again; one that expired on its last attempt is dead-lettered instead. Each priority's due range is looked
    /// up on its own in `jobs_ready`, so timers not yet due are never read, however many there are. `through`
    /// leaves less urgent jobs to other workers.
    public func claim(worker: String, limit: Int = 10, lease: Duration = .seconds(30), through: Priority = .p4)
        async throws -> [ClaimedJob]
    {
        let token = "\(worker)/\(UUID().uuidString)"
        let leaseMillis = lease.components.seconds * 1000 + lease.components.attoseconds / 1_000_000_000_000_000
        let now = ContinuousClock.now
        let sweep = lastSweep.withLock { last -> Bool in
            guard last.map({ now - $0 >= Self.sweepInterval }) ?? true else { return false }
            last = now
            return true
        }
        let result = try await pool.withConnection { connection in
            if sweep { try connection.query(Self.expiredLeaseSweepSQL) }
            return try connection.query(Self.claimSQL, [token, max(1, limit), leaseMillis, through.rawValue])
        }
        let jobs = try decoding {
            try result.allRows.map { row in
                guard let priority = Priority(rawValue: try row.decode("priority", as: Int.self)) else {
                    throw PostgresError(.decoding, message: "job priority out of range")
                }
                return ClaimedJob(
                    id: try row.decode("id"), kind: try row.decode("kind"),
                    incidentID: try row.decodeIfPresent("incident_id"),
                    payload: try JSONColumn.decode([String: String].self, from: row.decode("payload")),
                    priority: priority, attempts: try row.decode("attempts"),
                    maxAttempts: try row.decode("max_attempts"),
                    idempotencyKey: try row.decode("idempotency_key"), leaseToken: token)
            }
        }
        return jobs.sorted { ($0.priority, $0.id) < ($1.priority, $1.id) }
    }

    /// Marks a job done; false when the lease was lost (the job was reclaimed after it expired).
    @discardableResult
    public func complete(_ job: ClaimedJob) async throws -> Bool {
        let result = try await pool.withConnection { connection in
            try connection.query("""
                UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = NULL, last_error = NULL,
                       updated_at = now()
                WHERE id = $1 AND lease_owner = $2 AND state = 'running'
                """, [job.id, job.leaseToken])
        }
        return result.affectedRows == 1
    }

    /// Records a failure: the job runs again after a backoff, or is dead-lettered when out of attempts.
    /// `error` is stored for operators: keep secrets and PII out of it.
    public func fail(_ job: ClaimedJob, error: String, backoff: RetryBackoff = RetryBackoff()) async throws
        -> JobFailureOutcome
    {
        var generator = SystemRandomNumberGenerator()
        let delay = backoff.delay(afterAttempts: job.attempts, using: &generator)
        let delayMillis = delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000
        let message = String(error.prefix(1000))
        let result = try await pool.withConnection { connection in
            try connection.query("""
                UPDATE jobs SET
                    state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'ready' END,
                    due_at = CASE WHEN attempts >= max_attempts THEN due_at
                                  ELSE now() + $3::bigint * interval '1 millisecond' END,
                    last_error = $4, lease_owner = NULL, lease_until = NULL, updated_at = now()
                WHERE id = $1 AND lease_owner = $2 AND state = 'running'
                RETURNING state, extract(epoch FROM due_at) AS due_epoch
                """, [job.id, job.leaseToken, delayMillis, message])
        }
        guard let row = result.first else { return .leaseLost }
        return try decoding {
            try row.decode("state", as: String.self) == "dead"
                ? .deadLettered : .retryScheduled(at: try row.decode("due_epoch", as: EpochMicros.self).date)
        }
    }

    /// Dead-letters a job at once, whatever its attempts: it can never succeed (a 400, an unknown kind).
    /// False when the lease was lost. `error` is stored for operators: keep secrets and PII out of it.
    @discardableResult
    public func deadLetter(_ job: ClaimedJob, error: String) async throws -> Bool {
        let result = try await pool.withConnection { connection in
            try connection.query("""
                UPDATE jobs SET state = 'dead', last_error = $3, lease_owner = NULL, lease_until = NULL,
                       updated_at = now()
                WHERE id = $1 AND lease_owner = $2 AND state = 'running'
                """, [job.id, job.leaseToken, String(error.prefix(1000))])
        }
        return result.affectedRows == 1
    }

    /// The payload of the earliest job of an incident's action (`action_id`) with a key starting with `prefix`;
    /// nil when there is none. Where remediation jobs enqueued after the create find the executor's inputs.
    public func payloadCarryingInputs(incidentID: String, actionID: String, prefix: String) async throws
        -> [String: String]? {
        let result = try await pool.withConnection { connection in
            try connection.query("""
                SELECT payload::text AS payload FROM jobs
                WHERE incident_id = $1 AND payload->>'action_id' = $2
                  AND EXISTS (SELECT 1 FROM jsonb_object_keys(payload) AS k WHERE starts_with(k, $3))
                ORDER BY id LIMIT 1
                """, [incidentID, actionID, prefix])
        }
        guard let row = result.first else { return nil }
        return try decoding { try JSONColumn.decode([String: String].self, from: row.decode("payload")) }
    }

    /// How many jobs are in each state (optionally for one incident).
    public func counts(incidentID: IncidentID? = nil) async throws -> JobCounts {
        let result = try await pool.withConnection { connection in
            try connection.query("""
                SELECT state, count(*) AS n FROM jobs WHERE ($1::text IS NULL OR incident_id = $1) GROUP BY state
                """, [incidentID?.description])
        }
        return try decoding {
            var counts = JobCounts()
            for row in result.allRows {
                let n: Int = try row.decode("n")
                switch try row.decode("state", as: String.self) {
                case "ready": counts.ready = n
                case "running": counts.running = n
                case "done": counts.done = n
                default: counts.dead = n
                }
            }
            return counts
        }
    }

    /// Jobs waiting or running, per priority and state; reads only the claimable rows' partial index.
    public func pendingDepths() async throws -> [JobDepth] {
        let result = try await pool.withConnection { connection in
            try connection.query("""
                SELECT priority, state, count(*) AS n FROM jobs WHERE state IN ('ready', 'running')
                GROUP BY priority, state
                """)
        }
        return try decoding {
            try result.allRows.map { row in
                JobDepth(priority: try row.decode("priority"), state: try row.decode("state"),
                         count: try row.decode("n"))
            }
        }
    }
}

/// How many jobs of one priority are in one state (`ready` or `running`).
public struct JobDepth: Sendable, Hashable {
    public var priority: Int
    public var state: String
    public var count: Int
}
