// Which updates go to a linked Jira issue: ours with a status or note, not Jira's own (no echo), not unlinked ones.
import Foundation
import Testing
@testable import IncidentCore

@Suite struct JiraSyncDecisionTests {
    func syncJobs(linked: Bool, actor: String, _ request: UpdateChangeRequest) throws -> [PlannedJob] {
        var config = ServiceConfig.defaults
        config.jira = JiraConfig()
        var current = try UpdateDecisionTests.incident(.acknowledged)
        if linked {
            current.timeline = [TimelineEntry(at: UpdateDecisionTests.now, actor: "system", kind: TimelineKind.jiraLinked,
                                              message: "Jira issue SEC-1 opened", details: ["key": "SEC-1"])]
        }
        let identity = IdentityPolicy(name: actor, permissions: [.incidentUpdate])
        return try IncidentDecisions(config: config)
            .update(current, try UpdateChange(request), by: identity, now: UpdateDecisionTests.now, paged: false)
            .jobs.filter { $0.kind == .jiraSync }
    }

    @Test func onlyOurStatusAndNotesOnLinkedIncidentsAreSynced() throws {
        let id = "INC-20261207-00001"
        let jobs = try syncJobs(linked: true, actor: "oncall", UpdateChangeRequest(incidentID: id, status: "IN_PROGRESS",
                                                                                  note: "on it"))
        #expect(jobs.map(\.payload) == [["status": "IN_PROGRESS", "note": "on it"]])
        #expect(jobs.first?.key == "jira.sync:v4")
        #expect(try syncJobs(linked: true, actor: "jira", UpdateChangeRequest(incidentID: id, status: "IN_PROGRESS")).isEmpty)
        #expect(try syncJobs(linked: false, actor: "oncall", UpdateChangeRequest(incidentID: id, note: "x")).isEmpty)
        #expect(try syncJobs(linked: true, actor: "oncall", UpdateChangeRequest(incidentID: id, assignedTeam: "t")).isEmpty)
    }
}
