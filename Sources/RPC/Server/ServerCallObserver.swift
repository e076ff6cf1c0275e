// A hook the server calls around every handled call: to give the call a scope (task-local values such as a
// request id for its log lines) and to be told how it ended. RPC stays free of any metrics or logging library;
// the service adapts this to its own.

/// Watches every call a server handles. Both methods run on the call's path: keep them cheap.
public protocol ServerCallObserver: Sendable {
    /// Runs the call's handler; an observer may wrap it (bind task-locals, add response metadata).
    func around(_ context: ServerContext, _ handler: () async -> Void) async
    /// Called once per call as its final status is sent; `duration` runs from the handler's start.
    func callEnded(_ context: ServerContext, code: StatusCode, duration: Duration)
}

extension ServerCallObserver {
    public func around(_ context: ServerContext, _ handler: () async -> Void) async {
        await handler()
    }
}
