// The swift-log backend: one line per record on standard error, either a JSON object (for log shippers) or
// plain text (for a terminal). One write(2) per line keeps lines from concurrent tasks whole.
import Foundation
import Logging
import ProtoWire

#if canImport(Glibc)
import Glibc
#endif

/// How log lines are written.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `{"ts":…,"level":…,"msg":…,"logger":…, metadata…}` per line.
    case json
    /// `2026-01-01T00:00:00.000Z info msg key=value` per line.
    case text

    /// Text on a terminal, JSON otherwise (a service manager or a container runtime collecting stderr).
    public static var forStandardError: LogFormat { isatty(2) == 1 ? .text : .json }
}

/// A `LogHandler` writing one line per record to a file descriptor (standard error by default).
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let format: LogFormat
    private let descriptor: Int32

    public init(label: String, format: LogFormat, level: Logger.Level = .info, descriptor: Int32 = 2) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.descriptor = descriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let timestamp = APITime.format(Date())
        var line: String
        switch format {
        case .json:
            line = "{\"ts\":" + JSONWriter.quoted(timestamp) + ",\"level\":" + JSONWriter.quoted(event.level.rawValue)
                + ",\"msg\":" + JSONWriter.quoted(event.message.description) + ",\"logger\":" + JSONWriter.quoted(label)
            for (key, value) in merged.sorted(by: { $0.key < $1.key })
            where !["ts", "level", "msg", "logger"].contains(key) {
                line += "," + JSONWriter.quoted(key) + ":" + JSONWriter.quoted(value.description)
            }
            line += "}\n"
        case .text:
            line = "\(timestamp) \(event.level.rawValue) \(event.message)"
            for (key, value) in merged.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
            line += "\n"
        }
        line.withUTF8 { _ = Glibc.write(descriptor, $0.baseAddress, $0.count) }
    }

    /// `INCIDENT_LOG_LEVEL` (trace, debug, info, notice, warning, error, critical); nil when unset or unknown.
    public static func level(named name: String?) -> Logger.Level? {
        name.flatMap { Logger.Level(rawValue: $0.lowercased()) }
    }
}

