// Process-wide start of the gRPC C core: `grpc_init` once, never torn down (the core's own advice
// for long-lived processes; tearing it down while a channel lingers crashes).
internal import CGRPC

enum GRPCRuntime {
    private static let started: Void = {
        grpc_init()
    }()

    /// Makes sure the core is initialised; cheap after the first call.
    static func ensureStarted() {
        _ = started
    }
}
