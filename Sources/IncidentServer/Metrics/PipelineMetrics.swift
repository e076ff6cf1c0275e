// Counters the job pipeline bumps as work finishes: jobs by kind and outcome, pages by action and mode.
// Jobs are far rarer than calls, so handles are made through the global factory on each use.
import CoreMetrics

/// The pipeline's swift-metrics counters.
enum PipelineMetrics {
    /// A job settled: `outcome` is done, retry, dead or lease_lost.
    static func jobSettled(kind: String, outcome: String) {
        Counter(label: "incident_jobs_total", dimensions: [("kind", kind), ("outcome", outcome)]).increment()
    }

    /// A PagerDuty event was delivered (or, in mock mode, would have been).
    static func pageSent(action: String, mocked: Bool) {
        Counter(label: "incident_pages_sent_total",
                dimensions: [("action", action), ("mode", mocked ? "mock" : "live")]).increment()
    }
}
