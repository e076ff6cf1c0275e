// Load shedding for CreateIncident before a call costs a task: under a flood, calls pile up on the shared executor
// first-come-first-served long before the write queue's priority lanes see them, and a P0 waits behind them all.
// This runs on the completion-queue thread with the raw request. It first resolves who is calling (certificate or
// bearer token, no database) and refuses IncidentService calls the handler would refuse for identity or permission,
// so an unknown caller never rides the urgent lane nor counts against everyone's in-flight limit. For creates it
// then reads only the `severity` field, and once too many unary handlers are in flight it refuses the least urgent
// priorities first. P0 is never refused, and is served on the server's urgent thread so it does not queue behind
// the flood's handlers either, up to `urgentPerIdentity` at a time per identity.
import IncidentAPI
import IncidentCore
import ProtoWire
import RPC
import Synchronization

/// Admits or refuses IncidentService calls by identity, and CreateIncident calls by priority under load.
public final class CreateAdmission: Sendable {
    /// Unary handlers in flight at which P1 is refused; lower priorities are refused earlier (see `threshold`).
    public let limit: Int
    /// P0 creates one identity may have on the urgent thread at once; more are served as P1.
    public let urgentPerIdentity: Int
    /// The default of `urgentPerIdentity`: a storm's worth of concurrent criticals from one source, not a flood.
    public static let defaultUrgentPerIdentity = 16
    /// The severity mapping a create's word goes through, as in the handler.
    private let config: ServiceConfig
    private let authorizer: Authorizer
    private let create = IncidentServiceMethods.createIncident
    /// The permission each IncidentService method needs, as its handler checks it.
    private let permissions: [MethodDescriptor: Permission] = [
        IncidentServiceMethods.createIncident: .eventCreate,
        IncidentServiceMethods.getIncident: .incidentRead,
        IncidentServiceMethods.updateIncident: .incidentUpdate,
        IncidentServiceMethods.listIncidents: .incidentRead,
        IncidentServiceMethods.listIncidentEvents: .incidentRead,
        IncidentServiceMethods.streamIncidents: .incidentStream,
    ]
    /// Urgent creates in flight: per identity, and which calls were counted (released when they end).
    private let urgent = Mutex<(perIdentity: [String: Int], calls: [ObjectIdentifier: String])>(([:], [:]))

    public init(limit: Int, config: ServiceConfig, urgentPerIdentity: Int = CreateAdmission.defaultUrgentPerIdentity) {
        self.limit = max(1, limit)
        self.urgentPerIdentity = max(1, urgentPerIdentity)
        self.config = config
        self.authorizer = Authorizer(config: config)
    }

    /// The in-flight count from which `priority` is refused (`SheddingThresholds`, the rule every door uses).
    public func threshold(for priority: Priority) -> Int? {
        SheddingThresholds(limit: limit).threshold(for: priority)
    }

    /// The server hook.
    public func admit(_ context: ServerContext, _ request: [UInt8]?, _ inFlight: Int) -> AdmissionDecision {
        guard let permission = permissions[context.method] else { return .serve }
        let identity: IdentityPolicy
        do {
            identity = try authorizer.permitted(context, for: permission)
        } catch {
            return .refuse(error)
        }
        guard context.method == create else { return .serve }
        var priority = request.flatMap(Self.severity(in:)).flatMap(priority(named:))
            ?? .p4  // no readable severity: the handler would refuse it anyway, so it is the first to shed
        if priority == .p0 {
            if takeUrgentSlot(for: identity.name, call: ObjectIdentifier(context)) { return .serveUrgently }
            priority = .p1  // this identity already has its share of the urgent thread
        }
        guard let threshold = threshold(for: priority), inFlight >= threshold else { return .serve }
        var trailers = Metadata()
        trailers.addString("1", forKey: "retry-after")
        return .refuse(RPCError(.resourceExhausted,
                                "server overloaded: \(priority) events are refused while \(inFlight) calls are in "
                                    + "flight; P0 is always accepted (up to \(urgentPerIdentity) at once per "
                                    + "identity); retry after 1s",
                                trailingMetadata: trailers))
    }

    /// The priority a severity name asks for: a word (critical…info) through the configured mapping, or a level
    /// P0…P4 as itself; any case. Nil for anything else.
    func priority(named name: String) -> Priority? {
        SeverityName(name).map(config.level(for:))
    }

    private func takeUrgentSlot(for identity: String, call: ObjectIdentifier) -> Bool {
        urgent.withLock { urgent in
            let held = urgent.perIdentity[identity, default: 0]
            guard held < urgentPerIdentity else { return false }
            urgent.perIdentity[identity] = held + 1
            urgent.calls[call] = identity
            return true
        }
    }

    /// Gives back the urgent slot of a call that ended (a no-op for calls that held none).
    func callEnded(_ context: ServerContext) {
        urgent.withLock { urgent in
            guard let identity = urgent.calls.removeValue(forKey: ObjectIdentifier(context)) else { return }
            let held = urgent.perIdentity[identity, default: 1] - 1
            urgent.perIdentity[identity] = held > 0 ? held : nil
        }
    }

    /// Who a call acts as, for its log lines, when it carries a bearer token: `ci-bot via token (certificate
    /// llm-shield)`. Nil without a token (the certificate's name is the identity) or with one that is refused. The
    /// token itself is never part of it.
    func caller(_ context: ServerContext) -> String? {
        guard !context.requestMetadata.values("authorization").isEmpty,
              let identity = try? authorizer.authenticate(context) else { return nil }
        return "\(identity.name) via token (certificate \(context.peer?.commonName ?? "without a common name"))"
    }

    /// Urgent creates `identity` has in flight.
    func urgentInFlight(for identity: String) -> Int {
        urgent.withLock { $0.perIdentity[identity, default: 0] }
    }

    /// The `severity` string of a serialized CreateIncidentRequest, read without decoding the rest; nil
    /// when absent or when the bytes are not a well-formed message. It walks the decoder's own reader, so it sees what
    /// the decoder would: the last occurrence wins, groups are skipped whole (a field 9 inside one is not the
    /// severity), a field 9 of another wire type is an unknown field, and a string must be valid UTF-8.
    static func severity(in bytes: [UInt8]) -> String? {
        try? BinaryReader.lastString(field: CreateIncidentRequest.FieldNumber.severity, in: bytes[...])
    }
}

/// Tells `CreateAdmission` when calls end, so urgent slots are given back; chained before the server's observer.
public struct AdmissionCallObserver: ServerCallObserver {
    let admission: CreateAdmission
    let next: (any ServerCallObserver)?

    public init(_ admission: CreateAdmission, then next: (any ServerCallObserver)?) {
        self.admission = admission
        self.next = next
    }

    public func around(_ context: ServerContext, _ handler: () async -> Void) async {
        guard let next else { return await handler() }
        // The next observer binds the call's log scope with the certificate's name; a token call acts as the token's
        // identity, so its lines say so.
        guard let caller = admission.caller(context) else { return await next.around(context, handler) }
        await next.around(context) {
            guard var scope = CallScope.current else { return await handler() }
            scope.identity = caller
            await CallScope.$current.withValue(scope) { await handler() }
        }
    }

    public func callEnded(_ context: ServerContext, code: StatusCode, duration: Duration) {
        admission.callEnded(context)
        next?.callEnded(context, code: code, duration: duration)
    }
}
