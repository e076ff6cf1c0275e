// grpc.health.v1.Health: SERVING while the database answers a cheap query through the store, NOT_SERVING
// otherwise (the `liveness` service is SERVING while the process answers at all). Open to every caller that passed
// mutual TLS, as load balancers and probes expect; Watch calls are capped, as each holds a task. Probes hammer it:
// one database query answers every Check within `freshness`, so health checks never compete with incidents for
// the pool.
import IncidentAPI
import IncidentStore
import RPC
import Synchronization

/// Reports whether the IncidentService can do its work, which it cannot without Postgres.
public final class HealthService: Grpc_Health_V1_HealthProvider {
    private typealias ServingStatus = Grpc_Health_V1_HealthCheckResponse.ServingStatus
    private let store: IncidentStore
    private let watchInterval: Duration
    private let freshness: Duration
    /// The last answer and when it was read, or the probe under way that every caller waits for.
    private let latest = Mutex<(status: ServingStatus, at: ContinuousClock.Instant)?>(nil)
    private let inFlight = Mutex<Task<ServingStatus, Never>?>(nil)
    /// Watch calls open at once, whoever makes them: each holds a task for as long as its client likes.
    private let watchers: StreamQuota
    /// The default of `maxWatchers`.
    public static let defaultMaxWatchers = 64

    /// The service names Check and Watch know: the whole server (""), the IncidentService, and `liveness`.
    static let services: Set<String> = ["", "incident_manager.IncidentService", liveness]
    /// SERVING whenever the process answers gRPC at all, without asking the database: what liveness probes ask,
    /// so a database outage makes replicas unready but does not restart them all.
    public static let liveness = "liveness"

    /// `watchInterval` is how often Watch probes the database while a watcher is connected; an answer younger
    /// than `freshness` is reused instead of asking the database again; at most `maxWatchers` Watch calls are open.
    public init(store: IncidentStore, watchInterval: Duration = .seconds(5),
                freshness: Duration = .milliseconds(250), maxWatchers: Int = HealthService.defaultMaxWatchers) {
        self.store = store
        self.watchers = StreamQuota(cap: maxWatchers, what: "Health.Watch calls (INCIDENT_HEALTH_WATCHERS)")
        self.watchInterval = watchInterval
        self.freshness = freshness
    }

    public func check(
        _ request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext
    ) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard Self.services.contains(request.service) else {
            throw RPCError(.notFound, "unknown service \(request.service)")
        }
        return Self.response(request.service == Self.liveness ? .serving : await probe())
    }

    /// Sends the current status, then each change, until the caller goes away.
    public func watch(
        _ request: Grpc_Health_V1_HealthCheckRequest,
        responses: ServerStreamWriter<Grpc_Health_V1_HealthCheckResponse>, context: ServerContext
    ) async throws {
        guard Self.services.contains(request.service) else {
            // The health protocol answers unknown services on Watch with SERVICE_UNKNOWN, not an error.
            try await responses.send(Self.response(.serviceUnknown))
            return
        }
        try await watchers.holding(for: "") {
            var last: Grpc_Health_V1_HealthCheckResponse.ServingStatus?
            while !context.isCancelled && !Task.isCancelled {
                let current = request.service == Self.liveness ? .serving : await probe()
                if current != last {
                    try await responses.send(Self.response(current))
                    last = current
                }
                try? await Task.sleep(for: watchInterval)
            }
        }
    }

    /// Whether the database answers, through the same cached probe as Check: the HTTP door's `GET /api/v1/health`.
    package func isServing() async -> Bool { await probe() == .serving }

    private func probe() async -> ServingStatus {
        if let known = latest.withLock({ $0 }), ContinuousClock.now - known.at < freshness { return known.status }
        let task = inFlight.withLock { current in
            if let current { return current }
            let store = self.store
            let task = Task<ServingStatus, Never> {
                do {
                    _ = try await store.latestPosition()
                    return .serving
                } catch {
                    return .notServing
                }
            }
            current = task
            return task
        }
        let status = await task.value
        inFlight.withLock { current in
            if current == task {
                current = nil
                latest.withLock { $0 = (status, ContinuousClock.now) }
            }
        }
        return status
    }

    private static func response(
        _ status: Grpc_Health_V1_HealthCheckResponse.ServingStatus
    ) -> Grpc_Health_V1_HealthCheckResponse {
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = status
        return response
    }
}
