// The unredacted parameters a remediation executor needs (the user to block is the `user_id` the stored incident
// shows masked). They travel in the action's job payloads, which no RPC returns and the job runner never logs,
// so readers of the incident only ever see the redacted copy.
import IncidentCore
import IncidentStore

/// Executor inputs carried in job payloads under `input.`-prefixed keys.
enum ExecutorInputs {
    /// The key prefix; the create decision writes the inputs (`ExecutorInputPayload` in IncidentCore).
    static let prefix = ExecutorInputPayload.prefix

    /// The inputs a payload carries (empty when it carries none).
    static func inputs(in payload: [String: String]) -> [String: String] {
        var inputs: [String: String] = [:]
        for (key, value) in payload where key.hasPrefix(prefix) { inputs[String(key.dropFirst(prefix.count))] = value }
        return inputs
    }

    /// The action's stored parameters with the executor's inputs over them: from the job itself, else from the
    /// first job of the same action that carries them (a remediation enqueued by an approval, a compensation
    /// enqueued by a false-positive resolution).
    static func parameters(of action: (id: String, params: [String: String]), job: ClaimedJob,
                           jobs: JobQueue) async throws -> [String: String] {
        var inputs = Self.inputs(in: job.payload)
        if inputs.isEmpty, let incidentID = job.incidentID {
            inputs = Self.inputs(in: try await jobs.payloadCarryingInputs(incidentID: incidentID, actionID: action.id,
                                                                        prefix: prefix) ?? [:])
        }
        return action.params.merging(inputs) { _, input in input }
    }
}
