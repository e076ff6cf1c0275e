// One-line log records on standard error. Callers pass only identities, ids and codes: never payloads,
// keys or event text.
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes timestamped lines to standard error.
public struct ServerLog: Sendable {
    /// Whether informational lines are written (errors always are).
    public var verbose: Bool

    public init(verbose: Bool = true) {
        self.verbose = verbose
    }

    /// An informational line.
    public func info(_ message: String) {
        if verbose { write("info", message) }
    }

    /// A problem an operator should see.
    public func error(_ message: String) {
        write("error", message)
    }

    private func write(_ level: String, _ message: String) {
        let line = "\(APITime.format(Date())) \(level) \(message)\n"
        // One write(2) per line keeps concurrent lines whole.
        line.withCString { _ = Glibc.write(2, $0, strlen($0)) }
    }
}
