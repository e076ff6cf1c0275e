// What one phase of P0 events measured, and the table the benchmark prints and writes to bench-results/.
import Foundation

/// The P0 events of one phase, with their pages.
struct P0PhaseResult {
    var name: String
    var sent: Int
    /// Create-to-page latencies in milliseconds, sorted.
    var pageMilliseconds: [Double]
    /// Create-call latencies (until the answer) in milliseconds, sorted.
    var answerMilliseconds: [Double]
    /// Refused or failed P0 calls by status.
    var refused: [String: Int]
    /// P0 incidents created whose page never arrived within the grace period.
    var missing: Int
    /// From the call to the server's transaction writing the incident (transport, admission, batch wait), in ms.
    var toWriteMilliseconds: [Double]
    /// From that transaction's start to the page at the receiver (commit, job claim, HTTP), in ms.
    var writeToPageMilliseconds: [Double]

    init(name: String, samples: [P0Sample], receiver: PageReceiver) {
        self.name = name
        sent = samples.count
        var pages: [Double] = []
        var answers: [Double] = []
        var refused: [String: Int] = [:]
        var missing = 0
        var toWrite: [Double] = []
        var writeToPage: [Double] = []
        for sample in samples {
            if let error = sample.error { refused[error, default: 0] += 1; continue }
            if let answered = sample.answered { answers.append(milliseconds(answered - sample.sent)) }
            if let id = sample.incidentID, let arrived = receiver.arrival(of: id) {
                let page = milliseconds(arrived - sample.sent)
                pages.append(page)
                if let written = sample.writeStarted {
                    let before = written.timeIntervalSince(sample.sentWall) * 1000
                    toWrite.append(before)
                    writeToPage.append(page - before)
                }
            } else {
                missing += 1
            }
        }
        pageMilliseconds = pages.sorted()
        answerMilliseconds = answers.sorted()
        self.refused = refused
        self.missing = missing
        toWriteMilliseconds = toWrite.sorted()
        writeToPageMilliseconds = writeToPage.sorted()
    }

    var refusedCount: Int { refused.values.reduce(0, +) }
}

/// The open-loop flood's outcome.
struct FloodResult {
    var capacityPerSecond: Double
    var targetPerSecond: Double
    var seconds: Double
    var started: Int
    var ok: Int
    var byStatus: [String: Int]
}

/// Nearest-rank percentile of sorted values (0 when there are none).
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

/// The markdown report: one row per P0 phase, the flood's counts, and the goal with its verdict.
struct BenchReport {
    var alone: P0PhaseResult
    var flooded: P0PhaseResult
    var flood: FloodResult
    var settings: [String]
    var loadAverages: (before: String, after: String)

    /// Goal from issue 6: P0 p99 under flood within 3x of P0 p99 alone, with no P0 refused or missing.
    var goalMet: Bool {
        let ratio = percentile(flooded.pageMilliseconds, 0.99) / max(0.001, percentile(alone.pageMilliseconds, 0.99))
        return ratio <= 3 && flooded.refusedCount == 0 && flooded.missing == 0 && alone.refusedCount == 0
            && alone.missing == 0 && !flooded.pageMilliseconds.isEmpty
    }

    var markdown: String {
        func f(_ value: Double) -> String { String(format: "%.1f", value) }
        func row(_ phase: P0PhaseResult) -> String {
            let p = phase.pageMilliseconds
            let a = phase.answerMilliseconds
            return "| \(phase.name) | \(phase.sent) | \(f(percentile(p, 0.5))) | \(f(percentile(p, 0.99))) | "
                + "\(f(p.last ?? 0)) | \(f(percentile(a, 0.5))) | \(f(percentile(a, 0.99))) | "
                + "\(phase.refusedCount) | \(phase.missing) |"
        }
        let ratio = percentile(flooded.pageMilliseconds, 0.99) / max(0.001, percentile(alone.pageMilliseconds, 0.99))
        let refusedLow = flood.byStatus["RESOURCE_EXHAUSTED"] ?? 0
        let otherErrors = flood.byStatus.filter { $0.key != "RESOURCE_EXHAUSTED" }.sorted { $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let p0ErrorCounts: [String: Int] = alone.refused.merging(flooded.refused, uniquingKeysWith: +)
        let p0Errors = p0ErrorCounts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", ")
        let floodRate = Int(Double(flood.started) / max(0.001, flood.seconds))
        let floodLine: String = "Flood (medium/low/info, open loop): server capacity \(Int(flood.capacityPerSecond)) "
            + "creates/s (closed loop), target \(Int(flood.targetPerSecond))/s, started \(flood.started) in "
            + "\(f(flood.seconds)) s (\(floodRate)/s), written \(flood.ok), refused RESOURCE_EXHAUSTED "
            + "\(refusedLow), other errors: " + (otherErrors.isEmpty ? "none" : otherErrors)
            + "; answered OK at \(Int(Double(flood.ok) / max(0.001, flood.seconds)))/s."
        let refusedP0 = alone.refusedCount + flooded.refusedCount
        let p0Line: String = "P0 calls refused: \(refusedP0)" + (p0Errors.isEmpty ? "" : " (\(p0Errors))")
            + " (must be 0); P0 pages missing after the grace period: \(alone.missing + flooded.missing) (must be 0)."
        let verdict = goalMet ? "**met**" : "**not met**"
        let goalLine: String = "Goal: P0 p99 under flood within 3× of P0 p99 alone — ratio "
            + String(format: "%.2f", ratio) + "×: " + verdict + "."
        let header: String = "| phase | P0 sent | page p50 ms | page p99 ms | page max ms | answer p50 ms "
            + "| answer p99 ms | P0 refused | P0 pages missing |"
        var lines: [String] = ["# P0 create-to-page latency, alone and under an open-loop flood", ""]
        lines.append("Latency: from just before the CreateIncident call to the loopback PagerDuty receiver getting "
            + "the trigger (dedup_key = incident id). Answer: the CreateIncident call's own latency.")
        lines += ["", header, "|---|---|---|---|---|---|---|---|---|", row(alone), row(flooded), ""]
        lines.append("Where P0 waits (ms; the server's created_at is when the transaction writing the incident "
            + "began, on the same machine's wall clock, millisecond precision):")
        lines += ["", "| phase | call → write p50 | call → write p99 | write → page p50 | write → page p99 |",
                  "|---|---|---|---|---|"]
        for phase in [alone, flooded] {
            let before = phase.toWriteMilliseconds
            let after = phase.writeToPageMilliseconds
            lines.append("| \(phase.name) | \(f(percentile(before, 0.5))) | \(f(percentile(before, 0.99))) | "
                + "\(f(percentile(after, 0.5))) | \(f(percentile(after, 0.99))) |")
        }
        lines.append("")
        lines += [floodLine, "", p0Line, "", goalLine, ""]
        lines.append("Load average (1/5/15 min) before: \(loadAverages.before); after: \(loadAverages.after).")
        lines += ["", "Settings: " + settings.joined(separator: "; ") + "."]
        lines.append("")
        return lines.joined(separator: "\n")
    }
}

/// /proc/loadavg's first three fields, or "n/a".
func loadAverage() -> String {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "n/a" }
    return text.split(separator: " ").prefix(3).joined(separator: " ")
}
