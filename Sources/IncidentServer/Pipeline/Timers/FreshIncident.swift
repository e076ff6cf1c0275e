// The read-decide-write loop every timer handler shares: read the incident, decide on what it says now, write
// with the version read. A conflict means someone changed it meanwhile (an acknowledgement, a decision), so the
// handler reads again and decides again rather than acting on what is no longer true.
import IncidentCore
import IncidentStore

/// Reads a job's incident and runs a decision on it until the write goes through.
struct FreshIncident: Sendable {
    let store: IncidentStore
    /// Reads and decisions per job before giving the job back to the queue for a later retry.
    var rounds = 3

    /// Runs `decide` on the current incident of `job`; a version conflict thrown from it starts another round.
    func run(_ job: ClaimedJob, _ decide: (Incident) async throws -> JobResult) async throws -> JobResult {
        guard let raw = job.incidentID, let id = IncidentID(raw) else {
            return .failed(reason: "\(job.kind) job without an incident")
        }
        for _ in 0..<rounds {
            let incident: Incident
            do {
                incident = try await store.incident(id)
            } catch StoreError.notFound {
                return .failed(reason: "incident \(id) does not exist")
            }
            do {
                return try await decide(incident)
            } catch StoreError.versionConflict {
                continue
            }
        }
        return .retry(reason: "incident \(id) kept changing while the \(job.kind) job ran")
    }
}
