// The server's core channel arguments (message limits, keepalive, connection age), as C strings that
// live exactly as long as `grpc_server_create` reads them.
internal import CGRPC
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct ServerChannelArguments {
    private var integers: [(String, Int32)] = []

    init(_ configuration: ServerConfiguration) {
        let keepalive = configuration.keepalive
        integers.append((GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, Int32(clamping: configuration.maxReceiveMessageBytes)))
        integers.append((GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, Int32(clamping: configuration.maxSendMessageBytes)))
        integers.append((GRPC_ARG_KEEPALIVE_TIME_MS, CoreTime.milliseconds(keepalive.pingInterval)))
        integers.append((GRPC_ARG_KEEPALIVE_TIMEOUT_MS, CoreTime.milliseconds(keepalive.pingTimeout)))
        integers.append((GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, keepalive.permitPingsWithoutCalls ? 1 : 0))
        integers.append(
            (GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
             CoreTime.milliseconds(keepalive.minimumClientPingInterval)))
        integers.append((GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0))
        if let age = keepalive.maxConnectionAge {
            integers.append((GRPC_ARG_MAX_CONNECTION_AGE_MS, CoreTime.milliseconds(age)))
            integers.append((GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, CoreTime.milliseconds(keepalive.maxConnectionAgeGrace)))
        }
        if let idle = keepalive.maxConnectionIdle {
            integers.append((GRPC_ARG_MAX_CONNECTION_IDLE_MS, CoreTime.milliseconds(idle)))
        }
    }

    init(integers: [(String, Int32)]) {
        self.integers = integers
    }

    /// Calls `body` with a `grpc_channel_args` whose strings stay valid during the call.
    func withCoreArguments<Result>(_ body: (UnsafePointer<grpc_channel_args>) -> Result) -> Result {
        let keys = integers.map { strdup($0.0)! }
        defer { keys.forEach { free($0) } }
        var arguments = zip(keys, integers).map { key, entry in
            var argument = grpc_arg()
            argument.type = GRPC_ARG_INTEGER
            argument.key = key
            argument.value.integer = entry.1
            return argument
        }
        return arguments.withUnsafeMutableBufferPointer { buffer in
            var channelArguments = grpc_channel_args(num_args: buffer.count, args: buffer.baseAddress)
            return body(&channelArguments)
        }
    }
}
