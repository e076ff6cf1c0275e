// Escalation through the real queue and Postgres: the next level is paged after the configured timeout when
// nobody acknowledges, not after an acknowledgement, never past the end of the policy, and once per step even
// when a timer runs twice or two replicas run it at once. The first timer is the one CreateIncident enqueues with a
// P0's page, carrying the policy frozen then; SLA clocks are off here.
import Foundation
import IncidentAPI
import IncidentCore
@testable import IncidentServer
import IncidentStore
import RPC
import Testing

@Suite("Escalation timers", .enabled(if: TestDatabase.shouldRun), .serialized)
struct EscalationTests {
    static func start(
        configure: (inout ServiceConfig) -> Void = { _ in }, reloadedSince: ((inout ServiceConfig) -> Void)? = nil
    ) async throws -> TimerHarness {
        try await TimerHarness.start(configure: { config in
            TimerHarness.withoutSLA(&config)
            configure(&config)
        }, reloadedSince: reloadedSince)
    }

    @Test("unacknowledged: each level is paged after the previous one's timeout, then the policy stops")
    func escalatesThenStops() async throws {
        let harness = try await Self.start()
        let beforeCreate = ContinuousClock.now
        let id = try await harness.createP0()
        let created = try await harness.jobs(for: id)
        #expect(created.filter { $0.kind == "page.trigger" }.map(\.key) == ["page.trigger"])
        let first = try #require(created.first { $0.kind == "escalate" })
        #expect(first.key == "escalate:0")
        #expect(PlannedJob.decodedPolicy(first.payload["policy"]) == TimerHarness.policy, "the policy frozen at creation")
        #expect(abs(first.dueAfterCreation - 1) < 0.05, "the first timer is due the first level's 1 s after creation")

        try await harness.runJobs { try await harness.store.incident(id).timers.escalationStep == 1 }
        #expect(ContinuousClock.now - beforeCreate >= .milliseconds(900), "escalated before the level's 1 s timeout")
        try await harness.drainTimers(for: id)
        // Exhausted: nothing more is due, however long we wait.
        try await Task.sleep(for: .seconds(1.5))
        try await harness.drainTimers(for: id)

        let incident = try await harness.service.client("secops").getIncident(.with(id: id.description), options: .test)
        #expect(incident.escalationStep == 2)
        let escalated = incident.timeline.filter { $0.kind == "escalated" }
        #expect(escalated.count == 2)
        #expect(escalated.first?.message.contains("level 2 of security-critical (step 1), paging secondary") == true)
        #expect(escalated.last?.message.hasSuffix("last step of the policy") == true)
        #expect(escalated.allSatisfy { $0.actor == "system" })

        let jobs = try await harness.jobs(for: id)
        let timers = jobs.filter { $0.kind == "escalate" }
        #expect(timers.map(\.payload["step"]) == ["0", "1"], "no timer after the last step")
        #expect(timers.allSatisfy { $0.state == "done" })
        // Each timer is due one level timeout after the page before it.
        let gap = timers[1].dueAfterCreation - timers[0].dueAfterCreation
        #expect(gap >= 0.95 && gap < 10, "the second timer was due \(gap) s after the first")
        // CreateIncident's page of the first level, then one re-page per escalation.
        let pages = jobs.filter { $0.kind == "page.trigger" }
        #expect(pages.map(\.payload["step"]) == [nil, "1", "2"])
        #expect(pages.map(\.payload["targets"]) == [nil, "secondary", "manager"])
        #expect(pages.allSatisfy { $0.priority == 0 })
        #expect(pages.dropFirst().allSatisfy { $0.payload["reason"]?.contains("not acknowledged within 1s") == true })
        #expect(jobs.filter { $0.kind == "webhook" }.map(\.payload) == [
            ["webhook": "siem", "trigger": "escalated"], ["webhook": "siem", "trigger": "escalated"]])
        #expect(jobs.filter { $0.kind == "notify.slack" }.map(\.payload["event"])
                    == ["incident_created", "escalated", "escalated"])
        await harness.stop()
    }

    @Test("an acknowledgement before the timeout stops escalation")
    func acknowledgementStopsIt() async throws {
        let harness = try await Self.start()
        let id = try await harness.createP0()
        _ = try await harness.service.client("secops").updateIncident(
            .with(id: id.description, status: "ACKNOWLEDGED"), options: .test)

        let ran = try await harness.drainTimers(for: id)
        #expect(ran.map(\.0.kind) == ["escalate"])
        #expect(ran.map(\.1) == [.done])
        let incident = try await harness.store.incident(id)
        #expect(incident.timers.escalationStep == 0)
        #expect(!incident.timeline.contains { $0.kind == "escalated" })
        // Only CreateIncident's page: nobody re-paged.
        #expect(try await harness.jobs(for: id).filter { $0.kind == "page.trigger" }.map(\.key) == ["page.trigger"])
        await harness.stop()
    }

    @Test("the same timer run twice, one after the other and at once, escalates one step once")
    func idempotent() async throws {
        // A first level with no time to acknowledge: CreateIncident's first timer is due at once.
        let harness = try await Self.start { config in
            var policy = TimerHarness.policy
            policy.levels[0].timeoutMinutes = 0
            config.escalationPolicies = [policy.name: policy]
        }
        let id = try await harness.createP0()
        let job = try #require(try await harness.store.jobs.claim(worker: "replica-a", limit: 20)
            .first { $0.kind == "escalate" })
        let handler = EscalationHandler(store: harness.store, settings: harness.settings)

        async let a = handler.run(job)
        async let b = handler.run(job)
        #expect(try await [a, b] == [.done, .done])
        #expect(try await handler.run(job) == .done)

        let incident = try await harness.store.incident(id)
        #expect(incident.timers.escalationStep == 1)
        #expect(incident.timeline.filter { $0.kind == "escalated" }.count == 1)
        let jobs = try await harness.jobs(for: id)
        #expect(jobs.filter { $0.kind == "page.trigger" }.map(\.key) == ["page.trigger", "page.trigger:step-1"])
        #expect(jobs.filter { $0.kind == "escalate" }.map(\.payload["step"]) == ["0", "1"])
        #expect(try await harness.store.verifyAuditChain().isIntact)
        await harness.stop()
    }

    @Test("the policy frozen in the timer wins over a config changed since")
    func frozenPolicy() async throws {
        // Created under a policy of night-shift then ciso; the handlers' config has been reloaded since with the
        // test policy (primary, secondary, manager).
        let frozen = EscalationPolicy(name: "security-critical", levels: [
            EscalationLevel(targets: ["night-shift"], timeoutMinutes: 0),
            EscalationLevel(targets: ["ciso"], timeoutMinutes: 0),
        ])
        let harness = try await Self.start(configure: { $0.escalationPolicies = [frozen.name: frozen] },
                                           reloadedSince: { $0.escalationPolicies = [TimerHarness.policy.name:
                                                                                         TimerHarness.policy] })
        #expect(harness.settings.config.escalationPolicies[frozen.name] == TimerHarness.policy)
        let id = try await harness.createP0()
        try await harness.drainTimers(for: id)
        let pages = try await harness.jobs(for: id).filter { $0.kind == "page.trigger" }
        #expect(pages.map(\.payload["targets"]) == [nil, "ciso"])
        await harness.stop()
    }

    @Test("a timer without a frozen policy follows the policy the config gives the incident's policy name")
    func unfrozenTimer() async throws {
        // Paged without an escalation timer from CreateIncident; the timer is enqueued by hand, as before policies
        // were frozen into timers.
        let harness = try await Self.start(configure: TimerHarness.withoutEscalation)
        let id = try await harness.createP0()
        try await harness.enqueue([JobRequest(kind: "escalate", key: "escalate:0", priority: .p0,
                                              payload: ["step": "0"])], for: id)
        try await harness.runJobs { try await harness.store.incident(id).timers.escalationStep == 1 }
        let jobs = try await harness.jobs(for: id)
        #expect(jobs.filter { $0.kind == "page.trigger" }.map(\.payload["targets"]) == [nil, "secondary"])
        // The next timer carries the policy from then on.
        let next = try #require(jobs.first { $0.kind == "escalate" && $0.payload["step"] == "1" })
        #expect(PlannedJob.decodedPolicy(next.payload["policy"]) == TimerHarness.policy)
        await harness.stop()
    }

    @Test("a timer without a usable step is dead-lettered at once, naming the problem")
    func badPayload() async throws {
        let harness = try await Self.start(configure: TimerHarness.withoutEscalation)
        let id = try await harness.createP0()
        try await harness.enqueue([JobRequest(kind: "escalate", key: "escalate:bad", priority: .p0,
                                              payload: ["step": "-1"])], for: id)
        let ran = try await harness.drainTimers(for: id).filter { $0.0.kind == "escalate" }
        #expect(ran.map(\.1) == [.failed(reason: "escalate job: step is not a count")])
        await harness.stop()
    }
}
