// A dedicated thread that owns one connection and runs submitted work on it in order.
import Foundation

/// Owns one `PostgresConnection` on its own thread, so libpq's blocking-style work never occupies Swift's
/// cooperative pool. Work runs in submission order; results go back through continuations.
final class ConnectionWorker: @unchecked Sendable {
    typealias Work = @Sendable (PostgresConnection) -> Void

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Work] = []
    private var queueHead = 0
    private var stopping = false
    private var running = 0

    private let settings: ConnectionSettings
    private let capacity: Int

    /// `capacity` bounds queued work: past it, callers get a retryable error rather than an unbounded wait.
    init(settings: ConnectionSettings, name: String, capacity: Int) {
        self.settings = settings
        self.capacity = capacity
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    /// Work queued or running, for picking the least busy worker.
    var load: Int {
        condition.lock()
        defer { condition.unlock() }
        return queue.count - queueHead + running
    }

    /// Runs `body` on the worker's thread with its connection (connected first) and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let accepted = submit { connection in
                do {
                    try connection.connectIfNeeded()
                    continuation.resume(returning: try body(connection))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
            if !accepted {
                continuation.resume(throwing: StoreError.unavailable(reason: "connection queue full or closed"))
            }
        }
    }

    /// Stops the thread after the queued work; the connection closes with it.
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    private func submit(_ work: @escaping Work) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping, queue.count - queueHead < capacity else { return false }
        queue.append(work)
        condition.signal()
        return true
    }

    private func loop() {
        let connection = PostgresConnection(settings: settings)
        while let work = next() {
            work(connection)
            condition.lock()
            running -= 1
            condition.unlock()
        }
        connection.close()
    }

    private func next() -> Work? {
        condition.lock()
        defer { condition.unlock() }
        while queueHead == queue.count && !stopping { condition.wait() }
        guard queueHead < queue.count else { return nil }
        let work = queue[queueHead]
        queueHead += 1
        if queueHead > 64 && queueHead * 2 > queue.count {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        running += 1
        return work
    }
}
