// im_record_timer: an escalation step or an SLA breach is recorded once, whatever version the writer names, with
// its timeline entries, jobs, change-log row and audit entry in one transaction.
import Foundation
import IncidentCore
import Testing
@testable import IncidentStore

@Suite("Timer changes", .enabled(if: TestDatabase.shouldRun))
struct TimerChangeTests {
    @Test("a step or a breach already recorded is refused as alreadyRecorded, even at the current version")
    func recordedOnce() async throws {
        let (store, _) = try await TestDatabase.freshStore()
        defer { store.shutdown() }
        let id = try await store.createIncident(Sample.request()).incidentID
        let entry = TimelineEntry(at: Date(), actor: "system", kind: "escalated", message: "step 1")
        let page = JobRequest(kind: "page.trigger", key: "page.trigger:step-1", priority: .p0, payload: ["step": "1"])
        let step = TimerChange(incidentID: id, expectedVersion: 1, actor: "system", escalationStep: 1,
                               timelineEntries: [entry], jobs: [page])
        guard case .recorded(let first) = try await store.recordTimerChange(step) else {
            Issue.record("the first escalation was not recorded")
            return
        }
        #expect(first.version == 2)
        var again = step
        again.expectedVersion = first.version
        #expect(try await store.recordTimerChange(again) == .alreadyRecorded)
        var stale = step
        stale.escalationStep = 2
        await #expect(throws: StoreError.versionConflict(incidentID: id.description, expected: 1, actual: 2)) {
            try await store.recordTimerChange(stale)
        }

        let breach = SLABreach(clock: .acknowledge, dueAt: Date(timeIntervalSince1970: 1_700_000_000),
                               recordedAt: Date(timeIntervalSince1970: 1_700_000_005))
        let record = TimerChange(incidentID: id, expectedVersion: 2, actor: "system", slaBreach: breach)
        #expect(try await store.recordTimerChange(record) != .alreadyRecorded)
        var twice = record
        twice.expectedVersion = 3
        #expect(try await store.recordTimerChange(twice) == .alreadyRecorded)
        var resolve = twice
        resolve.slaBreach?.clock = .resolve
        #expect(try await store.recordTimerChange(resolve) != .alreadyRecorded)

        let incident = try await store.incident(id)
        #expect(incident.version == 4)
        #expect(incident.timers.escalationStep == 1)
        #expect(incident.timers.slaBreaches.map(\.clock) == [.acknowledge, .resolve])
        #expect(incident.timers.breach(.acknowledge) == breach)
        #expect(incident.timeline.filter { $0.kind == "escalated" }.count == 1)
        #expect(try await store.jobs.counts(incidentID: id).ready == 1)
        #expect(try await store.hasJob(kind: "page.trigger", incidentID: id))
        #expect(try await !store.hasJob(kind: "page.resolve", incidentID: id))
        let changes = try await store.changes(after: 0)
        #expect(changes.filter { $0.incident.id == id }.map(\.version) == [1, 2, 3, 4])
        #expect(try await store.verifyAuditChain().isIntact)
        await #expect(throws: StoreError.notFound(incidentID: "INC-20260101-99999")) {
            try await store.recordTimerChange(TimerChange(incidentID: IncidentID("INC-20260101-99999")!,
                                                          expectedVersion: 1, actor: "system", escalationStep: 1))
        }
    }
}
