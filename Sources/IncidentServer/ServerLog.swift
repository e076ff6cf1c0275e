// The service's log lines, through swift-log (the backend is chosen at start: JSON or text on stderr). Callers
// pass only identities, ids and codes: never payloads, keys or event text. Lines written while serving a call
// carry its request id, method and caller identity.
import Logging

/// Writes the service's log records; a thin front over a swift-log `Logger`.
public struct ServerLog: Sendable {
    /// Whether informational lines are written (errors always are).
    public var verbose: Bool
    private let logger: Logger

    public init(verbose: Bool = true, label: String = "incident-server") {
        self.verbose = verbose
        self.logger = Logger(label: label)
    }

    /// Writes through a given logger (tests capture lines this way).
    public init(logger: Logger, verbose: Bool = true) {
        self.verbose = verbose
        self.logger = logger
    }

    /// An informational line; `metadata` holds ids only (`incident_id`, `job_id`).
    public func info(_ message: String, _ metadata: [String: String] = [:]) {
        if verbose { write(.info, message, metadata) }
    }

    /// A problem an operator should see.
    public func error(_ message: String, _ metadata: [String: String] = [:]) {
        write(.error, message, metadata)
    }

    private func write(_ level: Logger.Level, _ message: String, _ metadata: [String: String]) {
        guard logger.logLevel <= level else { return }
        var fields = Logger.Metadata()
        if let scope = CallScope.current {
            fields["request_id"] = .string(scope.requestID)
            fields["method"] = .string(scope.method)
            if let identity = scope.identity { fields["identity"] = .string(identity) }
        }
        for (key, value) in metadata { fields[key] = .string(value) }
        logger.log(level: level, "\(message)", metadata: fields.isEmpty ? nil : fields)
    }
}
