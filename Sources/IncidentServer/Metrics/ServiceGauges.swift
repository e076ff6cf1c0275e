// Gauges of what is waiting and in use: admission lanes, the job queue, live streams and the database pool.
// Cheap in-memory ones are read at each scrape; the job queue (a query) is sampled on an interval.
import CoreMetrics
import IncidentStore
import Synchronization

/// Samples the service's queues and pools into swift-metrics gauges.
public final class ServiceGauges: Sendable {
    private let store: IncidentStore
    private let streams: ChangeHub?
    private let factory: any MetricsFactory
    private let laneDepth: [Gauge]
    private let laneRefusals: [Counter]
    private let refusalsSeen = Mutex([Int](repeating: 0, count: 5))
    private let preemptions: Counter
    private let preemptionsSeen = Mutex(0)
    private let subscribers: Gauge
    private let poolBusy: Gauge
    private let poolSize: Gauge
    private let jobDepth: Mutex<[String: Gauge]> = Mutex([:])
    private let sampler = Mutex<Task<Void, Never>?>(nil)

    public init(store: IncidentStore, streams: ChangeHub?, factory: any MetricsFactory = MetricsSystem.factory) {
        self.store = store
        self.streams = streams
        self.factory = factory
        laneDepth = (0..<5).map {
            Gauge(label: "incident_admission_queue_depth", dimensions: [("priority", "P\($0)")], factory: factory)
        }
        laneRefusals = (0..<5).map {
            Counter(label: "incident_admission_refusals_total", dimensions: [("priority", "P\($0)")], factory: factory)
        }
        preemptions = Counter(label: "incident_write_batches_preempted_total", factory: factory)
        subscribers = Gauge(label: "incident_stream_subscribers", factory: factory)
        poolBusy = Gauge(label: "incident_db_pool_connections_busy", factory: factory)
        poolSize = Gauge(label: "incident_db_pool_connections", factory: factory)
    }

    /// Reads the in-memory gauges now; called before each scrape renders.
    public func refresh() {
        for (priority, depth) in store.writeQueueDepths.prefix(laneDepth.count).enumerated() {
            laneDepth[priority].record(depth)
        }
        // The store counts refusals since start; the counters advance by what is new since the last look.
        let totals = store.writeRefusals
        let deltas = refusalsSeen.withLock { seen -> [Int] in
            defer { seen = totals }
            return zip(totals, seen).map { max(0, $0 - $1) }
        }
        for (priority, delta) in deltas.prefix(laneRefusals.count).enumerated() where delta > 0 {
            laneRefusals[priority].increment(by: delta)
        }
        let preempted = store.writePreemptions
        let newPreemptions = preemptionsSeen.withLock { seen in
            defer { seen = preempted }
            return max(0, preempted - seen)
        }
        if newPreemptions > 0 { preemptions.increment(by: newPreemptions) }
        subscribers.record(streams?.subscriberCount ?? 0)
        let pool = store.poolUsage
        poolBusy.record(pool.busy)
        poolSize.record(pool.size)
    }

    /// Samples the job queue's depth every `interval` until `stop()`.
    public func start(interval: Duration = .seconds(5)) {
        let task = Task { [weak self] in
            while !Task.isCancelled {
                await self?.sampleJobs()
                try? await Task.sleep(for: interval)
            }
        }
        sampler.withLock { $0 = task }
    }

    public func stop() {
        sampler.withLock { $0?.cancel() }
    }

    private func sampleJobs() async {
        guard let depths = try? await store.jobs.pendingDepths() else { return }
        var seen = Set<String>()
        for depth in depths {
            let key = "P\(depth.priority)/\(depth.state)"
            seen.insert(key)
            gauge(priority: depth.priority, state: depth.state, key: key).record(depth.count)
        }
        // Every priority/state shows (zero when empty) so dashboards need no absent() guards.
        for priority in 0..<5 {
            for state in ["ready", "running"] where !seen.contains("P\(priority)/\(state)") {
                gauge(priority: priority, state: state, key: "P\(priority)/\(state)").record(0)
            }
        }
    }

    private func gauge(priority: Int, state: String, key: String) -> Gauge {
        jobDepth.withLock { table in
            if let known = table[key] { return known }
            let made = Gauge(label: "incident_job_queue_depth",
                             dimensions: [("priority", "P\(priority)"), ("state", state)], factory: factory)
            table[key] = made
            return made
        }
    }
}
