// The call a log line belongs to: its request id, method and caller, bound as a task-local for the handler's
// task so every line written while serving it carries them without threading them through every call.
import Foundation
import RPC

/// What identifies one RPC call in the logs.
public struct CallScope: Sendable, Hashable {
    /// The client's `x-request-id` when it is sane, else one generated here.
    public var requestID: String
    /// `Service/Method`.
    public var method: String
    /// The client certificate's common name, when there is one.
    public var identity: String?

    /// The scope of the call being served by this task, if any.
    @TaskLocal public static var current: CallScope?

    /// The scope for a call: its metadata's request id (when sane) or a new one.
    public init(context: ServerContext) {
        requestID = CallScope.saneRequestID(context.requestMetadata.first("x-request-id")) ?? CallScope.newRequestID()
        method = "\(context.method.service)/\(context.method.method)"
        identity = context.peer?.commonName
    }

    public init(requestID: String, method: String, identity: String?) {
        self.requestID = requestID
        self.method = method
        self.identity = identity
    }

    /// A client's request id is echoed into logs only when it is short and plain: it must not smuggle
    /// newlines, quotes or a payload into the log.
    static func saneRequestID(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count) else { return nil }
        let allowed = value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x5F || byte == 0x2E || byte == 0x3A
        }
        return allowed ? value : nil
    }

    /// 16 random bytes as 32 hex digits.
    static func newRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64, low = generator.next() as UInt64
        let hex = String(high, radix: 16), lowHex = String(low, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex + String(repeating: "0", count: 16 - lowHex.count)
            + lowHex
    }
}
