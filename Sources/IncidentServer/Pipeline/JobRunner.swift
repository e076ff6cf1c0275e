// Runs the job queue: N workers each claim the most urgent due job (the queue orders by priority, then due time),
// hand it to the handler registered for its kind and settle it: done, retried with backoff, or dead-lettered.
// Workers wake at once when this process commits jobs (the queue's local signal) and otherwise poll briefly for
// jobs other replicas enqueued or timers falling due, so a P0 page starts within milliseconds of its commit. The
// workers run on a thread of their own (DedicatedThreadExecutor), so a flood of RPCs does not delay their steps.
// One more worker takes only P0 jobs, on a thread and a database connection of its own: a P0 page never waits for
// a worker to finish a flood's notification, nor behind its queries.
import Foundation
import IncidentCore
import IncidentStore
import Synchronization
import ThreadExecutors

/// How the runner is sized and paced.
struct JobRunnerOptions: Sendable {
    var workers: Int
    /// Longest an idle worker waits before looking again (jobs committed here wake it sooner).
    var pollInterval: Duration
    /// How long a claim holds a job; a worker that dies loses its job to another after this.
    var lease: Duration
    /// Delays between attempts of a retried job.
    var backoff: RetryBackoff

    init(_ config: JobRunnerConfig) {
        workers = max(1, config.workers)
        pollInterval = .milliseconds(Int64(max(0.005, config.pollIntervalSeconds) * 1000))
        lease = .milliseconds(Int64(max(1, config.leaseSeconds) * 1000))
        backoff = RetryBackoff(base: .milliseconds(Int64(max(0.01, config.retryBaseSeconds) * 1000)),
                               cap: .milliseconds(Int64(max(0.01, config.retryMaxSeconds) * 1000)))
    }
}

/// Claims jobs and runs them with the registered handlers until stopped.
final class JobRunner: Sendable {
    private let queue: JobQueue
    private let handlers: [JobKind: any JobHandler]
    private let options: JobRunnerOptions
    private let log: ServerLog
    private let name: String
    private let state = Mutex<(stopping: Bool, workers: [Task<Void, Never>])>((false, []))
    /// The `DedicatedThreadExecutor`s the workers and the P0 worker run on (typed loosely: the type needs macOS 15
    /// where it is declared).
    private let executor: (any Sendable)?
    private let urgentExecutor: (any Sendable)?

    init(queue: JobQueue, handlers: [any JobHandler], options: JobRunnerOptions, log: ServerLog) {
        self.queue = queue
        var byKind: [JobKind: any JobHandler] = [:]
        for handler in handlers {
            for kind in handler.kinds { byKind[kind] = handler }
        }
        self.handlers = byKind
        self.options = options
        self.log = log
        // Names this process's leases in the jobs table, for operators looking at a stuck job.
        self.name = "\(ProcessInfo.processInfo.hostName)/\(getpid())"
        if #available(macOS 15.0, *) {
            executor = DedicatedThreadExecutor(name: "incident-jobs")
            urgentExecutor = DedicatedThreadExecutor(name: "incident-p0-jobs")
        } else {
            executor = nil
            urgentExecutor = nil
        }
    }

    /// Starts the workers.
    func start() {
        state.withLock { state in
            guard state.workers.isEmpty, !state.stopping else { return }
            state.workers = (0..<options.workers).map { index in
                // The workers' steps run on the runner's own thread, not behind the RPC handlers' tasks.
                if #available(macOS 15.0, *), let executor = executor as? DedicatedThreadExecutor {
                    return Task(executorPreference: executor) { [self] in await work(worker: "\(name)/w\(index)") }
                }
                return Task { [self] in await work(worker: "\(name)/w\(index)") }
            }
            let urgent = { [self] in
                await StoreUrgency.$isUrgent.withValue(true) { await work(worker: "\(name)/p0", through: .p0) }
            }
            if #available(macOS 15.0, *), let executor = urgentExecutor as? DedicatedThreadExecutor {
                state.workers.append(Task(executorPreference: executor, operation: urgent))
            } else {
                state.workers.append(Task(operation: urgent))
            }
        }
    }

    /// Lets each worker finish the job it is running, then returns; claimed jobs not finished by then are taken
    /// over by another worker when their lease runs out.
    func stop() async {
        let workers = state.withLock { state in
            state.stopping = true
            return state.workers
        }
        for worker in workers { await worker.value }
    }

    private var isStopping: Bool { state.withLock { $0.stopping } }

    private func work(worker: String, through: Priority = .p4) async {
        while !isStopping {
            let generation = queue.enqueueGeneration
            let claimed: [ClaimedJob]
            do {
                // One at a time: a worker holding a batch would make a P0 claimed later wait behind it.
                claimed = try await queue.claim(worker: worker, limit: 1, lease: options.lease, through: through)
            } catch {
                log.error("jobs: cannot claim: \(error)")
                try? await Task.sleep(for: max(options.pollInterval, .milliseconds(500)))
                continue
            }
            guard let job = claimed.first else {
                await queue.waitForEnqueue(after: generation, timeout: options.pollInterval)
                continue
            }
            await run(job)
        }
    }

    /// Runs one job and settles it in the queue.
    func run(_ job: ClaimedJob) async {
        guard let kind = JobKind(rawValue: job.kind), let handler = handlers[kind] else {
            await settle(job, .failed(reason: "no handler for job kind \(job.kind)"))
            return
        }
        let result: JobResult
        do {
            result = try await handler.outcome(of: job)
        } catch {
            // Store errors are safe to show; anything else is named by type only (it may carry request data).
            let reason = (error as? StoreError)?.description ?? "handler error \(type(of: error))"
            result = .retry(reason: reason)
        }
        await settle(job, result)
    }

    private func settle(_ job: ClaimedJob, _ result: JobResult) async {
        let label = "\(job.kind) for \(job.incidentID ?? "-") (attempt \(job.attempts)/\(job.maxAttempts))"
        let ids = ["incident_id": job.incidentID ?? "", "job_id": "\(job.id)", "job_kind": job.kind]
        do {
            switch result {
            case .done:
                if try await !queue.complete(job) { log.info("jobs: \(label) finished after its lease was lost", ids) }
                PipelineMetrics.jobSettled(kind: job.kind, outcome: "done")
            case .retry(let reason):
                let settled = try await queue.fail(job, error: reason, backoff: options.backoff)
                PipelineMetrics.jobSettled(kind: job.kind, outcome: settled == .deadLettered ? "dead" : "retry")
                switch settled {
                case .retryScheduled: log.info("jobs: \(label) will retry: \(reason)", ids)
                case .deadLettered: log.error("jobs: \(label) dead-lettered: \(reason)", ids)
                case .leaseLost: log.info("jobs: \(label) failed after its lease was lost", ids)
                }
            case .failed(let reason):
                try await queue.deadLetter(job, error: reason)
                PipelineMetrics.jobSettled(kind: job.kind, outcome: "dead")
                log.error("jobs: \(label) dead-lettered: \(reason)", ids)
            }
        } catch {
            // The lease runs out and the job is claimed again: handlers are idempotent.
            log.error("jobs: cannot settle \(label): \(error)", ids)
        }
    }
}
