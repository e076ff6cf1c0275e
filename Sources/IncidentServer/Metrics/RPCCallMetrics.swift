// Every RPC call, counted by method and status code and timed by method, through swift-metrics; also gives
// each call its request id (bound for its log lines and echoed to the client as `x-request-id`).
import CoreMetrics
import RPC
import Synchronization

/// The server's call observer: request scope for logs, call counters and latency histograms.
public final class RPCCallMetrics: ServerCallObserver {
    private struct CallKey: Hashable {
        var method: MethodDescriptor
        var code: Int
    }

    private let factory: any MetricsFactory
    // Metric handles are resolved once per label set: the call path then costs a dictionary lookup under a lock.
    private let counters = Mutex<[CallKey: Counter]>([:])
    private let timers = Mutex<[MethodDescriptor: Timer]>([:])

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
    }

    public func around(_ context: ServerContext, _ handler: () async -> Void) async {
        let scope = CallScope(context: context)
        context.addInitialMetadata(scope.requestID, forKey: "x-request-id")
        await CallScope.$current.withValue(scope) { await handler() }
    }

    public func callEnded(_ context: ServerContext, code: StatusCode, duration: Duration) {
        let method = context.method
        let key = CallKey(method: method, code: code.rawValue)
        let counter = counters.withLock { table in
            if let known = table[key] { return known }
            let made = Counter(label: "incident_rpc_calls_total", dimensions: [
                ("service", method.service), ("method", method.method), ("code", code.description),
            ], factory: factory)
            table[key] = made
            return made
        }
        counter.increment()
        let timer = timers.withLock { table in
            if let known = table[method] { return known }
            let made = Timer(label: "incident_rpc_duration_seconds",
                             dimensions: [("service", method.service), ("method", method.method)], factory: factory)
            table[method] = made
            return made
        }
        let (seconds, attoseconds) = duration.components
        timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
