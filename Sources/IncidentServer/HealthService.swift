// grpc.health.v1.Health: SERVING while the database answers a cheap query through the store, NOT_SERVING
// otherwise. Open to every caller that passed mutual TLS, as load balancers and probes expect.
import IncidentAPI
import IncidentStore
import RPC

/// Reports whether the IncidentService can do its work, which it cannot without Postgres.
public final class HealthService: Grpc_Health_V1_HealthProvider {
    private let store: IncidentStore
    private let watchInterval: Duration

    /// The service names Check and Watch know: the whole server ("") and the IncidentService.
    static let services: Set<String> = ["", "incident_manager.IncidentService"]

    /// `watchInterval` is how often Watch probes the database while a watcher is connected.
    public init(store: IncidentStore, watchInterval: Duration = .seconds(5)) {
        self.store = store
        self.watchInterval = watchInterval
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

    private func probe() async -> Grpc_Health_V1_HealthCheckResponse.ServingStatus {
        do {
            _ = try await store.latestPosition()
            return .serving
        } catch {
            return .notServing
        }
    }

    private static func response(
        _ status: Grpc_Health_V1_HealthCheckResponse.ServingStatus
    ) -> Grpc_Health_V1_HealthCheckResponse {
        var response = Grpc_Health_V1_HealthCheckResponse()
        response.status = status
        return response
    }
}
