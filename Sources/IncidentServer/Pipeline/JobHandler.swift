// The contract between the job runner and the code that acts on jobs (the kinds and their payloads are
// `JobKind` in IncidentCore/Decisions): what running one came to. The runner claims jobs highest priority first and
// hands each to the handler that names its kind.
import IncidentCore
import IncidentStore

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

extension ClaimedJob {
    /// The typed work this job carries (its stored kind and payload decoded by IncidentCore's `Job`); a payload that
    /// does not decode dead-letters the job.
    func work() throws(JobPayloadError) -> Job { try Job(kind: kind, payload: payload) }
}

extension JobHandler {
    /// Runs `job` as the runner does: a payload that does not decode never will, so it is `.failed` (dead-lettered
    /// for people to look at, naming the problem), not retried. Other errors propagate to the runner.
    func outcome(of job: ClaimedJob) async throws -> JobResult {
        do {
            return try await run(job)
        } catch let error as JobPayloadError {
            return .failed(reason: error.description)
        }
    }
}
