// grpc.health.v1 against the real server: SERVING with the database, NOT_SERVING once it is gone, and Watch
// reporting the change; `liveness` SERVING throughout.
import Foundation
import IncidentAPI
import RPC
import Testing

@Suite("Health", .enabled(if: TestDatabase.shouldRun), .serialized)
struct HealthTests {
    @Test("Check is SERVING while Postgres answers and NOT_SERVING after the database is dropped; Watch follows")
    func servingThenNotServing() async throws {
        let harness = try await ServiceHarness.start()
        let health = try harness.healthClient()
        var everything = Grpc_Health_V1_HealthCheckRequest()
        #expect(try await health.check(everything, options: .test).status == .serving)
        everything.service = "incident_manager.IncidentService"
        #expect(try await health.check(everything, options: .test).status == .serving)
        var unknown = Grpc_Health_V1_HealthCheckRequest()
        unknown.service = "no.such.Service"
        let refused = await status { _ = try await health.check(unknown, options: .test) }
        #expect(refused?.code == .notFound)

        var watched: [Grpc_Health_V1_HealthCheckResponse.ServingStatus] = []
        var iterator = health.watch(Grpc_Health_V1_HealthCheckRequest(), options: CallOptions(timeout: .seconds(90)))
            .makeAsyncIterator()
        if let first = try await iterator.next() { watched.append(first.status) }

        try await TestDatabase.drop(harness.database)
        // Answers are reused for a moment (probes must not load the database), so the change shows within it.
        #expect(try await eventually(timeout: .seconds(5)) {
            try await health.check(Grpc_Health_V1_HealthCheckRequest(), options: .test).status == .notServing
        })
        if let next = try await iterator.next() { watched.append(next.status) }
        #expect(watched == [.serving, .notServing])
        // Liveness does not depend on the database: a replica without Postgres is unready, not dead.
        var liveness = Grpc_Health_V1_HealthCheckRequest()
        liveness.service = "liveness"
        #expect(try await health.check(liveness, options: .test).status == .serving)
        await harness.stop()
    }
}
