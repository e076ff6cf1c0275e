// Core channel arguments (message limits, keepalive, connection age, TLS name override), as C strings
// that live exactly as long as `grpc_server_create` / `grpc_channel_create` read them.
internal import CGRPC
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct CoreChannelArguments {
    var integers: [(String, Int32)] = []
    var strings: [(String, String)] = []

    init(server configuration: ServerConfiguration) {
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
        integers.append((GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS, CoreTime.milliseconds(configuration.handshakeTimeout)))
        // SO_REUSEPORT would let a second process silently share our port: a port in use must be an error.
        integers.append((GRPC_ARG_ALLOW_REUSEPORT, 0))
        if let age = keepalive.maxConnectionAge {
            integers.append((GRPC_ARG_MAX_CONNECTION_AGE_MS, CoreTime.milliseconds(age)))
            integers.append((GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS, CoreTime.milliseconds(keepalive.maxConnectionAgeGrace)))
        }
        if let idle = keepalive.maxConnectionIdle {
            integers.append((GRPC_ARG_MAX_CONNECTION_IDLE_MS, CoreTime.milliseconds(idle)))
        }
    }

    init() {}

    /// Calls `body` with a `grpc_channel_args` whose strings stay valid during the call.
    func withCoreArguments<Result>(_ body: (UnsafePointer<grpc_channel_args>) -> Result) -> Result {
        var owned: [UnsafeMutablePointer<CChar>] = []
        defer { owned.forEach { free($0) } }
        func copy(_ text: String) -> UnsafeMutablePointer<CChar> {
            let pointer = strdup(text)!
            owned.append(pointer)
            return pointer
        }
        var arguments: [grpc_arg] = []
        for (key, value) in integers {
            var argument = grpc_arg()
            argument.type = GRPC_ARG_INTEGER
            argument.key = copy(key)
            argument.value.integer = value
            arguments.append(argument)
        }
        for (key, value) in strings {
            var argument = grpc_arg()
            argument.type = GRPC_ARG_STRING
            argument.key = copy(key)
            argument.value.string = copy(value)
            arguments.append(argument)
        }
        return arguments.withUnsafeMutableBufferPointer { buffer in
            var channelArguments = grpc_channel_args(num_args: buffer.count, args: buffer.baseAddress)
            return body(&channelArguments)
        }
    }
}
