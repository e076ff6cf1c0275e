// The names people write for severities and priorities in configs and on the command line.

extension Priority: CustomStringConvertible {
    /// Parses `P0` … `P4`.
    public init?(name: String) {
        let bytes = name.utf8
        guard bytes.count == 2, bytes.first == UInt8(ascii: "P") || bytes.first == UInt8(ascii: "p"),
              let digit = bytes.last, (0x30...0x39).contains(digit),
              let priority = Priority(rawValue: Int(digit - 0x30)) else { return nil }
        self = priority
    }

    /// `P0` … `P4`.
    public var description: String { "P\(rawValue)" }
}

extension Severity {
    /// `critical, high, medium, low, info`, for error messages.
    public static var allNames: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
