// The names people write for severities and priorities in configs and on the command line.

extension Priority: CustomStringConvertible {
    /// Parses `P0` … `P4`.
    public init?(name: String) {
        guard name.count == 2, name.first == "P" || name.first == "p", let level = Int(name.dropFirst()),
              let priority = Priority(rawValue: level) else { return nil }
        self = priority
    }

    /// `P0` … `P4`.
    public var description: String { "P\(rawValue)" }
}

extension Severity {
    /// `critical, high, medium, low, info`, for error messages.
    public static var allNames: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
