// Approvals over UpdateIncident (real mTLS, real Postgres) and their expiry through the real queue: approve
// enqueues the action's remediate job in the same transaction, reject records why, decisions on actions not
// awaiting approval are refused with a clear status, and an approval nobody gives in time becomes denied.
import Foundation
import IncidentAPI
import IncidentCore
@testable import IncidentServer
import IncidentStore
import RPC
import Testing

@Suite("Approvals", .enabled(if: TestDatabase.shouldRun), .serialized)
struct ApprovalTests {
    @Test("approve: the action is approved, on the timeline, and its remediate job enqueued at the incident's priority")
    func approve() async throws {
        let harness = try await TimerHarness.start()
        let id = try await harness.createP0()
        let secops = try harness.service.client("secops")
        let before = try await secops.getIncident(.with(id: id.description), options: .test)
        #expect(before.actions.map(\.state) == [.pendingApproval])

        let updated = try await secops.updateIncident(
            .deciding(id.description, action: "A1", .approve, reason: "confirmed attack"), options: .test)
        let action = try #require(updated.actions.first)
        #expect(action.state == .approved)
        #expect(action.decidedBy == "secops")
        #expect(!action.decidedAt.isEmpty)
        #expect(action.reason == "confirmed attack")
        #expect(action.parameters["user_id"] == "user-789")
        #expect(updated.version == before.version + 1)
        #expect(updated.timeline.last?.kind == "action_approved")
        #expect(updated.timeline.last?.message == "A1 block_user approved by secops: confirmed attack")
        let remediate = try await harness.jobs(for: id).filter { $0.kind == "remediate" }
        #expect(remediate.map(\.payload) == [["action_id": "A1"]])
        #expect(remediate.map(\.priority) == [0])

        // Decided already, unknown, or by someone without incident:update.
        let again = await status {
            _ = try await secops.updateIncident(.deciding(id.description, action: "A1", .reject), options: .test)
        }
        #expect(again?.code == .failedPrecondition)
        #expect(again?.message == "action_decisions[0]: action A1 is approved, not awaiting approval")
        let unknown = await status {
            _ = try await secops.updateIncident(.deciding(id.description, action: "A9", .approve), options: .test)
        }
        #expect(unknown?.code == .notFound)
        #expect(unknown?.message == "action_decisions[0]: action A9 does not exist on incident \(id)")
        let viewer = await status {
            _ = try await harness.service.client("viewer").updateIncident(
                .deciding(id.description, action: "A1", .approve), options: .test)
        }
        #expect(viewer?.code == .permissionDenied)
        let unspecified = await status {
            _ = try await secops.updateIncident(.deciding(id.description, action: "A1", .unspecified), options: .test)
        }
        #expect(unspecified?.code == .invalidArgument)
        #expect(try await harness.jobs(for: id).filter { $0.kind == "remediate" }.count == 1)
        await harness.stop()
    }

    @Test("reject: the action is rejected with the reason, and nothing is enqueued to run it")
    func reject() async throws {
        let harness = try await TimerHarness.start()
        let id = try await harness.createP0()
        let updated = try await harness.service.client("secops").updateIncident(
            .deciding(id.description, action: "A1", .reject, reason: "the user is our red team"), options: .test)
        #expect(updated.actions.map(\.state) == [.rejected])
        #expect(updated.actions.first?.reason == "the user is our red team")
        #expect(updated.timeline.last?.kind == "action_rejected")
        #expect(try await harness.jobs(for: id).filter { $0.kind == "remediate" }.isEmpty)
        let stored = try await harness.store.incident(id)
        #expect(stored.remediationActions.first?.state == .rejected)
        await harness.stop()
    }

    @Test("an approval past its TTL is FAILED_PRECONDITION; the expiry job denies it, and a decided one is left alone")
    func expiry() async throws {
        // The expiry jobs are CreateIncident's (due at the 1 s TTL); no escalation or SLA timer changes the
        // incidents meanwhile.
        let harness = try await TimerHarness.start(approvalTTL: 1) { config in
            TimerHarness.withoutEscalation(&config)
            TimerHarness.withoutSLA(&config)
        }
        let secops = try harness.service.client("secops")
        let expiring = try await harness.createP0()
        let decided = try await harness.createP0(user: "user-456")
        _ = try await secops.updateIncident(.deciding(decided.description, action: "A1", .approve), options: .test)
        for id in [expiring, decided] {
            let expiry = try await harness.jobs(for: id).filter { $0.kind == "approval.expire" }
            // The expiry job also carries the executor's inputs, for the remediation an approval enqueues.
            #expect(expiry.map { $0.payload["action_id"] } == ["A1"])
            #expect(expiry.allSatisfy { $0.payload["input.user_id"]?.hasPrefix("user-") == true })
            #expect(expiry.allSatisfy { abs($0.dueAfterCreation - 1) < 0.05 }, "due at the approval's 1 s TTL")
        }
        try await Task.sleep(for: .seconds(1.2))

        let late = await status {
            _ = try await secops.updateIncident(.deciding(expiring.description, action: "A1", .approve), options: .test)
        }
        #expect(late?.code == .failedPrecondition)
        #expect(late?.message.contains("expired") == true)

        let decidedBefore = try await harness.store.incident(decided)
        try await harness.drainTimers(for: expiring)
        try await harness.drainTimers(for: decided)
        let denied = try await secops.getIncident(.with(id: expiring.description), options: .test)
        #expect(denied.actions.map(\.state) == [.rejected])
        #expect(denied.actions.first?.reason == "approval expired")
        #expect(denied.actions.first?.decidedBy == "system")
        #expect(denied.timeline.last?.message == "A1 block_user denied: approval expired")
        #expect(try await harness.store.incident(expiring).remediationActions.first?.state == .denied)
        let afterDenial = await status {
            _ = try await secops.updateIncident(.deciding(expiring.description, action: "A1", .reject), options: .test)
        }
        #expect(afterDenial?.code == .failedPrecondition)
        #expect(afterDenial?.message == "action_decisions[0]: action A1 was denied when its approval expired; "
                    + "it can no longer be decided")

        let decidedAfter = try await harness.store.incident(decided)
        #expect(decidedAfter.version == decidedBefore.version)
        #expect(decidedAfter.remediationActions.first?.state == .approved)
        await harness.stop()
    }
}
