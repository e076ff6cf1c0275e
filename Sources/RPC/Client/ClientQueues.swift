// The completion queues every client call uses: one polling thread per core, shared by all channels
// of the process and never torn down (a CLI or a test process exits with them).
import Synchronization

final class ClientQueues: Sendable {
    static let shared = ClientQueues(count: ServerConfiguration.processorCount)

    private let queues: [CompletionQueue]
    private let next = Atomic<Int>(0)

    private init(count: Int) {
        queues = (0..<count).map { CompletionQueue(name: "grpc-client-cq\($0)") }
        for queue in queues { queue.startPolling() }
    }

    /// The queue for the next call, round-robin.
    func pick() -> CompletionQueue {
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
        return queues[index % queues.count]
    }
}
