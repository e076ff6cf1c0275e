// Pure domain rules: incident ids, severity to priority, the status machine.
import IncidentCore
import Testing

@Suite("Incident ids")
struct IncidentIDTests {
    @Test("ids format with at least five counter digits and parse back")
    func formatAndParse() throws {
        let id = try #require(IncidentID(day: 2026_11_23, counter: 42))
        #expect(id.description == "INC-20261123-00042")
        #expect(IncidentID("INC-20261123-00042") == id)
        let big = try #require(IncidentID(day: 2026_11_23, counter: 123_456))
        #expect(big.description == "INC-20261123-123456")
        #expect(IncidentID(big.description) == big)
    }

    @Test("malformed ids are refused", arguments: [
        "", "INC-2026112-00001", "INC-20261123-0001", "inc-20261123-00001", "INC-20261323-00001",
        "INC-20261100-00001", "INC-20261123-00000", "INC-20261123-0000a", "INC-20261123-00001-1", "INC--",
    ])
    func malformed(text: String) {
        #expect(IncidentID(text) == nil)
    }

    @Test("ids order by day, then counter")
    func ordering() throws {
        let a = try #require(IncidentID("INC-20261123-00009"))
        let b = try #require(IncidentID("INC-20261123-00010"))
        let c = try #require(IncidentID("INC-20261124-00001"))
        #expect(a < b && b < c)
    }
}

@Suite("Severity and status")
struct SeverityAndStatusTests {
    @Test("severity maps to priority P0 to P4, most severe most urgent")
    func severityPriority() {
        #expect(Severity.allCases.map(\.defaultPriority) == [.p0, .p1, .p2, .p3, .p4])
        #expect(Priority.p0 < .p4)
        #expect(IncidentDraft(source: "s", eventID: "e", contentHash: [], severity: .low, title: "t").priority == .p3)
        #expect(IncidentDraft(source: "s", eventID: "e", contentHash: [], severity: .low, title: "t", priority: .p0)
            .priority == .p0)
    }

    @Test("the status machine allows exactly the forward steps and reopening a resolved incident")
    func statusMachine() {
        let allowed: Set<[IncidentStatus]> = [
            [.new, .acknowledged], [.acknowledged, .inProgress], [.inProgress, .resolved], [.resolved, .closed],
            [.resolved, .inProgress],
        ]
        for from in IncidentStatus.allCases {
            for to in IncidentStatus.allCases {
                #expect(from.canMove(to: to) == allowed.contains([from, to]), "\(from) -> \(to)")
            }
        }
    }
}
