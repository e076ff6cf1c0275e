// CreateIncident's load shedding as pure logic: who is calling (certificate or bearer token) and whether they may,
// the severity read from the raw request, the per-identity share of the urgent thread, and which priorities are
// refused at which load. The server wiring is tested in RPCTests (the hook) and by `make bench-p0` (the effect).
import IncidentAPI
import IncidentCore
@testable import IncidentServer
import ProtoWire
import RPC
import Testing

@Suite("CreateIncident admission")
struct CreateAdmissionTests {
    static let create = IncidentServiceMethods.createIncident

    static let apiKey = "im-admission-key-0123456789abcdef"

    /// The default identities plus `ci-bot`, reachable by an API key, that may not create events.
    static var config: ServiceConfig {
        var config = ServiceConfig.defaults
        config.identities.append(IdentityPolicy(name: "ci-bot", permissions: [.incidentRead]))
        config.identities.append(IdentityPolicy(name: "pager-bot", permissions: [.eventCreate]))
        config.tokens = TokenSettings(apiKeys: [
            APIKeyEntry(sha256: Digest.sha256(Array(apiKey.utf8)), identity: "ci-bot"),
            APIKeyEntry(sha256: Digest.sha256(Array((apiKey + "-pager").utf8)), identity: "pager-bot"),
        ])
        return config
    }

    static func admission(limit: Int = 100, mapping: [Severity: Priority]? = nil,
                          urgentPerIdentity: Int = CreateAdmission.defaultUrgentPerIdentity) -> CreateAdmission {
        var config = Self.config
        if let mapping { config.severityMapping = mapping }
        return CreateAdmission(limit: limit, config: config, urgentPerIdentity: urgentPerIdentity)
    }

    /// A call's context as the server builds it from the handshake: the certificate's common name, and metadata.
    static func call(_ method: MethodDescriptor = create, commonName: String? = "llm-shield",
                     metadata: Metadata = Metadata()) -> ServerContext {
        let peer = commonName.map { PeerIdentity(commonName: $0, dnsNames: [], uris: [], fingerprintSHA256: "00") }
        return ServerContext(method: method, peer: peer, peerAddress: "ipv4:127.0.0.1:1", requestMetadata: metadata,
                             deadline: nil)
    }

    static func request(severity: String) -> [UInt8] {
        var event = Sample.event(id: "admission", severity: severity)
        event.tags = ["user_id": "u-1"]
        return event.serializedBytes()
    }

    @Test("the severity field is read from the encoded request, whatever fields surround it")
    func readsSeverity() {
        #expect(CreateAdmission.severity(in: Self.request(severity: "critical")) == "critical")
        #expect(CreateAdmission.severity(in: Self.request(severity: "low")) == "low")
        #expect(CreateAdmission.severity(in: CreateIncidentRequest().serializedBytes()) == nil)
        // Truncated before the field, or garbage: no severity, no crash.
        let bytes = Self.request(severity: "high")
        for cut in 0..<bytes.count { _ = CreateAdmission.severity(in: Array(bytes[..<cut])) }
        #expect(CreateAdmission.severity(in: [0xFF, 0xFF, 0xFF]) == nil)
    }

    @Test("under load the least urgent are refused first and P0 never", arguments: [
        (0, [true, true, true, true, true]),
        (25, [true, true, true, true, false]),
        (50, [true, true, true, false, false]),
        (75, [true, true, false, false, false]),
        (100, [true, false, false, false, false]),
        (10_000, [true, false, false, false, false]),
    ])
    func refusesByPriority(inFlight: Int, admitted: [Bool]) {
        let admission = Self.admission()
        let severities = ["critical", "high", "medium", "low", "info"]
        let decisions = severities.map { admission.admit(Self.call(), Self.request(severity: $0), inFlight) }
        #expect(decisions.map { if case .refuse = $0 { false } else { true } } == admitted)
        // P0 always overtakes on the urgent thread; the others are served on the shared executor when admitted.
        #expect(decisions[0] == .serveUrgently)
        #expect(decisions.dropFirst().allSatisfy { if case .serveUrgently = $0 { false } else { true } })
        guard case .refuse(let refusal) = admission.admit(Self.call(), Self.request(severity: "info"), 10_000) else {
            Issue.record("info under load was not refused")
            return
        }
        #expect(refusal.code == .resourceExhausted)
        #expect(refusal.trailingMetadata.first("retry-after") == "1")
    }

    @Test("other methods are never refused for load, and the configured mapping decides the priority")
    func otherMethodsAndMapping() {
        let admission = Self.admission(mapping: [.low: .p0])
        #expect(admission.admit(Self.call(IncidentServiceMethods.getIncident, commonName: "secops"), nil, 10_000)
            == .serve)
        #expect(admission.admit(Self.call(), Self.request(severity: "low"), 10_000) == .serveUrgently)
        #expect(admission.admit(Self.call(), Self.request(severity: "bogus"), 10) == .serve)
        #expect(admission.admit(Self.call(), Self.request(severity: "bogus"), 30) != .serve)
    }

    @Test("an unknown certificate, a missing permission or a bad token is refused as the handler would refuse it")
    func refusesUnknownCallersBeforeTheHandler() throws {
        let admission = Self.admission()
        let critical = Self.request(severity: "critical")
        func refusal(_ context: ServerContext, _ request: [UInt8]? = nil) -> RPCError? {
            if case .refuse(let error) = admission.admit(context, request, 0) { error } else { nil }
        }
        let unknown = refusal(Self.call(commonName: "intruder"), critical)
        #expect(unknown?.code == .permissionDenied)
        #expect(unknown?.message == "the client certificate is not a known identity")
        #expect(refusal(Self.call(commonName: nil), critical)?.code == .permissionDenied)
        let viewer = refusal(Self.call(commonName: "viewer"), critical)
        #expect(viewer?.code == .permissionDenied)
        #expect(viewer?.message == "identity viewer lacks the event:create permission")
        // A token acts as its identity: ci-bot may read but not create, whatever the certificate may do.
        let token = Metadata(["authorization": "Bearer " + Self.apiKey])
        #expect(refusal(Self.call(commonName: "secops", metadata: token), critical)?.message
            == "identity ci-bot lacks the event:create permission")
        #expect(refusal(Self.call(IncidentServiceMethods.getIncident, commonName: "llm-shield", metadata: token))
            == nil)
        let forged = Metadata(["authorization": "Bearer not-a-key-this-server-knows"])
        #expect(refusal(Self.call(commonName: "secops", metadata: forged), critical)?.code == .unauthenticated)
        // Every IncidentService method needs its permission; health and reflection stay open to any peer.
        #expect(refusal(Self.call(IncidentServiceMethods.listIncidents, commonName: "llm-shield"))?.message
            == "identity llm-shield lacks the incident:read permission")
        #expect(refusal(Self.call(IncidentServiceMethods.streamIncidents, commonName: "intruder")) != nil)
        let health = MethodDescriptor(service: "grpc.health.v1.Health", method: "Check")
        #expect(admission.admit(Self.call(health, commonName: "intruder"), nil, 10_000) == .serve)
    }

    @Test("one identity holds at most its share of the urgent thread; more P0s are served as P1; ended calls free it")
    func capsUrgentCallsPerIdentity() {
        let admission = Self.admission(limit: 100, urgentPerIdentity: 2)
        let critical = Self.request(severity: "critical")
        let held = (0..<2).map { _ in Self.call() }
        for call in held { #expect(admission.admit(call, critical, 0) == .serveUrgently) }
        #expect(admission.urgentInFlight(for: "llm-shield") == 2)
        // The third is served on the shared executor, and shed as a P1 is when the server is loaded.
        #expect(admission.admit(Self.call(), critical, 0) == .serve)
        guard case .refuse(let refusal) = admission.admit(Self.call(), critical, 100) else {
            Issue.record("a P0 over the identity's urgent share was not shed as P1 at the limit")
            return
        }
        #expect(refusal.code == .resourceExhausted)
        #expect(refusal.message.contains("up to 2 at once per identity"))
        // Another identity (here by token) has its own share.
        let pager = Metadata(["authorization": "Bearer " + Self.apiKey + "-pager"])
        #expect(admission.admit(Self.call(metadata: pager), critical, 100) == .serveUrgently)
        #expect(admission.urgentInFlight(for: "pager-bot") == 1)
        // Calls that held no slot end without giving one back; an urgent call's end frees its slot once.
        admission.callEnded(Self.call())
        #expect(admission.urgentInFlight(for: "llm-shield") == 2)
        admission.callEnded(held[0])
        admission.callEnded(held[0])
        #expect(admission.urgentInFlight(for: "llm-shield") == 1)
        #expect(admission.admit(Self.call(), critical, 100) == .serveUrgently)
    }

    @Test("levels P0 to P4, in any case, are read as those priorities")
    func readsLevels() {
        let admission = Self.admission(limit: 100)
        #expect(admission.admit(Self.call(), Self.request(severity: "P0"), 10_000) == .serveUrgently)
        #expect(admission.admit(Self.call(), Self.request(severity: "p0"), 10_000) == .serveUrgently)
        #expect(admission.priority(named: "P3") == .p3)
        #expect(admission.priority(named: "p4") == .p4)
        #expect(admission.priority(named: "Critical") == .p0)
        for bogus in ["P5", "P", "P00", "P-1", "PP", "0", ""] { #expect(admission.priority(named: bogus) == nil) }
        // P2 is shed at ¾ of the limit, P1 only at the limit.
        #expect(admission.admit(Self.call(), Self.request(severity: "p2"), 75) != .serve)
        #expect(admission.admit(Self.call(), Self.request(severity: "P1"), 75) == .serve)
    }

    /// Raw wire pieces: a tag, a length-delimited string field, a group.
    static func tag(_ field: Int, _ wireType: WireType) -> [UInt8] { varint(UInt64(FieldTag.make(field, wireType))) }
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var bytes: [UInt8] = []
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        return bytes + [UInt8(value)]
    }
    static func string(_ field: Int, _ text: String) -> [UInt8] {
        tag(field, .lengthDelimited) + varint(UInt64(text.utf8.count)) + Array(text.utf8)
    }

    @Test("the scanner sees what the decoder sees: groups, repeats, wrong wire types and malformed bytes")
    func scannerMatchesTheDecoder() throws {
        let info = Self.request(severity: "info")
        func decoded(_ bytes: [UInt8]) -> String? {
            (try? CreateIncidentRequest(serializedBytes: bytes))?.severity
        }
        let cases: [(String, [UInt8])] = [
            // The last occurrence wins.
            ("repeated", info + Self.string(9, "critical") + Self.string(9, "low")),
            // A field 9 inside a group (an unknown field 15) is not the request's severity.
            ("inside a group", info + Self.tag(15, .startGroup) + Self.string(9, "critical") + Self.tag(15, .endGroup)),
            // A group the decoder skips whole, after the severity: the severity still counts.
            ("group after", Self.string(9, "critical") + Self.tag(15, .startGroup) + Self.tag(1, .varint) + [1]
                + Self.tag(15, .endGroup)),
            // A field 9 of another wire type is an unknown field, not a severity.
            ("varint field 9", info + Self.tag(9, .varint) + [0]),
            ("fixed32 field 9", info + Self.tag(9, .fixed32) + [1, 2, 3, 4]),
        ]
        for (name, bytes) in cases {
            #expect(CreateAdmission.severity(in: bytes) == decoded(bytes), "\(name)")
            #expect(decoded(bytes) != nil, "\(name): the decoder accepts it")
        }
        // Malformed anywhere (the decoder refuses it): no severity, so lowest priority.
        let malformed: [(String, [UInt8])] = [
            ("critical then an unbalanced group", Self.string(9, "critical") + Self.tag(15, .startGroup)),
            ("critical then a stray end-group", Self.string(9, "critical") + Self.tag(15, .endGroup)),
            ("critical then a truncated fixed64", Self.string(9, "critical") + Self.tag(3, .fixed64) + [1, 2]),
            ("critical then field 0", Self.string(9, "critical") + [0x00, 0x01]),
            ("critical then wire type 7", Self.string(9, "critical") + [0x0F]),
            ("invalid UTF-8", Self.tag(9, .lengthDelimited) + [2, 0xC3, 0x28]),
        ]
        for (name, bytes) in malformed {
            #expect(decoded(bytes) == nil, "\(name): the decoder refuses it")
            #expect(CreateAdmission.severity(in: bytes) == nil, "\(name)")
        }
        let admission = Self.admission(limit: 100)
        #expect(admission.admit(Self.call(), malformed[0].1, 25) != .serve)
    }
}
