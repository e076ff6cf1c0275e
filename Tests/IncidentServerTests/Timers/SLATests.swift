// SLA clocks through the real queue and Postgres: a clock that runs out is recorded as a breach once, however
// often its check runs, notified, and shown on the incident by GetIncident and the stream; a clock met is not.
// The checks are the ones CreateIncident enqueues (acknowledge within 2 s for a P0); escalation is off here.
import Foundation
import IncidentAPI
import IncidentCore
@testable import IncidentServer
import IncidentStore
import RPC
import Testing

@Suite("SLA timers", .enabled(if: TestDatabase.shouldRun), .serialized)
struct SLATests {
    static func start(configure: (inout ServiceConfig) -> Void = { _ in }) async throws -> TimerHarness {
        try await TimerHarness.start { config in
            TimerHarness.withoutEscalation(&config)
            configure(&config)
        }
    }

    @Test("not acknowledged in time: one breach, even when the check runs twice and at once")
    func breachRecordedOnce() async throws {
        let harness = try await Self.start()
        let id = try await harness.createP0()
        // Claims CreateIncident's acknowledgement check when it falls due; the jobs due before it (the page, the
        // Slack announcement) are completed untouched, as the test loop does.
        var check: ClaimedJob?
        let deadline = ContinuousClock.now + .seconds(20)
        while check == nil && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            for claimed in try await harness.store.jobs.claim(worker: "replica-b", limit: 20) {
                if check == nil && claimed.kind == "sla.check" {
                    check = claimed
                } else {
                    _ = try await harness.store.jobs.complete(claimed)
                }
            }
        }
        let job = try #require(check)
        #expect(job.payload["clock"] == "acknowledge")
        #expect(try await harness.store.incident(id).timers.slaBreaches.isEmpty)

        // Two replicas run the check at once (the lease expired under one of them), then it runs once more.
        let handler = SLACheckHandler(store: harness.store, settings: harness.settings)
        async let a = handler.run(job)
        async let b = handler.run(job)
        #expect(try await [a, b] == [.done, .done])
        #expect(try await handler.run(job) == .done)

        let incident = try await harness.service.client("viewer").getIncident(.with(id: id.description), options: .test)
        #expect(incident.slaBreaches.map(\.clock) == ["acknowledge"])
        let breach = try #require(incident.slaBreaches.first)
        #expect(breach.dueAt < breach.recordedAt)
        #expect(incident.timeline.filter { $0.kind == "sla_breached" }.count == 1)
        #expect(incident.timeline.first { $0.kind == "sla_breached" }?.message
                    .hasPrefix("acknowledge SLA breached: P0 incidents are to be acknowledged within 2s") == true)
        let jobs = try await harness.jobs(for: id)
        #expect(jobs.filter { $0.kind == "webhook" }.map(\.payload) == [["webhook": "siem", "trigger": "sla_breached"]])
        // Besides CreateIncident's announcement of the incident, one message about the breach.
        #expect(jobs.filter { $0.kind == "notify.slack" && $0.payload["event"] != "incident_created" }.map(\.payload)
                    == [["channel": "#sec-incidents", "event": "sla_breached"]])

        // A late acknowledgement does not undo the breach, and the stream shows it.
        _ = try await harness.service.client("secops").updateIncident(
            .with(id: id.description, status: "ACKNOWLEDGED"), options: .test)
        var since = StreamIncidentsRequest()
        since.sincePosition = incident.position - 1
        let stream = try harness.service.client("viewer").streamIncidents(
            since, options: CallOptions(timeout: .seconds(30)))
        var streamed: [IncidentAPI.Incident] = []
        for try await change in stream {
            streamed.append(change)
            if streamed.count == 2 { break }
        }
        #expect(streamed.allSatisfy { $0.slaBreaches.map(\.clock) == ["acknowledge"] })
        #expect(streamed.last?.status == "ACKNOWLEDGED")
        await harness.stop()
    }

    @Test("acknowledged in time: the check finds the clock met and records nothing")
    func clockMet() async throws {
        let harness = try await Self.start()
        let id = try await harness.createP0()
        _ = try await harness.service.client("secops").updateIncident(
            .with(id: id.description, status: "ACKNOWLEDGED"), options: .test)
        let before = try await harness.store.incident(id)
        let ran = try await harness.drainTimers(for: id)
        #expect(ran.map(\.0.idempotencyKey) == ["\(id):sla.check:acknowledge"])
        #expect(ran.map(\.1) == [.done])
        let after = try await harness.store.incident(id)
        #expect(after.timers.slaBreaches.isEmpty)
        #expect(after.version == before.version)
        await harness.stop()
    }

    @Test("the resolution clock is separate from the acknowledgement clock")
    func resolutionClock() async throws {
        let harness = try await Self.start()
        let id = try await harness.createP0()
        _ = try await harness.service.client("secops").updateIncident(
            .with(id: id.description, status: "ACKNOWLEDGED"), options: .test)
        // Due now, beside CreateIncident's hour-long check: the job names the deadline it was enqueued for (a
        // resolution target shortened to nothing).
        let created = try await harness.store.incident(id).createdAt.timeIntervalSince1970
        try await harness.enqueue([JobRequest(kind: "sla.check", key: "sla.check:resolve:\(Int(created))",
                                              priority: .p0, payload: ["clock": "resolve", "due_at": String(created)])],
                                  for: id)
        try await harness.drainTimers(for: id)
        let incident = try await harness.store.incident(id)
        #expect(incident.timers.slaBreaches.map(\.clock) == [.resolve])
        await harness.stop()
    }

    @Test("a check that comes before its clock runs out looks again at the deadline")
    func earlyCheck() async throws {
        // CreateIncident's own acknowledgement check is an hour away: only the early check and what it starts can
        // record the breach.
        let harness = try await Self.start { config in
            config.sla.targets[0] = SLATarget(acknowledgeWithinSeconds: 3600, resolveWithinSeconds: 7200)
        }
        let id = try await harness.createP0()
        let created = try await harness.store.incident(id).createdAt.timeIntervalSince1970
        let due = String(created + 3)
        try await harness.enqueue([JobRequest(kind: "sla.check", key: "sla.check:acknowledge:early", priority: .p0,
                                              payload: ["clock": "acknowledge", "due_at": due])],
                                  for: id)
        try await harness.runJobs {
            try await harness.jobs(for: id).filter { $0.kind == "sla.check" && $0.payload["due_at"] == due }.count == 2
        }
        #expect(try await harness.store.incident(id).timers.slaBreaches.isEmpty)
        try await harness.runJobs { try await harness.store.incident(id).timers.breach(.acknowledge) != nil }
        let breach = try await harness.store.incident(id).timers.breach(.acknowledge)
        #expect(breach.map { abs($0.dueAt.timeIntervalSince1970 - (created + 3)) < 0.01 } == true)
        await harness.stop()
    }
}
