// UpdateIncident's root_cause and actions_taken: checked before anything is read, recorded only with or after the
// resolution, redacted like event text, merged with what an earlier update recorded, and put on the timeline.
import Foundation
import Testing
@testable import IncidentCore

@Suite struct ResolutionDetailsTests {
    let id = "INC-20261207-00001"

    func plan(_ current: Incident, _ request: UpdateChangeRequest) throws -> UpdatePlan {
        try IncidentDecisions(config: .defaults).update(current, try UpdateChange(request),
                                                        by: UpdateDecisionTests.responder, now: UpdateDecisionTests.now,
                                                        paged: false)
    }

    @Test("sizes are checked and blank input is no change")
    func checks() {
        func refusal(_ request: UpdateChangeRequest) -> String? {
            do { _ = try UpdateChange(request) } catch { return error.message }
            return nil
        }
        #expect(refusal(UpdateChangeRequest(incidentID: id, rootCause: String(repeating: "r", count: 4097)))?
            .hasPrefix("root_cause: is 4097 bytes") == true)
        #expect(refusal(UpdateChangeRequest(incidentID: id, actionsTaken: Array(repeating: "a", count: 51)))?
            .hasPrefix("actions_taken: 51 entries") == true)
        #expect(refusal(UpdateChangeRequest(incidentID: id, actionsTaken: ["ok", String(repeating: "a", count: 1025)]))?
            .hasPrefix("actions_taken[1]:") == true)
        #expect(refusal(UpdateChangeRequest(incidentID: id, rootCause: "  ", actionsTaken: [" "]))?
            .hasPrefix("nothing to change") == true)
    }

    @Test("refused before the resolution, recorded with it, redacted, and on the timeline")
    func recordedWithTheResolution() throws {
        let open = try UpdateDecisionTests.incident(.inProgress)
        #expect(throws: DomainError.self) {
            _ = try plan(open, UpdateChangeRequest(incidentID: id, rootCause: "expired certificate"))
        }
        let resolving = try plan(open, UpdateChangeRequest(
            incidentID: id, status: "RESOLVED", rootCause: " prompt injection via alice@example.com ",
            actionsTaken: ["blocked the user", "", "rotated keys"]))
        let record = try #require(resolving.resolution)
        #expect(!record.rootCause.contains("alice@example.com"))
        #expect(record.rootCause.hasPrefix("prompt injection via"))
        #expect(record.actionsTaken == ["blocked the user", "rotated keys"])
        let entry = try #require(resolving.timelineEntries.first { $0.kind == TimelineKind.resolutionRecorded })
        #expect(entry.details["root_cause"] == record.rootCause)
        #expect(entry.details["actions_taken"] == "blocked the user\nrotated keys")
        #expect(!resolving.changesNothing)
    }

    @Test("a later update on a resolved or closed incident adds to the record")
    func laterUpdatesMerge() throws {
        var closed = try UpdateDecisionTests.incident(.closed)
        closed.resolution = ResolutionDetails(rootCause: "expired certificate", actionsTaken: [])
        let later = try plan(closed, UpdateChangeRequest(incidentID: id, actionsTaken: ["renewed it"]))
        #expect(later.resolution == ResolutionDetails(rootCause: "expired certificate", actionsTaken: ["renewed it"]))
        #expect(later.status == nil)
    }
}
