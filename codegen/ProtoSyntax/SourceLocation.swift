// Where in a .proto file something was written, and the error the parser and resolver report against it.

/// A position in a `.proto` file, 1-based.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file's path as given to the parser.
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// A problem in a `.proto` file, reported as `file:line:column: error: message` like a compiler does.
public struct ProtoSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(_ message: String, at location: SourceLocation) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): error: \(message)" }
}
