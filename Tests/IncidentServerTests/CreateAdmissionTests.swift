// CreateIncident's load shedding as pure logic: the severity read from the raw request, and which priorities are
// refused at which load. The server wiring is tested in RPCTests (the hook) and by `make bench-p0` (the effect).
import IncidentAPI
import IncidentCore
@testable import IncidentServer
import RPC
import Testing

@Suite("CreateIncident admission")
struct CreateAdmissionTests {
    static let create = IncidentServiceMethods.createIncident

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
        let admission = CreateAdmission(limit: 100, severityMapping: [:])
        let severities = ["critical", "high", "medium", "low", "info"]
        let decisions = severities.map { admission.admit(Self.create, Self.request(severity: $0), inFlight) }
        #expect(decisions.map { if case .refuse = $0 { false } else { true } } == admitted)
        // P0 always overtakes on the urgent thread; the others are served on the shared executor when admitted.
        #expect(decisions[0] == .serveUrgently)
        #expect(decisions.dropFirst().allSatisfy { if case .serveUrgently = $0 { false } else { true } })
        guard case .refuse(let refusal) = admission.admit(Self.create, Self.request(severity: "info"), 10_000) else {
            Issue.record("info under load was not refused")
            return
        }
        #expect(refusal.code == .resourceExhausted)
        #expect(refusal.trailingMetadata.first("retry-after") == "1")
    }

    @Test("other methods are never refused, and the configured mapping decides the priority")
    func otherMethodsAndMapping() {
        let admission = CreateAdmission(limit: 100, severityMapping: [.low: .p0])
        #expect(admission.admit(IncidentServiceMethods.getIncident, nil, 10_000) == .serve)
        #expect(admission.admit(Self.create, Self.request(severity: "low"), 10_000) == .serveUrgently)
        #expect(admission.admit(Self.create, Self.request(severity: "bogus"), 10) == .serve)
        #expect(admission.admit(Self.create, Self.request(severity: "bogus"), 30) != .serve)
    }
}
