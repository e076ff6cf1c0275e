// Correlation's decisions: the key an event folds on, and what a folded event that raises its incident starts.
// Whether it folds is the store's to say (one open incident per key is enforced there), so a create plans both.
import Foundation

extension IncidentDecisions {
    /// The key `event` correlates on under the configured `correlation` block; nil when it opens its own incident.
    public func correlationKey(for event: ValidatedEvent) -> CorrelationKey? {
        config.correlation.key(for: event.event)
    }

    /// The jobs a folded event starts when it is more urgent than the incident it folds into, as for a severity
    /// change: the page the policy gives its level, once per level per incident (the key names the level), so a
    /// burst of criticals folding into a P1 pages once. A folded event starts nothing else: no Slack message,
    /// webhook or remediation (the incident's first event started those).
    public func raiseJobs(from createJobs: [PlannedJob], level: Priority) -> [PlannedJob] {
        createJobs.compactMap { job in
            guard job.kind == .pageTrigger else { return nil }
            var raised = job
            raised.key = "page.trigger:raised:\(level)"
            return raised
        }
    }
}
