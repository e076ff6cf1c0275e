// The unary calls `incidentctl bench` can load a server with, prepared once per run (GetIncident first creates
// the incidents it reads).
import IncidentAPI
import RPC

/// One unary call of the run: `sequence` numbers the call, `channel` is the worker's connection.
typealias UnaryBenchCall = @Sendable (_ sequence: Int, _ channel: Channel) async throws -> Void

/// Makes the call closure for a method.
enum UnaryCallMaker {
    static func prepare(
        method: BenchMethod, target: BenchTarget, events: EventFactory, getPool: Int
    ) async throws -> UnaryBenchCall {
        let options = target.callOptions
        switch method {
        case .health:
            let request = Grpc_Health_V1_HealthCheckRequest()
            return { _, channel in
                _ = try await Grpc_Health_V1_HealthClient(transport: channel).check(request, options: options)
            }
        case .create:
            return { sequence, channel in
                _ = try await IncidentServiceClient(transport: channel).createIncident(
                    events.request(sequence), options: options)
            }
        case .get:
            let ids = try await createPool(getPool, target: target, events: events)
            return { sequence, channel in
                var request = GetIncidentRequest()
                request.incidentId = ids[sequence % ids.count]
                _ = try await IncidentServiceClient(transport: channel).getIncident(request, options: options)
            }
        case .stream:
            preconditionFailure("stream runs in StreamFanout")
        }
    }

    /// Creates the incidents GetIncident reads; their event ids are the marker `get-N` of this run.
    private static func createPool(_ count: Int, target: BenchTarget, events: EventFactory) async throws -> [String] {
        let client = IncidentServiceClient(transport: target.channel(0))
        var ids: [String] = []
        for index in 0..<count {
            do {
                ids.append(try await client.createIncident(events.marker("get-\(index)"),
                                                           options: target.callOptions).incidentId)
            } catch {
                throw BenchSetupError(description: "cannot create the incidents GetIncident reads on "
                                      + "\(target.server): \(error)")
            }
        }
        return ids
    }
}
