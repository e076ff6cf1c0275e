// grpc.health.v1.Health: SERVING while the database answers a cheap query through the store, NOT_SERVING
// otherwise. Open to every caller that passed mutual TLS, as load balancers and probes expect. Probes hammer it:
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

    /// The service names Check and Watch know: the whole server ("") and the IncidentService.
    static let services: Set<String> = ["", "incident_manager.IncidentService"]

    /// `watchInterval` is how often Watch probes the database while a watcher is connected; an answer younger
    /// than `freshness` is reused instead of asking the database again.
    public init(store: IncidentStore, watchInterval: Duration = .seconds(5),
                freshness: Duration = .milliseconds(250)) {
        self.store = store
        self.watchInterval = watchInterval
        self.freshness = freshness
    }

    public func check(
        _ request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext
    ) async throws -> Grpc_Health_V1_HealthCheckResponse {
        guard Self.services.contains(request.service) else {
            throw RPCError(.notFound, "unknown service \(request.service)")
        }
        return Self.response(await probe())
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
        var last: Grpc_Health_V1_HealthCheckResponse.ServingStatus?
        while !context.isCancelled && !Task.isCancelled {
            let current = await probe()
            if current != last {
                try await responses.send(Self.response(current))
                last = current
            }
            try? await Task.sleep(for: watchInterval)
        }
    }

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
