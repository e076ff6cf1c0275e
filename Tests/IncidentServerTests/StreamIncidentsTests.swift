// StreamIncidents against the real server: history replay then live changes with concurrent writers, no gap
// and no duplicate at the seam, filters, and permission.
import Foundation
import IncidentAPI
import RPC
import Testing

@Suite("StreamIncidents", .enabled(if: TestDatabase.shouldRun), .serialized)
struct StreamIncidentsTests {
    @Test("replays history, then follows live creates from concurrent writers: each change once, in order")
    func replayThenLive() async throws {
        let harness = try await ServiceHarness.start()
        let shield = try harness.client("llm-shield")
        var expected = Set<String>()
        for _ in 0..<5 { expected.insert(try await shield.createIncident(Sample.event(), options: .test).incidentId) }

        let stream = try harness.client("viewer").streamIncidents(
            StreamIncidentsRequest(), options: CallOptions(timeout: .seconds(120)))
        // Writers race the subscriber's switch from replay to live.
        let writers = Task {
            try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        var ids: [String] = []
                        for _ in 0..<5 { ids.append(try await shield.createIncident(Sample.event(), options: .test).incidentId) }
                        return ids.joined(separator: ",")
                    }
                }
                var all: [String] = []
                for try await ids in group { all += ids.split(separator: ",").map(String.init) }
                return all
            }
        }
        var received: [IncidentAPI.Incident] = []
        for try await incident in stream {
            received.append(incident)
            if received.count == 25 { break }
        }
        expected.formUnion(try await writers.value)
        #expect(expected.count == 25)
        #expect(Set(received.map(\.id)) == expected)
        let positions = received.map(\.position)
        #expect(positions == positions.sorted() && Set(positions).count == positions.count)
        await harness.stop()
    }

    @Test("since_position skips what was seen; filters apply to replay and live alike")
    func sinceAndFilters() async throws {
        let harness = try await ServiceHarness.start()
        let shield = try harness.client("llm-shield")
        let first = try await shield.createIncident(Sample.event(severity: "low"), options: .test)
        let second = try await shield.createIncident(Sample.event(severity: "high"), options: .test)
        let third = try await shield.createIncident(Sample.event(severity: "low"), options: .test)

        var request = StreamIncidentsRequest()
        request.sincePosition = first.position
        request.severities = ["low"]
        let stream = try harness.client("secops").streamIncidents(request, options: CallOptions(timeout: .seconds(120)))
        let fourth = try await shield.createIncident(Sample.event(severity: "low"), options: .test)
        var ids: [String] = []
        for try await incident in stream {
            ids.append(incident.id)
            if ids.count == 2 { break }
        }
        #expect(ids == [third.incidentId, fourth.incidentId])
        #expect(!ids.contains(second.incidentId))
        await harness.stop()
    }

    @Test("identities without incident:stream are PERMISSION_DENIED; bad filters INVALID_ARGUMENT")
    func refusals() async throws {
        let harness = try await ServiceHarness.start()
        let denied = await status {
            for try await _ in try harness.client("llm-shield").streamIncidents(StreamIncidentsRequest(), options: .test) {}
        }
        #expect(denied?.code == .permissionDenied)
        var bad = StreamIncidentsRequest()
        bad.statuses = ["SLEEPING"]
        let invalid = await status {
            for try await _ in try harness.client("viewer").streamIncidents(bad, options: .test) {}
        }
        #expect(invalid?.code == .invalidArgument)
        await harness.stop()
    }
}
