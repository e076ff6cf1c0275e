// The live progress line `incidentctl bench` rewrites on stderr once a second when stderr is a terminal.
import Foundation

/// Rewrites one stderr line with the run's phase and rates; does nothing when stderr is not a terminal.
final class ProgressLine: Sendable {
    let enabled: Bool

    init(enabled: Bool) {
        self.enabled = enabled
    }

    /// Reports every second until the returned task is cancelled: calls/s over the last second and totals.
    func follow(_ counters: LiveCounters, started: ContinuousClock.Instant, warmupEnds: ContinuousClock.Instant,
                extra: (@Sendable () -> String)? = nil) -> Task<Void, Never>? {
        guard enabled else { return nil }
        return Task {
            var lastCompleted = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                let now = ContinuousClock.now
                let completed = counters.completed.load(ordering: .relaxed)
                let failed = counters.failed.load(ordering: .relaxed)
                let phase = now < warmupEnds ? "warm-up" : "measuring"
                let elapsed = Double((now - started).components.seconds)
                var line = phase + String(format: " %4.0fs  %8d/s  calls %d  errors %d", elapsed,
                                          completed - lastCompleted, completed, failed)
                if let extra { line += "  " + extra() }
                show(line)
                lastCompleted = completed
            }
        }
    }

    /// Shows one free-form line (set-up steps).
    func show(_ line: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data(("\r\u{1B}[2K" + line).utf8))
    }

    /// Clears the line before the report is printed.
    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
    }
}
