// Runs unary calls in a closed loop (each worker sends the next call when the last one answered) or an open loop
// (call N is due at start + N / rate whatever happened before it; its latency counts from that due time, so
// calls delayed because every worker was busy still show the delay — no coordinated omission).
import Synchronization

/// How calls are started.
enum LoadSchedule: Sendable {
    /// Every worker sends its next call as soon as the last one answered.
    case closed
    /// Calls are due at a fixed rate, whatever the latency.
    case open(callsPerSecond: Double)
}

/// Hands out call sequence numbers across workers.
final class SequenceCounter: Sendable {
    private let next = Atomic<Int>(0)

    func take() -> Int { next.add(1, ordering: .relaxed).oldValue }
}

/// Drives `call` with `workers` tasks for warm-up plus duration, recording the calls started in the measured span.
struct LoadDriver {
    let target: BenchTarget
    let call: UnaryBenchCall
    let schedule: LoadSchedule
    let workers: Int
    let warmup: Double
    let duration: Double
    let progress: ProgressLine

    /// How late an open-loop call may start before it counts as started behind schedule.
    static let lateness: Duration = .milliseconds(10)

    func run(method: String) async -> BenchReport {
        let clock = ContinuousClock()
        let started = clock.now
        let measureStart = started + .nanoseconds(Int64(warmup * 1e9))
        let end = measureStart + .nanoseconds(Int64(duration * 1e9))
        let sequence = SequenceCounter()
        let recorder = LatencyRecorder()
        let counters = LiveCounters()
        let ticker = progress.follow(counters, started: started, warmupEnds: measureStart)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                let channel = target.channel(worker)
                group.addTask { [call, schedule] in
                    while true {
                        let number = sequence.take()
                        let due: ContinuousClock.Instant
                        switch schedule {
                        case .closed:
                            due = clock.now
                        case .open(let rate):
                            due = started + .nanoseconds(Int64(Double(number) * 1e9 / rate))
                            if due < end, clock.now < due { try? await clock.sleep(until: due) }
                        }
                        if due >= end { break }
                        if case .open = schedule, due >= measureStart, clock.now - due > Self.lateness {
                            counters.startedLate()
                        }
                        do {
                            try await call(number, channel)
                            let latency = clock.now - due
                            counters.succeeded()
                            if due >= measureStart { recorder.record(latency, by: worker) }
                        } catch {
                            counters.errored()
                            if due >= measureStart { recorder.fail(error, by: worker) }
                        }
                    }
                }
            }
        }
        // Every worker has returned, so every measured call has been answered by now.
        let span = clock.now - measureStart
        ticker?.cancel()
        var mode = "closed loop"
        if case .open(let rate) = schedule { mode = "open loop, \(Self.number(rate)) calls/s scheduled" }
        return BenchReport(
            method: method, mode: mode, server: target.server, concurrency: workers,
            connections: target.channels.count, warmupSeconds: warmup, durationSeconds: duration,
            spanSeconds: Self.seconds(span), calls: recorder.summary(),
            startedLate: counters.late.load(ordering: .relaxed))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
