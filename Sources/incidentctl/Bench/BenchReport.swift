// What `incidentctl bench` prints at the end: a table for people, or one JSON object for scripts (the
// `make bench` runner reads it, including the latency distribution it charts).
import Foundation
import Histogram

/// The figures of one run.
struct BenchReport {
    var method: String
    var mode: String
    var server: String
    var concurrency: Int
    var connections: Int
    var warmupSeconds: Double
    var durationSeconds: Double
    /// From the measured span's start until its last call was answered: longer than the duration when an open
    /// loop's calls queued, so calls/s is what the server achieved, not what was scheduled.
    var spanSeconds: Double
    /// The calls started in the measured span (for --method stream: the creates).
    var calls: LatencySummary
    /// Open loop: calls that started more than 10 ms after they were due (every worker was busy).
    var startedLate: Int
    var stream: StreamFigures?

    var succeeded: UInt64 { calls.histogram.totalCount }
    var failed: Int { calls.errors.values.reduce(0, +) }
    var callsPerSecond: Double { Double(succeeded) / max(durationSeconds, spanSeconds) }

    func table() -> String {
        var lines = [
            "incidentctl bench: \(method) on \(server), \(mode), \(concurrency) workers over \(connections) "
                + "connection(s), \(LoadDriver.number(durationSeconds)) s measured after "
                + "\(LoadDriver.number(warmupSeconds)) s warm-up",
            Self.row("calls", "\(succeeded) ok, \(failed) failed"),
            Self.row("calls/s", String(format: "%.1f (answered within %.1f s)", callsPerSecond,
                                       max(durationSeconds, spanSeconds))),
            Self.row("latency", Self.percentiles(calls)),
        ]
        if startedLate > 0 { lines.append(Self.row("started late", "\(startedLate) calls (>10 ms behind schedule)")) }
        lines.append(Self.row("errors", Self.errorList(calls.errors)))
        if let stream {
            lines.append(Self.row("subscribers", "\(stream.ready) of \(stream.subscribers) live before the load"))
            lines.append(Self.row("deliveries", "\(stream.delivered) of \(stream.expected) expected "
                                  + "(\(stream.createsAcked) acked creates x \(stream.subscribers) subscribers)"))
            lines.append(Self.row("missing", "\(stream.missing)"))
            lines.append(Self.row("duplicate", "\(stream.duplicates)"))
            if stream.wrongIncident > 0 { lines.append(Self.row("wrong incident", "\(stream.wrongIncident)")) }
            lines.append(Self.row("create->delivery", Self.percentiles(stream.delivery)))
            lines.append(Self.row("stream errors", Self.errorList(stream.delivery.errors)))
        }
        return lines.joined(separator: "\n")
    }

    private static func row(_ label: String, _ value: String) -> String {
        "  " + label.padding(toLength: 18, withPad: " ", startingAt: 0) + " " + value
    }

    func json() -> String {
        var object: [String: Any] = [
            "method": method, "mode": mode, "server": server, "concurrency": concurrency,
            "connections": connections, "warmup_s": warmupSeconds, "duration_s": durationSeconds,
            "span_s": spanSeconds,
            "calls_ok": succeeded, "calls_failed": failed, "calls_per_s": callsPerSecond,
            "latency_us": Self.latencyObject(calls), "errors": calls.errors, "started_late": startedLate,
            "distribution": Self.distribution(calls),
        ]
        if let stream {
            object["stream"] = [
                "subscribers": stream.subscribers, "ready": stream.ready, "creates_acked": stream.createsAcked,
                "expected": stream.expected, "delivered": stream.delivered, "missing": stream.missing,
                "duplicates": stream.duplicates, "wrong_incident": stream.wrongIncident,
                "delivery_latency_us": Self.latencyObject(stream.delivery), "errors": stream.delivery.errors,
                "distribution": Self.distribution(stream.delivery),
            ] as [String: Any]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static let levels: [(name: String, percentile: Double)] = [
        ("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9),
    ]

    static func percentiles(_ summary: LatencySummary) -> String {
        let histogram = summary.histogram
        guard histogram.totalCount > 0 else { return "no calls" }
        let parts = levels.map { "\($0.name) \(milliseconds(histogram.valueAtPercentile($0.percentile)))" }
        return (parts + ["max \(milliseconds(histogram.max))"]).joined(separator: "  ")
    }

    static func milliseconds(_ micros: UInt64) -> String {
        String(format: "%.2f ms", Double(micros) / 1000)
    }

    static func errorList(_ errors: [String: Int]) -> String {
        errors.isEmpty ? "none" : errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", ")
    }

    static func latencyObject(_ summary: LatencySummary) -> [String: Any] {
        let histogram = summary.histogram
        guard histogram.totalCount > 0 else { return [:] }
        var object: [String: Any] = ["max": histogram.max, "mean": histogram.mean, "count": histogram.totalCount]
        for level in levels { object[level.name] = histogram.valueAtPercentile(level.percentile) }
        return object
    }

    /// [percentile, microseconds] pairs, HdrHistogram's percentile distribution (5 steps per halving).
    static func distribution(_ summary: LatencySummary) -> [[Double]] {
        guard summary.histogram.totalCount > 0 else { return [] }
        return summary.histogram.percentiles(ticksPerHalfDistance: 5).map {
            [$0.percentileLevelIteratedTo, Double($0.value)]
        }
    }
}

/// The stream fan-out's own figures.
struct StreamFigures {
    var subscribers: Int
    /// Subscribers that received the ready marker before the load started.
    var ready: Int
    var createsAcked: Int
    /// Acked creates (of the measured span and the warm-up) times subscribers.
    var expected: Int
    var delivered: Int
    var missing: Int
    var duplicates: Int
    /// Deliveries whose incident id differs from the one the create was answered with.
    var wrongIncident: Int
    /// Create-to-delivery latency, from each create's scheduled start; errors are streams that ended early.
    var delivery: LatencySummary
}
