// The handlers for the time-driven jobs, for the job runner to register beside the integration handlers.
import IncidentStore

/// The escalation, SLA and approval-expiry handlers.
enum TimerHandlers {
    /// One handler per timer kind: `escalate`, `sla.check`, `approval.expire`.
    static func all(store: IncidentStore, settings: TimerSettings) -> [any JobHandler] {
        [EscalationHandler(store: store, settings: settings), SLACheckHandler(store: store, settings: settings),
         ApprovalExpiryHandler(store: store)]
    }
}
