// Where a run's latencies and failures are counted: HDR histograms in microseconds, a few shards behind locks
// so hundreds of workers rarely wait on one another, merged once at the end.
import Histogram
import RPC
import Synchronization

/// Latencies (HDR histogram, microseconds) and failures by status code of one kind of measurement.
struct LatencySummary: Sendable {
    /// Latencies above this are counted at this value (two minutes is past any deadline a run uses).
    static let highestMicroseconds: UInt64 = 120_000_000

    var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: LatencySummary.highestMicroseconds,
        numberOfSignificantValueDigits: .three)
    /// Failed calls by the status code's name (`RESOURCE_EXHAUSTED`); `CLIENT` for answers that did not decode.
    var errors: [String: Int] = [:]

    mutating func record(_ latency: Duration) {
        let (seconds, attoseconds) = latency.components
        let micros = max(0, seconds) * 1_000_000 + max(0, attoseconds) / 1_000_000_000_000
        _ = histogram.record(min(UInt64(micros), Self.highestMicroseconds))
    }

    mutating func fail(_ error: any Error) {
        errors[Self.statusName(error), default: 0] += 1
    }

    mutating func merge(_ other: LatencySummary) {
        histogram.add(other.histogram)
        errors.merge(other.errors, uniquingKeysWith: +)
    }

    static func statusName(_ error: any Error) -> String {
        (error as? RPCError).map { "\($0.code)" } ?? "CLIENT"
    }
}

/// A `LatencySummary` shared by many tasks: each records into the shard of its own index.
final class LatencyRecorder: Sendable {
    /// A `Mutex` is not copyable, so each shard is a small object an array can hold.
    private final class Shard: Sendable {
        let summary = Mutex(LatencySummary())
    }

    private let shards: [Shard]

    init(shards: Int = 8) {
        self.shards = (0..<max(1, shards)).map { _ in Shard() }
    }

    func record(_ latency: Duration, by index: Int) {
        shards[index % shards.count].summary.withLock { $0.record(latency) }
    }

    func fail(_ error: any Error, by index: Int) {
        shards[index % shards.count].summary.withLock { $0.fail(error) }
    }

    /// Every shard merged.
    func summary() -> LatencySummary {
        var total = LatencySummary()
        for shard in shards { total.merge(shard.summary.withLock { $0 }) }
        return total
    }
}

/// Running totals for the progress line, cheap enough to bump on every call.
final class LiveCounters: Sendable {
    let completed = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    /// Open-loop calls that started more than `LoadDriver.lateness` after they were due.
    let late = Atomic<Int>(0)

    func succeeded() { completed.add(1, ordering: .relaxed) }
    func errored() { failed.add(1, ordering: .relaxed) }
    func startedLate() { late.add(1, ordering: .relaxed) }
}
