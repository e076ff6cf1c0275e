// The unredacted parameters a remediation executor needs (the user to block is the `user_id` the stored incident
// shows masked). They travel in the action's job payloads, which no RPC returns and the job runner never logs,
// so readers of the incident only ever see the redacted copy.
import IncidentCore
import IncidentStore

/// Executor inputs carried in job payloads under `input.`-prefixed keys (`ExecutorInputPayload` in IncidentCore).
enum ExecutorInputs {
    /// The action's stored parameters with the executor's inputs over them: the job's own `inputs`, else those of
    /// the first job of the same action that carries them (a remediation enqueued by an approval, a compensation
    /// enqueued by a false-positive resolution).
    static func parameters(of action: (id: String, params: [String: String]), inputs: [String: String],
                           job: ClaimedJob, jobs: JobQueue) async throws -> [String: String] {
        var inputs = inputs
        if inputs.isEmpty, let incidentID = job.incidentID {
            inputs = ExecutorInputPayload.inputs(in: try await jobs.payloadCarryingInputs(
                incidentID: incidentID, actionID: action.id, prefix: ExecutorInputPayload.prefix) ?? [:])
        }
        return action.params.merging(inputs) { _, input in input }
    }
}
