// Mock mode: nothing leaves the machine, every request that would have is kept for inspection
// (`make run` pages nobody, yet the timeline shows what would have happened).
import Synchronization

/// Records requests instead of sending them and answers them as delivered.
public final class RecordingHTTPDelivery: HTTPDelivery {
    private let recorded = Mutex<[OutboundRequest]>([])
    private let limit: Int

    /// Keeps the newest `limit` requests.
    public init(limit: Int = 10_000) {
        self.limit = limit
    }

    public func deliver(_ request: OutboundRequest) async -> DeliveryOutcome {
        recorded.withLock { requests in
            requests.append(request)
            if requests.count > limit { requests.removeFirst(requests.count - limit) }
        }
        return .delivered(status: 202)
    }

    /// What would have been sent, oldest first.
    public var requests: [OutboundRequest] { recorded.withLock { $0 } }
}
