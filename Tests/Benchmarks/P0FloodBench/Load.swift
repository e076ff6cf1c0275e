// The load the benchmark sends: a closed loop to find how many creates per second the server durably writes, a
// series of P0 events at a steady rate, and an open-loop flood of low-severity creates (each call started on
// schedule, whatever happened to the earlier ones).
import Foundation
import IncidentAPI
import RPC
import Synchronization

/// Counts calls by outcome.
final class Tally: Sendable {
    private let state = Mutex<(started: Int, ok: Int, byStatus: [String: Int])>((0, 0, [:]))

    func started() { state.withLock { $0.started += 1 } }

    func finished(_ error: (any Error)?) {
        state.withLock { state in
            guard let error else { state.ok += 1; return }
            let name = (error as? RPCError).map { "\($0.code)" } ?? "client error \(type(of: error))"
            state.byStatus[name, default: 0] += 1
        }
    }

    var snapshot: (started: Int, ok: Int, byStatus: [String: Int]) { state.withLock { $0 } }
}

/// Tells a running flood to stop starting calls.
final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)

    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}

/// One P0 create: when it was sent, how the call ended, and the incident it made.
struct P0Sample: Sendable {
    var sent: ContinuousClock.Instant
    /// The same moment on the wall clock, to compare with the server's `created_at` (same machine).
    var sentWall = Date()
    /// When the server's transaction writing the incident began (its `created_at`), read back after the phase.
    var writeStarted: Date?
    var answered: ContinuousClock.Instant?
    var incidentID: String?
    var error: String?
}

/// The P0 samples of a series, by their place in it.
final class SampleLog: Sendable {
    let state = Mutex<[Int: P0Sample]>([:])
}

/// Builds the LLM-Shield events the benchmark sends.
final class EventFactory: Sendable {
    /// Distinguishes this run's event ids from any earlier run's on the same database.
    let run = String(UUID().uuidString.prefix(8)).lowercased()
    private let sequence = Atomic<Int>(0)

    func event(severity: String) -> CreateIncidentRequest {
        let number = sequence.wrappingAdd(1, ordering: .relaxed).newValue
        var request = CreateIncidentRequest()
        request.eventId = "p0bench-\(run)-\(severity)-\(number)"
        request.source = "llm-shield"
        request.sourceVersion = "2.1.0"
        request.timestamp = "2026-12-03T08:00:00Z"
        request.eventType = severity == "critical" ? "data_exfiltration" : "violation"
        request.category = "security"
        request.title = severity == "critical" ? "Data exfiltration attempt" : "Prompt injection blocked"
        request.description = "Synthetic event from the P0 flood benchmark"
        request.severity = severity
        var resource = Resource()
        resource.type = "model"
        resource.id = "model-bench"
        resource.name = "Benchmark model"
        request.resource = resource
        request.tags = ["environment": "bench", "user_id": "user-\(number % 997)", "tenant_id": "tenant-bench"]
        return request
    }
}

/// Sends the benchmark's calls over a few connections.
struct LoadGenerator: Sendable {
    let clients: [IncidentServiceClient]
    let p0Client: IncidentServiceClient
    let events: EventFactory
    let clock = ContinuousClock()
    static let lowSeverities = ["medium", "low", "info"]

    /// Creates per second answered OK by `concurrency` callers each sending its next call when the last is answered,
    /// over `seconds` after a one-second warm-up.
    func closedLoopCapacity(concurrency: Int, seconds: Double) async -> (perSecond: Double, tally: Tally) {
        let tally = Tally()
        let measureFrom = clock.now + .seconds(1)
        let end = measureFrom + .milliseconds(Int64(seconds * 1000))
        let options = CallOptions(timeout: .seconds(30))
        await withDiscardingTaskGroup { group in
            for worker in 0..<concurrency {
                let client = clients[worker % clients.count]
                group.addTask {
                    var index = worker
                    while true {
                        let started = clock.now
                        if started >= end { break }
                        let request = events.event(severity: Self.lowSeverities[index % 3])
                        index += 1
                        var failure: (any Error)?
                        do { _ = try await client.createIncident(request, options: options) } catch { failure = error }
                        if started >= measureFrom { tally.started(); tally.finished(failure) }
                    }
                }
            }
        }
        return (Double(tally.snapshot.ok) / seconds, tally)
    }

    /// Starts `count` P0 creates at `perSecond`, each on schedule, and returns them once all are answered.
    func p0Series(count: Int, perSecond: Double) async -> [P0Sample] {
        let samples = SampleLog()
        let options = CallOptions(timeout: .seconds(30))
        let start = clock.now
        await withDiscardingTaskGroup { group in
            for index in 0..<count {
                let due = start + .milliseconds(Int64(Double(index) / perSecond * 1000))
                try? await clock.sleep(until: due)
                let request = events.event(severity: "critical")
                group.addTask {
                    var sample = P0Sample(sent: clock.now)
                    do {
                        let response = try await p0Client.createIncident(request, options: options)
                        sample.incidentID = response.incidentId
                    } catch {
                        sample.error = (error as? RPCError).map { "\($0.code)" } ?? "client error \(type(of: error))"
                    }
                    sample.answered = clock.now
                    samples.state.withLock { $0[index] = sample }
                }
            }
        }
        return samples.state.withLock { all in (0..<count).compactMap { all[$0] } }
    }

    /// Fills in when each P0's write began, read back with `reader` (an identity allowed `incident:read`).
    func readWriteTimes(_ samples: [P0Sample], reader: IncidentServiceClient) async -> [P0Sample] {
        let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var result = samples
        for index in result.indices {
            guard let id = result[index].incidentID else { continue }
            var request = GetIncidentRequest()
            request.incidentId = id
            if let incident = try? await reader.getIncident(request, options: CallOptions(timeout: .seconds(10))) {
                result[index].writeStarted = try? format.parse(incident.createdAt)
            }
        }
        return result
    }

    /// Starts low-severity creates at `perSecond` until `stop` is set, open loop: a call starts when its time comes,
    /// however many are still waiting for an answer.
    func flood(perSecond: Double, timeout: Duration, stop: StopSignal) async -> (tally: Tally, seconds: Double) {
        let tally = Tally()
        let options = CallOptions(timeout: timeout)
        let start = clock.now
        var launched = 0
        // The flood's length is until `stop`; the answers still coming in after it are not part of its rate.
        let seconds = await withDiscardingTaskGroup { group in
            while !stop.isSet {
                let elapsed = clock.now - start
                let due = Int((Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
                              * perSecond)
                while launched < due {
                    let client = clients[launched % clients.count]
                    let request = events.event(severity: Self.lowSeverities[launched % 3])
                    launched += 1
                    tally.started()
                    group.addTask {
                        do {
                            _ = try await client.createIncident(request, options: options)
                            tally.finished(nil)
                        } catch {
                            tally.finished(error)
                        }
                    }
                }
                try? await Task.sleep(for: .milliseconds(2))
            }
            let elapsed = clock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        return (tally, seconds)
    }
}
