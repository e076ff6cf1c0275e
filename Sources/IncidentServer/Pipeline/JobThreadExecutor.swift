// A thread of its own for the job runner's tasks. Without it every step of a job (claim, read, HTTP, settle)
// resumes on the shared cooperative pool behind the tasks of every RPC in flight; under a flood of creates that
// queue is seconds long, and p0-flood-bench measured P0 pages waiting 80 s after their incident was written.
import Foundation

/// Runs the tasks that prefer it, in order, on one dedicated thread.
@available(macOS 15.0, *)
final class JobThreadExecutor: TaskExecutor, @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queued: [UnownedJob] = []
    private var thread: pthread_t?

    /// Starts the thread. It lives as long as the process: a task that prefers this executor may resume on it at
    /// any later time, and a job with no thread to run it would hang that task.
    init(name: String) {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        queued.append(job)
        condition.signal()
        condition.unlock()
    }

    /// True on the executor's own thread.
    var isCurrentThread: Bool {
        condition.lock()
        defer { condition.unlock() }
        return thread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
    }

    private func run() {
        let executor = asUnownedTaskExecutor()
        condition.lock()
        thread = pthread_self()
        condition.unlock()
        while true {
            condition.lock()
            while queued.isEmpty { condition.wait() }
            let batch = queued
            queued.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: executor) }
        }
    }
}
