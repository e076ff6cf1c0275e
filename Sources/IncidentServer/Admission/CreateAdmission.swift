// Load shedding for CreateIncident before a call costs a task: under a flood, calls pile up on the shared executor
// first-come-first-served long before the write queue's priority lanes see them, and a P0 waits behind them all.
// This runs on the completion-queue thread with the raw request: it reads only the `severity` field, and once too
// many unary handlers are in flight it refuses the least urgent priorities first. P0 is never refused, and is
// served on the server's urgent thread so it does not queue behind the flood's handlers either.
import IncidentAPI
import IncidentCore
import RPC

/// Admits or refuses CreateIncident calls by priority while the server is loaded.
public struct CreateAdmission: Sendable {
    /// Unary handlers in flight at which P1 is refused; lower priorities are refused earlier (see `threshold`).
    public let limit: Int
    private let severityMapping: [Severity: Priority]
    private let create = IncidentServiceMethods.createIncident

    public init(limit: Int, severityMapping: [Severity: Priority]) {
        self.limit = max(1, limit)
        self.severityMapping = severityMapping
    }

    /// The in-flight count from which `priority` is refused: P1 at the limit, P2 at ¾, P3 at ½, P4 at ¼; never P0.
    public func threshold(for priority: Priority) -> Int? {
        switch priority {
        case .p0: nil
        case .p1: limit
        case .p2: limit * 3 / 4
        case .p3: limit / 2
        case .p4: limit / 4
        }
    }

    /// The server hook.
    public func admit(_ method: MethodDescriptor, _ request: [UInt8]?, _ inFlight: Int) -> AdmissionDecision {
        guard method == create else { return .serve }
        let priority = request.flatMap(Self.severity(in:)).flatMap(SeverityName.init).map { name in
            switch name {
            case .level(let level): level
            case .word(let word): severityMapping[word] ?? word.defaultPriority
            }
        } ?? .p4  // no readable severity: the handler would refuse it anyway, so it is the first to shed
        guard let threshold = threshold(for: priority) else { return .serveUrgently }
        guard inFlight >= threshold else { return .serve }
        var trailers = Metadata()
        trailers.addString("1", forKey: "retry-after")
        return .refuse(RPCError(.resourceExhausted,
                                "server overloaded: \(priority) events are refused while \(inFlight) calls are in "
                                    + "flight; P0 is always accepted; retry after 1s",
                                trailingMetadata: trailers))
    }

    /// The `severity` string (field 9) of a serialized CreateIncidentRequest, read without decoding the rest;
    /// nil when absent or when the bytes are not well-formed up to it. The last occurrence wins, as in protobuf.
    static func severity(in bytes: [UInt8]) -> String? {
        var index = 0
        var found: String?
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while index < bytes.count && shift < 64 {
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        while index < bytes.count {
            guard let key = varint() else { return found }
            switch key & 7 {
            case 0: guard varint() != nil else { return found }
            case 1: index += 8
            case 5: index += 4
            case 2:
                guard let length = varint(), length <= UInt64(bytes.count - index) else { return found }
                let end = index + Int(length)
                if key >> 3 == 9 { found = String(decoding: bytes[index..<end], as: UTF8.self) }
                index = end
            default: return found
            }
        }
        return found
    }
}
