// Jobs: enqueued with their incident, claimed by priority, retried with backoff, dead-lettered, reclaimed.
import Foundation
import IncidentCore
import Testing
@testable import IncidentStore

@Suite("Job queue", .enabled(if: TestDatabase.shouldRun))
struct JobQueueTests {
    @Test("jobs commit with their incident, once, and are claimed most urgent first")
    func enqueueWithIncidentAndClaimByPriority() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let jobs = [
            JobRequest(kind: "notify.slack", key: "slack", priority: .p3),
            JobRequest(kind: "page", key: "page", priority: .p0, payload: ["service": "secops"]),
            JobRequest(kind: "remediate.block_ip", key: "block", priority: .p1),
            JobRequest(kind: "escalate", key: "escalate", priority: .p0, delay: .seconds(3600)),
        ]
        let draft = Sample.draft()
        let created = try await store.createIncident(Sample.request(draft, jobs: jobs))
        // A replay enqueues nothing new.
        _ = try await store.createIncident(Sample.request(draft, jobs: jobs))
        #expect(try await store.jobs.counts(incidentID: created.incidentID).ready == 4)

        let claimed = try await store.jobs.claim(worker: "w1", limit: 10)
        #expect(claimed.map(\.kind) == ["page", "remediate.block_ip", "notify.slack"])
        #expect(claimed.first?.payload == ["service": "secops"])
        #expect(claimed.first?.idempotencyKey == "\(created.incidentID):page")
        #expect(claimed.allSatisfy { $0.attempts == 1 && $0.incidentID == created.incidentID.description })
        // Leased jobs are not handed out twice; the delayed one is not due.
        #expect(try await store.jobs.claim(worker: "w2", limit: 10).isEmpty)
        for job in claimed { #expect(try await store.jobs.complete(job)) }
        let counts = try await store.jobs.counts(incidentID: created.incidentID)
        #expect(counts.done == 3)
        #expect(counts.ready == 1)
    }

    @Test("concurrent workers never claim the same job")
    func skipLocked() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let created = try await store.createIncident(Sample.request())
        try await store.jobs.enqueue((0..<60).map { JobRequest(kind: "k", key: "job-\($0)", priority: .p2) },
                                     incidentID: created.incidentID)
        let claimedIDs = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for worker in 0..<6 {
                group.addTask {
                    var ids: [Int64] = []
                    while true {
                        let jobs = try await store.jobs.claim(worker: "w\(worker)", limit: 4)
                        if jobs.isEmpty { return ids }
                        ids += jobs.map(\.id)
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(claimedIDs.count == 60)
        #expect(Set(claimedIDs).count == 60)
    }

    @Test("a failed job is retried after a backoff and dead-lettered after its last attempt")
    func retryThenDeadLetter() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let created = try await store.createIncident(Sample.request(
            jobs: [JobRequest(kind: "page", key: "page", priority: .p0, maxAttempts: 2)]))
        let backoff = RetryBackoff(base: .milliseconds(200), cap: .seconds(1))

        let firstRun = try #require(try await store.jobs.claim(worker: "w").first)
        let before = Date()
        guard case .retryScheduled(let at) = try await store.jobs.fail(firstRun, error: "HTTP 503", backoff: backoff)
        else {
            Issue.record("expected a retry")
            return
        }
        #expect(at > before.addingTimeInterval(0.05))
        #expect(at < before.addingTimeInterval(60))
        var secondRun: ClaimedJob?
        #expect(try await eventually {
            secondRun = try await store.jobs.claim(worker: "w").first
            return secondRun != nil
        })
        #expect(secondRun?.attempts == 2)
        let lastRun = try #require(secondRun)
        #expect(try await store.jobs.fail(lastRun, error: "HTTP 503", backoff: backoff) == .deadLettered)
        #expect(try await store.jobs.counts(incidentID: created.incidentID).dead == 1)
    }

    @Test("the job of a worker that died is reclaimed after its lease, with the same idempotency key")
    func expiredLeaseIsReclaimed() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        _ = try await store.createIncident(Sample.request(jobs: [JobRequest(kind: "page", key: "p", priority: .p0)]))
        let crashed = try #require(try await store.jobs.claim(worker: "crashed", lease: .milliseconds(300)).first)
        var reclaimed: ClaimedJob?
        #expect(try await eventually {
            reclaimed = try await store.jobs.claim(worker: "survivor", lease: .seconds(60)).first
            return reclaimed != nil
        })
        #expect(reclaimed?.id == crashed.id)
        #expect(reclaimed?.idempotencyKey == crashed.idempotencyKey)
        #expect(reclaimed?.attempts == 2)
        // The crashed worker coming back cannot settle a job it no longer holds.
        #expect(try await store.jobs.complete(crashed) == false)
        #expect(try await store.jobs.fail(crashed, error: "late") == .leaseLost)
        #expect(try await store.jobs.complete(try #require(reclaimed)))
    }

    @Test("backoff grows exponentially, stays under the cap and is jittered")
    func backoffShape() {
        var generator = SystemRandomNumberGenerator()
        let backoff = RetryBackoff(base: .seconds(1), cap: .seconds(60))
        for attempts in 1...10 {
            let full = min(Duration.seconds(60), .seconds(1) * (1 << (attempts - 1)))
            let delays = (0..<50).map { _ in backoff.delay(afterAttempts: attempts, using: &generator) }
            #expect(delays.allSatisfy { $0 >= full / 2 && $0 <= full })
            #expect(Set(delays).count > 1)
        }
    }
}
