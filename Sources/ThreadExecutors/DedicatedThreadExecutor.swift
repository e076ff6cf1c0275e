// A thread of its own for tasks that must not queue behind the shared cooperative pool: urgent calls (a P0
// CreateIncident) and the job runner. On the shared pool every step resumes behind the tasks of every RPC in
// flight; under a flood of creates that queue is long, and p0-flood-bench measured P0 pages waiting 80 s after
// their incident was written when the job runner shared it. A module of its own so that both the RPC server and
// the job pipeline use it without the pipeline importing the RPC layer.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs the tasks that prefer it (`Task(executorPreference:)`), in order, on one dedicated thread.
@available(macOS 15.0, *)
public final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queued: [UnownedJob] = []
    private var thread: pthread_t?
    private let name: String

    /// Starts the thread. It lives as long as the process: a task that prefers this executor may resume on it at
    /// any later time, and a job with no thread to run it would hang that task.
    public init(name: String) {
        self.name = name
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        queued.append(job)
        condition.signal()
        condition.unlock()
    }

    /// True on the executor's own thread.
    public var isCurrentThread: Bool {
        condition.lock()
        defer { condition.unlock() }
        return thread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
    }

    private func run() {
        let executor = asUnownedTaskExecutor()
        condition.lock()
        thread = pthread_self()
        condition.unlock()
        Self.nameCurrentThread(name)
        while true {
            condition.lock()
            while queued.isEmpty { condition.wait() }
            let batch = queued
            queued.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: executor) }
        }
    }

    /// Gives the calling thread the kernel name `top -H` and `perf` show (at most 15 bytes). Through procfs:
    /// pthread_setname_np is a GNU extension the Swift Glibc module does not export.
    private static func nameCurrentThread(_ name: String) {
        let file = open("/proc/thread-self/comm", O_WRONLY)
        guard file >= 0 else { return }
        defer { close(file) }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
    }
}
