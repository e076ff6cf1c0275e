// Jobs run most urgent first (a P0 page overtakes a backlog of P3 notifications), a replayed event enqueues nothing
// and leaves the rules' cooldowns and blast-radius counts alone, and a full write queue refuses low priorities with
// RESOURCE_EXHAUSTED over gRPC while P0 still gets in.
import Foundation
import IncidentAPI
import IncidentCore
@testable import IncidentServer
@testable import IncidentStore
import RPC
import Testing

@Suite("Pipeline priority and replays", .enabled(if: TestDatabase.shouldRun), .serialized)
struct PriorityAndReplayTests {
    @Test("a P0 page goes out before a waiting backlog of P3 notifications")
    func p0OvertakesBacklog() async throws {
        let harness = try await PipelineHarness.start(configure: { config in config.jobs.workers = 1 },
                                                      startJobs: false)
        // Every Slack post takes 100 ms: twenty P3 announcements are a two-second backlog for the one worker.
        harness.receiver.script(Array(repeating: .init(status: 200, delaySeconds: 0.1), count: 100), path: "/slack")
        for _ in 0..<20 { _ = try await harness.create(severity: "low") }
        harness.pipeline.start()
        #expect(try await eventually { harness.receiver.received(path: "/slack").count >= 1 })
        let p0 = try await harness.create(severity: "critical").incidentId
        // Counted once the P0 is committed: the time its create took on a loaded machine is not the runner's.
        let postedAtCommit = harness.receiver.received(path: "/slack").count
        #expect(try await eventually { !harness.receiver.received(path: "/pagerduty").isEmpty })
        // Then the rest of the backlog (twenty P3 posts and the P0's own) drains.
        #expect(try await eventually { harness.receiver.received(path: "/slack").count == 21 })
        let arrivals = harness.receiver.received.map(\.path)
        let pageIndex = try #require(arrivals.firstIndex(of: "/pagerduty"))
        let slackBefore = arrivals[..<pageIndex].filter { $0 == "/slack" }.count
        // After the commit at most the post in flight, and the P0's own Slack post (same priority) came first.
        #expect(slackBefore <= postedAtCommit + 2, "\(slackBefore - postedAtCommit) P3 posts overtook the P0 page")
        #expect(json(harness.receiver.received(path: "/pagerduty")[0].body)["dedup_key"] as? String == p0)
        // Much of the backlog was still waiting when the page had gone out.
        #expect(arrivals[pageIndex...].filter { $0 == "/slack" }.count >= 10)
        await harness.stop()
    }

    @Test("a replay enqueues no jobs and touches neither cooldowns nor blast-radius counts")
    func replayIsInert() async throws {
        let harness = try await PipelineHarness.start(configure: { config in
            config.remediation.rules[0].cooldownSeconds = 1
            config.remediation.blastRadius = ["block_user": BlastRadiusCap(maxActions: 2, windowSeconds: 3600)]
        }, startJobs: false)
        func state(_ response: CreateIncidentResponse) async throws -> String? {
            try await harness.incident(response.incidentId).remediationActions.first?.state.rawValue
        }
        let first = try await harness.create(eventID: "evt-1", user: "u-1")
        #expect(try await state(first) == "pending")
        #expect(try await state(harness.create(eventID: "evt-2", user: "u-1")) == "suppressed_cooldown")
        let jobsBefore = try await harness.store.jobs.counts()
        // Past the cooldown a replay would plan a fresh block of u-1 if it counted.
        try await Task.sleep(for: .milliseconds(1200))
        for _ in 0..<3 {
            let replay = try await harness.create(eventID: "evt-1", user: "u-1")
            #expect(replay.duplicate)
            #expect(replay.incidentId == first.incidentId)
        }
        #expect(try await harness.store.jobs.counts() == jobsBefore)
        // The replays set no cooldown for u-1 and took no room under the cap of two blocks per tenant.
        #expect(try await state(harness.create(eventID: "evt-3", user: "u-1")) == "pending")
        #expect(try await state(harness.create(eventID: "evt-4", user: "u-2")) == "capped_blast_radius")
        await harness.stop()
    }

    @Test("a full write queue answers RESOURCE_EXHAUSTED to a P3 and still takes a P0")
    func fullQueueOverGRPC() async throws {
        let harness = try await PipelineHarness.start(startJobs: false, writeQueueCapacity: 1)
        // Stall the writer: every create takes the chain head's row lock first.
        let blocker = ConnectionWorker(settings: harness.database, name: "test-blocker", capacity: 4)
        defer { blocker.stop() }
        _ = try await blocker.run { try $0.query("BEGIN") }
        _ = try await blocker.run { try $0.query("SELECT 1 FROM chain_head WHERE id = 1 FOR UPDATE") }

        let inFlight = Task { try await harness.create(severity: "low") }
        #expect(try await eventually { harness.store.writeQueueDepths == [0, 0, 0, 0, 0] })
        try await Task.sleep(for: .milliseconds(200))
        let waiting = Task { try await harness.create(severity: "low") }
        #expect(try await eventually { harness.store.writeQueueDepths == [0, 0, 0, 1, 0] })
        let refused = await status { _ = try await harness.create(severity: "low") }
        #expect(refused?.code == .resourceExhausted)
        #expect(refused?.message.contains("write queue full; P3 refused") == true)
        let p0 = Task { try await harness.create(severity: "critical") }
        // The P0 displaced the waiting P3, whose caller is refused too.
        let displaced = await status { _ = try await waiting.value }
        #expect(displaced?.code == .resourceExhausted)
        _ = try await blocker.run { try $0.query("COMMIT") }
        let admitted = try await p0.value
        _ = try await inFlight.value
        #expect(try await harness.incident(admitted.incidentId).priority == .p0)
        await harness.stop()
    }
}
