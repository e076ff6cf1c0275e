// The pipeline acting on the world, seen from real HTTP receivers on loopback: a P0 pages PagerDuty, posts to
// Slack, calls the SIEM webhook and blocks the user through LLM-Shield's admin API; signatures and idempotency
// keys checked here, outcomes on the incident's timeline.
import Foundation
import IncidentAPI
import IncidentCore
@testable import IncidentServer
import IncidentStore
import RPC
import Testing

@Suite("Pipeline deliveries", .enabled(if: TestDatabase.shouldRun), .serialized)
struct DeliveryTests {
    @Test("a P0 pages, notifies, calls the webhook and blocks the user; each outcome is on the timeline")
    func p0ActsOnTheWorld() async throws {
        let harness = try await PipelineHarness.start()
        let receiver = harness.receiver
        let created = try await harness.create(severity: "critical", user: "user-789")
        let id = created.incidentId
        #expect(try await eventually {
            let incident = try await harness.incident(id)
            let kinds = Set(incident.timeline.map(\.kind))
            return kinds.isSuperset(of: ["paged", "notified", "webhook_sent", "remediation_done"])
        })

        // PagerDuty: Events API v2 trigger, dedup key = incident id, routed by priority to the key.
        let pages = receiver.received(path: "/pagerduty")
        #expect(pages.count == 1)
        let page = json(pages[0].body)
        #expect(page["event_action"] as? String == "trigger")
        #expect(page["dedup_key"] as? String == id)
        #expect(page["routing_key"] as? String == PipelineHarness.pagerDutyKey)
        let payload = page["payload"] as? [String: Any]
        #expect(payload?["severity"] as? String == "critical")
        #expect((page["links"] as? [[String: Any]])?.first?["href"] as? String
                == "https://incidents.test:9090/incidents/\(id)")
        #expect(pages[0].headers["idempotency-key"] == "\(id):page.trigger")

        // Slack: Block Kit with the routed channel and the Acknowledge button.
        let slack = receiver.received(path: "/slack")
        #expect(slack.count == 1)
        let message = json(slack[0].body)
        #expect(message["channel"] as? String == "#incidents-critical")
        let blocks = message["blocks"] as? [[String: Any]] ?? []
        #expect(blocks.first?["type"] as? String == "header")
        #expect(String(describing: blocks).contains("acknowledge_incident"))

        // The webhook: bearer token and a valid signature over the exact body.
        let hooks = receiver.received(path: "/webhook")
        #expect(hooks.count == 1)
        #expect(hooks[0].headers["authorization"] == "Bearer \(PipelineHarness.webhookToken)")
        #expect(signatureIsValid(hooks[0], secret: PipelineHarness.webhookSecret))
        #expect((json(hooks[0].body)["incident"] as? [String: Any])?["id"] as? String == id)

        // LLM-Shield's admin API: block_user for the event's user, signed, keyed by the job.
        let blocks2 = receiver.received(path: "/shield/block")
        #expect(blocks2.count == 1)
        #expect(signatureIsValid(blocks2[0], secret: PipelineHarness.shieldSecret))
        #expect(!signatureIsValid(blocks2[0], secret: "another-secret"))
        let body = json(blocks2[0].body)
        #expect(body["action"] as? String == "block_user")
        #expect(body["incident_id"] as? String == id)
        #expect((body["parameters"] as? [String: String])?["user_id"] == "user-789")
        #expect(blocks2[0].headers["idempotency-key"] == "\(id):remediate:A1")

        let incident = try await harness.incident(id)
        #expect(incident.remediationActions.first?.state == .done)
        // Every outcome is audited too: one change per job outcome, by `system`.
        // A handler records its outcome before the runner completes its job: wait for the last completion.
        #expect(try await eventually { try await harness.store.jobs.counts(incidentID: IncidentID(id)!).done == 4 })
        let counts = try await harness.store.jobs.counts(incidentID: IncidentID(id)!)
        #expect(counts.done == 4)
        #expect(counts.dead == 0)
        // The timers wait for their due times (escalation, SLA clocks).
        #expect(counts.ready == 3)
        await harness.stop()
    }

    @Test("the executor gets the unredacted user_id, directly and after an approval; the stored action keeps it masked")
    func executorInputsBypassTheRedactedCopy() async throws {
        let user = "alice@example.com"
        let harness = try await PipelineHarness.start()
        let created = try await harness.create(severity: "critical", user: user)
        #expect(try await eventually { harness.receiver.received(path: "/shield/block").count == 1 })
        let sent = json(harness.receiver.received(path: "/shield/block")[0].body)
        #expect((sent["parameters"] as? [String: String])?["user_id"] == user)
        let stored = try await harness.incident(created.incidentId)
        #expect(stored.remediationActions.first?.params["user_id"] == "[REDACTED:email]")
        #expect(!"\(stored)".contains(user))
        await harness.stop()

        // An approved action's job is enqueued by the update: it finds the inputs in the action's expiry job.
        let approving = try await PipelineHarness.start { config in
            config.remediation.rules = [RemediationRule(name: "block", kind: .blockUser,
                                                        conditions: RuleConditions(priorities: [.p0]),
                                                        requiresApproval: true)]
        }
        let waiting = try await approving.create(severity: "critical", user: user)
        _ = try await approving.client("secops").updateIncident(
            .deciding(waiting.incidentId, action: "A1", .approve), options: .test)
        #expect(try await eventually { approving.receiver.received(path: "/shield/block").count == 1 })
        let approved = json(approving.receiver.received(path: "/shield/block")[0].body)
        #expect((approved["parameters"] as? [String: String])?["user_id"] == user)
        await approving.stop()
    }

    @Test("a remediation call is retried after a 500 and after a timeout, with the same idempotency key, and acts once")
    func retriesAfter500AndTimeout() async throws {
        let harness = try await PipelineHarness.start()
        harness.receiver.script([
            .init(status: 500),
            .init(status: 202, delaySeconds: 2.5),  // the executor's timeout is 1 s
            .init(status: 200),
        ], path: "/shield/block")
        let id = try await harness.create(severity: "critical").incidentId
        #expect(try await eventually { try await harness.incident(id).remediationActions.first?.state == .done })
        let attempts = harness.receiver.received(path: "/shield/block")
        #expect(attempts.count == 3)
        #expect(Set(attempts.map { $0.headers["idempotency-key"] ?? "" }) == ["\(id):remediate:A1"])
        #expect(attempts.allSatisfy { signatureIsValid($0, secret: PipelineHarness.shieldSecret) })
        let timeline = try await harness.incident(id).timeline
        #expect(timeline.filter { $0.kind == "remediation_done" }.count == 1)
        await harness.stop()
    }

    @Test("PagerDuty answering 400 is not retried: the job is dead-lettered and the failure is on the timeline")
    func badRequestIsNotRetried() async throws {
        let harness = try await PipelineHarness.start()
        harness.receiver.script([.init(status: 400)], path: "/pagerduty")
        let id = try await harness.create(severity: "high").incidentId
        #expect(try await eventually {
            try await harness.incident(id).timeline.contains { $0.kind == "page_failed" }
        })
        // Give a wrongly scheduled retry time to happen (retries here are 50-200 ms apart).
        try await Task.sleep(for: .milliseconds(800))
        #expect(harness.receiver.received(path: "/pagerduty").count == 1)
        let counts = try await harness.store.jobs.counts(incidentID: IncidentID(id)!)
        #expect(counts.dead == 1)
        await harness.stop()
    }

    @Test("a 429 from PagerDuty is retried with the same dedup key until accepted")
    func rateLimitedIsRetried() async throws {
        let harness = try await PipelineHarness.start()
        harness.receiver.script([.init(status: 429), .init(status: 503)], path: "/pagerduty")
        let id = try await harness.create(severity: "critical").incidentId
        #expect(try await eventually { try await harness.incident(id).timeline.contains { $0.kind == "paged" } })
        let pages = harness.receiver.received(path: "/pagerduty")
        #expect(pages.count == 3)
        #expect(Set(pages.map { json($0.body)["dedup_key"] as? String ?? "" }) == [id])
        await harness.stop()
    }

    @Test("a blocked user is unblocked after the rule's TTL; an action that never ran is not compensated")
    func compensation() async throws {
        let harness = try await PipelineHarness.start { config in
            config.remediation.rules[0].compensateAfterSeconds = 1
        }
        let done = try await harness.create(severity: "critical", user: "user-1").incidentId
        #expect(try await eventually(timeout: .seconds(30)) {
            try await harness.incident(done).remediationActions.first?.state == .compensated
        })
        let unblocks = harness.receiver.received(path: "/shield/unblock")
        #expect(unblocks.count == 1)
        #expect(json(unblocks[0].body)["action"] as? String == "unblock_user")
        #expect(unblocks[0].headers["idempotency-key"] == "\(done):remediate.compensate:A1")
        #expect(signatureIsValid(unblocks[0], secret: PipelineHarness.shieldSecret))

        // The executor refuses the block (400): the action failed, so there is nothing to undo.
        harness.receiver.script([.init(status: 400)], path: "/shield/block")
        let failed = try await harness.create(severity: "critical", user: "user-2").incidentId
        #expect(try await eventually {
            try await harness.incident(failed).timeline.contains { $0.kind == "compensation_skipped" }
        })
        #expect(try await harness.incident(failed).remediationActions.first?.state == .failed)
        #expect(harness.receiver.received(path: "/shield/unblock").count == 1)
        await harness.stop()
    }
}
