// The API view of what timers and decisions recorded: escalation step, SLA breaches, who decided an action.
import Foundation
import IncidentAPI
import IncidentCore

extension IncidentAPI.Incident {
    /// Sets the escalation step and the SLA breaches.
    mutating func setTimers(_ timers: IncidentTimers) {
        escalationStep = UInt32(clamping: timers.escalationStep)
        slaBreaches = timers.slaBreaches.map { breach in
            var message = IncidentAPI.SLABreach()
            message.clock = breach.clock.rawValue
            message.dueAt = APITime.format(breach.dueAt)
            message.recordedAt = APITime.format(breach.recordedAt)
            return message
        }
    }
}

extension IncidentAPI.RemediationAction {
    /// Moves `decided_by` and `decided_at` (epoch seconds) from the stored parameters to their own fields.
    mutating func setDecision(from parameters: inout [String: String]) {
        decidedBy = parameters.removeValue(forKey: "decided_by") ?? ""
        let decidedAt = parameters.removeValue(forKey: "decided_at").flatMap(Double.init)
        self.decidedAt = APITime.format(decidedAt.map(Date.init(timeIntervalSince1970:)))
    }
}
