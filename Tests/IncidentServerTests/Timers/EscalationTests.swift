// Escalation through the real queue and Postgres: the next level is paged after the configured timeout when
// nobody acknowledges, not after an acknowledgement, never past the end of the policy, and once per step even
// when a timer runs twice or two replicas run it at once.
import Foundation
import IncidentAPI
import IncidentCore
@testable import IncidentServer
import IncidentStore
import RPC
import Testing

@Suite("Escalation timers", .enabled(if: TestDatabase.shouldRun), .serialized)
struct EscalationTests {
    @Test("unacknowledged: each level is paged after the previous one's timeout, then the policy stops")
    func escalatesThenStops() async throws {
        let harness = try await TimerHarness.start()
        let id = try await harness.createP0()
        let enqueued = ContinuousClock.now
        try await harness.enqueue([EscalationTimer.first(of: TimerHarness.policy, priority: .p0)], for: id)

        try await harness.runJobs { try await harness.store.incident(id).timers.escalationStep == 1 }
        #expect(ContinuousClock.now - enqueued >= .milliseconds(900), "escalated before the level's 1 s timeout")
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
        let pages = jobs.filter { $0.kind == "page.trigger" }
        #expect(pages.map(\.payload["step"]) == ["1", "2"])
        #expect(pages.map(\.payload["targets"]) == ["secondary", "manager"])
        #expect(pages.allSatisfy {
            $0.priority == 0 && $0.payload["reason"]?.contains("not acknowledged within 1s") == true
        })
        #expect(jobs.filter { $0.kind == "webhook" }.map(\.payload) == [
            ["webhook": "siem", "trigger": "escalated"], ["webhook": "siem", "trigger": "escalated"]])
        #expect(jobs.filter { $0.kind == "notify.slack" }.count == 2)
        await harness.stop()
    }

    @Test("an acknowledgement before the timeout stops escalation")
    func acknowledgementStopsIt() async throws {
        let harness = try await TimerHarness.start()
        let id = try await harness.createP0()
        try await harness.enqueue([EscalationTimer.first(of: TimerHarness.policy, priority: .p0)], for: id)
        _ = try await harness.service.client("secops").updateIncident(
            .with(id: id.description, status: "ACKNOWLEDGED"), options: .test)

        let ran = try await harness.drainTimers(for: id)
        #expect(ran.map(\.0.kind) == ["escalate"])
        #expect(ran.map(\.1) == [.done])
        let incident = try await harness.store.incident(id)
        #expect(incident.timers.escalationStep == 0)
        #expect(!incident.timeline.contains { $0.kind == "escalated" })
        #expect(try await harness.jobs(for: id).filter { $0.kind == "page.trigger" }.isEmpty)
        await harness.stop()
    }

    @Test("the same timer run twice, one after the other and at once, escalates one step once")
    func idempotent() async throws {
        let harness = try await TimerHarness.start()
        let id = try await harness.createP0()
        var first = EscalationTimer.first(of: TimerHarness.policy, priority: .p0)
        first.delay = .zero
        try await harness.enqueue([first], for: id)
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
        #expect(jobs.filter { $0.kind == "page.trigger" }.count == 1)
        #expect(jobs.filter { $0.kind == "escalate" }.map(\.payload["step"]) == ["0", "1"])
        #expect(try await harness.store.verifyAuditChain().isIntact)
        await harness.stop()
    }

    @Test("the policy frozen in the timer wins over a config changed since")
    func frozenPolicy() async throws {
        let harness = try await TimerHarness.start()
        let id = try await harness.createP0()
        let frozen = EscalationPolicy(name: "security-critical", levels: [
            EscalationLevel(targets: ["night-shift"], timeoutMinutes: 0),
            EscalationLevel(targets: ["ciso"], timeoutMinutes: 0),
        ])
        try await harness.enqueue([EscalationTimer.first(of: frozen, priority: .p0)], for: id)
        try await harness.drainTimers(for: id)
        let pages = try await harness.jobs(for: id).filter { $0.kind == "page.trigger" }
        #expect(pages.map(\.payload["targets"]) == ["ciso"])
        await harness.stop()
    }

    @Test("a timer without a frozen policy follows the policy the config gives the incident's policy name")
    func unfrozenTimer() async throws {
        let harness = try await TimerHarness.start()
        let id = try await harness.createP0()
        try await harness.enqueue([JobRequest(kind: "escalate", key: "escalate:0", priority: .p0,
                                              payload: ["step": "0"])], for: id)
        try await harness.runJobs { try await harness.store.incident(id).timers.escalationStep == 1 }
        let jobs = try await harness.jobs(for: id)
        #expect(jobs.filter { $0.kind == "page.trigger" }.map(\.payload["targets"]) == ["secondary"])
        // The next timer carries the policy from then on.
        let next = try #require(jobs.first { $0.kind == "escalate" && $0.payload["step"] == "1" })
        #expect(EscalationTimer.policy(in: next.payload) == TimerHarness.policy)
        await harness.stop()
    }

    @Test("a timer without a usable step is dead-lettered at once, naming the problem")
    func badPayload() async throws {
        let harness = try await TimerHarness.start()
        let id = try await harness.createP0()
        try await harness.enqueue([JobRequest(kind: "escalate", key: "escalate:bad", priority: .p0,
                                              payload: ["step": "-1"])], for: id)
        let ran = try await harness.drainTimers(for: id).filter { $0.0.kind == "escalate" }
        #expect(ran.map(\.1) == [.failed(reason: "escalate job without a valid step")])
        await harness.stop()
    }
}
