// The timers as the running server drives them: the job runner fires escalation and SLA timers that CreateIncident
// enqueued, escalation pages the next level's own key under a new dedup key, and status changes over gRPC reach
// every alert at PagerDuty (the loopback receiver) as acknowledge and resolve.
import Foundation
import IncidentAPI
import IncidentCore
@testable import IncidentServer
import IncidentStore
import RPC
import Testing

@Suite("Timers through the job runner", .enabled(if: TestDatabase.shouldRun), .serialized)
struct TimersThroughRunnerTests {
    /// Levels of 1.2 s, and every SLA short, so the timers fire within the test.
    static func fastTimers(_ config: inout ServiceConfig) {
        config.notifications.pagerDuty.escalationTimeoutMinutes = 0.02
        config.remediation.rules = []
        config.sla = SLAPolicy(targets: [0: SLATarget(acknowledgeWithinSeconds: 1, resolveWithinSeconds: 600)])
    }

    static let levelKeys = ["TEST_PD_L1": "pd-key-level-1", "TEST_PD_L2": "pd-key-level-2"]

    /// `security-critical` with a key per level: level 1 has 1.2 s, level 2 (the last) ten minutes.
    static func levelsWithKeys(_ config: inout ServiceConfig) {
        fastTimers(&config)
        config.escalationPolicies = ["security-critical": EscalationPolicy(name: "security-critical", levels: [
            EscalationLevel(targets: ["security-oncall"], timeoutMinutes: 0.02, integrationKey: "${TEST_PD_L1}"),
            EscalationLevel(targets: ["security-lead"], timeoutMinutes: 10, integrationKey: "${TEST_PD_L2}"),
        ])]
        config.routing.escalationPolicy = "security-critical"
    }

    /// (action, routing key, dedup key) of every event the PagerDuty stand-in received, in order.
    static func events(_ harness: PipelineHarness) -> [[String]] {
        harness.receiver.received(path: "/pagerduty").map { json($0.body) }.map { body in
            ["event_action", "routing_key", "dedup_key"].map { body[$0] as? String ?? "?" }
        }
    }

    @Test("nobody acknowledges a P0: level 1's key, then level 2's under <id>:L2; both acknowledged; no resolve")
    func unacknowledgedEscalatesToTheNextLevelsKey() async throws {
        let harness = try await PipelineHarness.start(configure: { config in
            Self.levelsWithKeys(&config)
            config.notifications.pagerDuty.autoResolve = false
        }, environment: PipelineHarness.environment.merging(Self.levelKeys) { _, new in new })
        let id = try await harness.create(severity: "critical").incidentId
        #expect(try await eventually { Self.events(harness).count >= 2 })
        #expect(Self.events(harness) == [["trigger", "pd-key-level-1", id], ["trigger", "pd-key-level-2", "\(id):L2"]])
        // The acknowledgement SLA (1 s) ran out too: recorded once, and visible to API readers.
        #expect(try await eventually { try await harness.incident(id).timers.breach(.acknowledge) != nil })
        let incident = try await harness.incident(id)
        #expect(incident.timers.escalationStep == 1)
        #expect(incident.timeline.filter { $0.kind == "sla_breached" }.count == 1)
        let read = try await harness.client("secops").getIncident(.with(id: id), options: .test)
        #expect(read.escalationStep == 1)
        #expect(read.slaBreaches.map(\.clock).contains("acknowledge"))
        let escalated = try #require(incident.timeline.first { $0.kind == "escalated" })
        #expect(escalated.message.contains("level 2 of security-critical (step 1), paging security-lead via TEST_PD_L2"))
        #expect(try await eventually {
            try await harness.incident(id).timeline.contains { entry in
                entry.kind == "paged" && entry.message.contains("to level 2 (security-lead) via TEST_PD_L2")
                    && entry.message.contains("dedup key \(id):L2")
            }
        })
        // No key value ever reaches the timeline.
        #expect(try await harness.incident(id).timeline.allSatisfy { !$0.message.contains("pd-key-level") })

        let secops = try harness.client("secops")
        _ = try await secops.updateIncident(.with(id: id, status: "ACKNOWLEDGED"), options: .test)
        #expect(try await eventually { Self.events(harness).count >= 4 })
        #expect(Set(Self.events(harness).dropFirst(2)) == [
            ["acknowledge", "pd-key-level-1", id], ["acknowledge", "pd-key-level-2", "\(id):L2"]])
        for status in ["IN_PROGRESS", "RESOLVED"] {
            _ = try await secops.updateIncident(.with(id: id, status: status), options: .test)
        }
        #expect(try await eventually {
            try await harness.incident(id).timeline.filter { $0.kind == "page_acknowledged" }.count == 2
        })
        // auto_resolve: false: the resolution enqueues no PagerDuty resolve at all.
        try await Task.sleep(for: .seconds(1))
        #expect(Self.events(harness).count == 4)
        #expect(try await harness.store.incidentJobs(kind: "page.resolve", incidentID: IncidentID(id)!).isEmpty)
        await harness.stop()
    }

    @Test("resolving an escalated incident resolves every level's alert, each toward the key that opened it")
    func resolveReachesEveryLevelsAlert() async throws {
        let harness = try await PipelineHarness.start(
            configure: Self.levelsWithKeys,
            environment: PipelineHarness.environment.merging(Self.levelKeys) { _, new in new })
        let id = try await harness.create(severity: "critical").incidentId
        #expect(try await eventually { Self.events(harness).count >= 2 })
        let secops = try harness.client("secops")
        for status in ["ACKNOWLEDGED", "IN_PROGRESS", "RESOLVED"] {
            _ = try await secops.updateIncident(.with(id: id, status: status), options: .test)
        }
        #expect(try await eventually { Self.events(harness).count >= 6 })
        try await Task.sleep(for: .milliseconds(500))
        let events = Self.events(harness)
        #expect(events.count == 6)
        // Every alert is acknowledged before any is resolved, each toward the key that opened it.
        #expect(Set(events[2..<4]) == [["acknowledge", "pd-key-level-1", id],
                                       ["acknowledge", "pd-key-level-2", "\(id):L2"]])
        #expect(Set(events[4..<6]) == [["resolve", "pd-key-level-1", id], ["resolve", "pd-key-level-2", "\(id):L2"]])
        await harness.stop()
    }

    @Test("acknowledging in time stops escalation and reaches PagerDuty; resolving resolves the alert")
    func acknowledgeAndResolveReachPagerDuty() async throws {
        let harness = try await PipelineHarness.start { config in
            Self.fastTimers(&config)
            config.notifications.pagerDuty.escalationTimeoutMinutes = 0.05
            config.sla = SLAPolicy(targets: [0: SLATarget(acknowledgeWithinSeconds: 3, resolveWithinSeconds: 600)])
        }
        let id = try await harness.create(severity: "critical").incidentId
        #expect(try await eventually { !harness.receiver.received(path: "/pagerduty").isEmpty })
        let secops = try harness.client("secops")
        for status in ["ACKNOWLEDGED", "IN_PROGRESS", "RESOLVED"] {
            _ = try await secops.updateIncident(.with(id: id, status: status), options: .test)
        }
        let actions = {
            harness.receiver.received(path: "/pagerduty").compactMap { json($0.body)["event_action"] as? String }
        }
        #expect(try await eventually { actions().contains("resolve") })
        // Past both the first level's timeout (3 s) and the acknowledgement SLA (3 s), with a margin.
        try await Task.sleep(for: .seconds(5))
        #expect(actions() == ["trigger", "acknowledge", "resolve"])
        let incident = try await harness.incident(id)
        #expect(incident.timers.escalationStep == 0)
        #expect(incident.timers.slaBreaches.isEmpty)
        let counts = try await harness.store.jobs.counts(incidentID: IncidentID(id)!)
        #expect(counts.dead == 0)
        await harness.stop()
    }

    @Test("resolving calls the webhooks that listen for incident_resolved, once per resolution")
    func resolvedWebhook() async throws {
        let harness = try await PipelineHarness.start { config in
            config.webhooks[0].triggers = [WebhookTriggerConfig(event: "incident_resolved")]
        }
        let id = try await harness.create(severity: "low").incidentId
        let secops = try harness.client("secops")
        for status in ["ACKNOWLEDGED", "IN_PROGRESS", "RESOLVED"] {
            _ = try await secops.updateIncident(.with(id: id, status: status), options: .test)
        }
        #expect(try await eventually { harness.receiver.received(path: "/webhook").count == 1 })
        let hook = harness.receiver.received(path: "/webhook")[0]
        #expect(signatureIsValid(hook, secret: PipelineHarness.webhookSecret))
        let body = json(hook.body)
        #expect(String(describing: body).contains("incident_resolved"))
        #expect((body["incident"] as? [String: Any])?["id"] as? String == id)
        // Reopened and resolved again: a second call, for the second resolution.
        for status in ["IN_PROGRESS", "RESOLVED"] {
            _ = try await secops.updateIncident(.with(id: id, status: status), options: .test)
        }
        #expect(try await eventually { harness.receiver.received(path: "/webhook").count == 2 })
        await harness.stop()
    }
}
