// What a status change starts, in the update's own transaction: PagerDuty acknowledge and resolve for incidents
// that were paged (none for those that were not), and compensation when resolved as a false positive.
import Foundation
import IncidentAPI
import IncidentCore
@testable import IncidentServer
import IncidentStore
import RPC
import Testing

@Suite("Status changes drive PagerDuty and compensation", .enabled(if: TestDatabase.shouldRun), .serialized)
struct StatusEffectsTests {
    @Test("acknowledging and resolving a paged incident enqueue page.acknowledge and page.resolve")
    func pagedIncident() async throws {
        let harness = try await TimerHarness.start()
        let id = try await harness.createP0()
        // CreateIncident paged the P0 (PagerDuty is on in the test config).
        #expect(try await harness.jobs(for: id).filter { $0.kind == "page.trigger" }.map(\.payload)
                    == [["reason": "P0 with auto_page"]])
        let secops = try harness.service.client("secops")
        for status in ["ACKNOWLEDGED", "IN_PROGRESS", "RESOLVED", "IN_PROGRESS", "RESOLVED"] {
            _ = try await secops.updateIncident(.with(id: id.description, status: status), options: .test)
        }
        let jobs = try await harness.jobs(for: id)
        #expect(jobs.filter { $0.kind == "page.acknowledge" }.map(\.payload) == [["actor": "secops"]])
        // Resolved twice (reopened in between): PagerDuty hears of each resolution.
        #expect(jobs.filter { $0.kind == "page.resolve" }.count == 2)
        #expect(jobs.filter { $0.kind.hasPrefix("page.") }.allSatisfy { $0.priority == 0 })
        await harness.stop()
    }

    @Test("an incident that was never paged sends PagerDuty nothing")
    func unpagedIncident() async throws {
        // PagerDuty is on, but only P0 and P1 are paged: a P2 never is.
        let harness = try await TimerHarness.start()
        let id = try await harness.create(severity: "medium")
        #expect(try await harness.store.incident(id).priority == .p2)
        let secops = try harness.service.client("secops")
        for status in ["ACKNOWLEDGED", "IN_PROGRESS", "RESOLVED"] {
            _ = try await secops.updateIncident(.with(id: id.description, status: status), options: .test)
        }
        #expect(try await harness.jobs(for: id).filter { $0.kind.hasPrefix("page.") }.isEmpty)
        await harness.stop()
    }

    @Test("resolved as a false positive: actions that acted are compensated; others are not")
    func falsePositive() async throws {
        let harness = try await TimerHarness.start()
        let id = try await harness.createP0()
        let secops = try harness.service.client("secops")
        // A1 (block_user, approved) ran and succeeded, as the remediation runner records it; A2 never ran.
        _ = try await secops.updateIncident(.deciding(id.description, action: "A1", .approve), options: .test)
        var incident = try await harness.store.incident(id)
        var actions = incident.remediationActions
        actions[0].state = .succeeded
        actions.append(IncidentCore.RemediationAction(id: "A2", kind: "block_user", state: .rejected))
        _ = try await harness.store.updateIncident(IncidentUpdate(
            incidentID: id, expectedVersion: incident.version, actor: "system", remediationActions: actions))
        for status in ["ACKNOWLEDGED", "IN_PROGRESS"] {
            _ = try await secops.updateIncident(.with(id: id.description, status: status), options: .test)
        }

        var wrong = UpdateIncidentRequest.with(id: id.description, note: "not an attack")
        wrong.resolution = .falsePositive
        let refused = await status { _ = try await secops.updateIncident(wrong, options: .test) }
        #expect(refused?.code == .invalidArgument)
        #expect(refused?.message == "resolution: is given together with status RESOLVED")

        var resolve = UpdateIncidentRequest.with(id: id.description, status: "RESOLVED", note: "red team exercise")
        resolve.resolution = .falsePositive
        let resolved = try await secops.updateIncident(resolve, options: .test)
        #expect(resolved.status == "RESOLVED")
        #expect(resolved.timeline.contains { $0.kind == "resolution" && $0.message == "resolved as a false positive" })
        #expect(resolved.timeline.contains {
            $0.kind == "compensation_scheduled"
                && $0.message == "A1 block_user: unblock_user scheduled (false positive)"
        })
        let compensations = try await harness.jobs(for: id).filter { $0.kind == "remediate.compensate" }
        #expect(compensations.map(\.payload) == [["action_id": "A1", "reason": "false_positive"]])
        incident = try await harness.store.incident(id)
        #expect(incident.status == .resolved)
        await harness.stop()
    }
}
