// The timers as the running server drives them: the job runner fires escalation and SLA timers that CreateIncident
// enqueued, and status changes over gRPC reach PagerDuty (the loopback receiver) as acknowledge and resolve.
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

    @Test("nobody acknowledges a P0: the runner re-pages the same alert and records the SLA breach once")
    func unacknowledgedEscalates() async throws {
        let harness = try await PipelineHarness.start(configure: Self.fastTimers)
        let id = try await harness.create(severity: "critical").incidentId
        let sentTriggers = {
            harness.receiver.received(path: "/pagerduty").map { json($0.body) }
                .filter { $0["event_action"] as? String == "trigger" }
        }
        // The escalation's re-page is a job of its own: it reaches PagerDuty a moment after the step is recorded.
        #expect(try await eventually {
            let incident = try await harness.incident(id)
            return incident.timers.escalationStep >= 1 && incident.timers.breach(.acknowledge) != nil
                && sentTriggers().count >= 2
        })
        let incident = try await harness.incident(id)
        #expect(incident.timeline.contains { $0.kind == "escalated" })
        #expect(incident.timeline.filter { $0.kind == "sla_breached" }.count == 1)
        // Every trigger is for the same PagerDuty alert: the escalation updates it rather than opening another.
        let triggers = sentTriggers()
        #expect(triggers.count >= 2)
        #expect(triggers.allSatisfy { $0["dedup_key"] as? String == id })
        // Visible to API readers too.
        let read = try await harness.client("secops").getIncident(.with(id: id), options: .test)
        #expect(read.escalationStep >= 1)
        #expect(read.slaBreaches.map(\.clock).contains("acknowledge"))
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
