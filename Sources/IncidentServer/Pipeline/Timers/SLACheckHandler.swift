// SLA clocks: an `sla.check` job is due when an incident's acknowledgement or resolution clock runs out. If the
// goal was not reached in time, the breach is recorded on the incident once (a second record of the same clock is
// refused by the store), with an `sla_breached` timeline entry and notifications in the same transaction.
import Foundation
import IncidentCore
import IncidentStore

/// Runs `sla.check` jobs.
struct SLACheckHandler: JobHandler {
    let store: IncidentStore
    let settings: TimerSettings
    var kinds: [JobKind] { [.slaCheck] }
    /// A job this much (or more) ahead of its clock was enqueued for a shorter target than the one in force now.
    static let earlyTolerance = 1.0

    func run(_ job: ClaimedJob) async throws -> JobResult {
        guard case .slaCheck(let clock, let dueAt) = try job.work() else { return .failed(reason: "not an SLA job") }
        return try await FreshIncident(store: store).run(job) { incident in
            if incident.timers.breach(clock) != nil { return .done }
            let createdAt = incident.createdAt.timeIntervalSince1970
            guard let deadline = dueAt
                    ?? settings.config.sla.deadlines(priority: incident.priority.rawValue, createdAt: createdAt)[clock]
            else { return .done }
            let now = Date().timeIntervalSince1970
            if now < deadline - Self.earlyTolerance {
                try await checkAgain(incident, clock: clock, at: deadline, now: now)
                return .done
            }
            // The job became due when the clock ran out (by the database's clock): judge as of then at the
            // earliest, so a worker whose clock lags a little does not call an open clock met.
            let breached = SLAPolicy.isBreached(
                clock, deadline: deadline, acknowledgedAt: incident.acknowledgedAt?.timeIntervalSince1970,
                resolvedAt: incident.resolvedAt?.timeIntervalSince1970, now: max(now, deadline + 0.001))
            guard breached else { return .done }
            _ = try await store.recordTimerChange(breach(of: incident, clock: clock, deadline: deadline))
            return .done
        }
    }

    /// The breach, its timeline entry and its notifications.
    func breach(of incident: Incident, clock: SLAKind, deadline: Double) -> TimerChange {
        let due = Date(timeIntervalSince1970: deadline)
        let goal = clock == .acknowledge ? "acknowledged" : "resolved"
        let allowed = EscalationTimer.describe(seconds: deadline - incident.createdAt.timeIntervalSince1970)
        let entry = TimelineEntry(
            at: Date(), actor: "system", kind: TimelineKind.slaBreached,
            message: "\(clock.rawValue) SLA breached: \(incident.priority) incidents are to be \(goal) within "
                + "\(allowed), due \(APITime.format(due))")
        return TimerChange(
            incidentID: incident.id, expectedVersion: incident.version, actor: "system",
            slaBreach: SLABreach(clock: clock, dueAt: due, recordedAt: Date()), timelineEntries: [entry],
            jobs: settings.notifications(of: "sla_breached", occurrence: clock.rawValue, for: incident))
    }

    /// Re-checks at the clock's deadline, for a job that came early (the target was lengthened since it was
    /// enqueued).
    private func checkAgain(_ incident: Incident, clock: SLAKind, at deadline: Double, now: Double) async throws {
        let job = JobRequest(PlannedJob(
            .slaCheck(clock: clock, dueAt: deadline), key: "sla.check:\(clock.rawValue):\(Int(deadline))",
            priority: incident.priority, delay: .milliseconds(Int64(((deadline - now) * 1000).rounded()))))
        try await store.jobs.enqueue([job], incidentID: incident.id)
    }
}
