// A tiny logger to stderr until the service adopts a logging package. Never pass it keys or payloads.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

enum Log {
    enum Level: Int, Comparable {
        case debug, info, warning, error
        static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// `RPC_LOG_LEVEL=debug|info|warning|error`; warnings and errors by default.
    static let threshold: Level = {
        switch getenv("RPC_LOG_LEVEL").map({ String(cString: $0) }) {
        case "debug": .debug
        case "info": .info
        case "error": .error
        default: .warning
        }
    }()

    static func write(_ level: Level, _ message: @autoclosure () -> String) {
        guard level >= threshold else { return }
        var line = "rpc \(level): \(message())\n"
        line.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
