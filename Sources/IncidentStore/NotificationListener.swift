// A dedicated connection that LISTENs for committed changes and bumps the in-process signal.
import Foundation

/// Keeps one connection listening on `im_changes`, reconnecting with backoff when the server goes away.
final class NotificationListener: @unchecked Sendable {
    static let channel = "im_changes"

    private let lock = NSLock()
    private var stopped = false  // guarded by `lock`

    init(settings: ConnectionSettings, signal: ChangeSignal) {
        let thread = Thread { [self] in loop(settings: settings, signal: signal) }
        thread.name = "pg-listener"
        thread.start()
    }

    func stop() {
        lock.withLock { stopped = true }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func loop(settings: ConnectionSettings, signal: ChangeSignal) {
        let connection = PostgresConnection(settings: settings)
        var backoff = Duration.milliseconds(100)
        while !isStopped {
            do {
                if !connection.isConnected {
                    try connection.connectIfNeeded()
                    try connection.query("LISTEN \(Self.channel)")
                    backoff = .milliseconds(100)
                    // Commits while we were away sent notifications nobody heard: make readers look.
                    signal.bump()
                }
                if !(try connection.awaitNotifications(timeout: .milliseconds(250))).isEmpty { signal.bump() }
            } catch {
                connection.close()
                Thread.sleep(forTimeInterval: Double(backoff.components.seconds)
                    + Double(backoff.components.attoseconds) / 1e18)
                backoff = min(backoff * 2, .seconds(2))
            }
        }
        connection.close()
    }
}
