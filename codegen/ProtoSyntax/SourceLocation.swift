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

/// A position the way protoc's `SourceCodeInfo` counts it: 0-based line, and 0-based column in bytes with a tab
/// advancing to the next multiple of 8.
public struct ProtocPosition: Sendable, Hashable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// The extent of a declaration, from the start of its first token to the end of its last (`;` or `}`).
public struct SourceSpan: Sendable, Hashable {
    public var start: ProtocPosition
    public var end: ProtocPosition

    /// `SourceCodeInfo.Location.span`: start line, start column, end column when on one line, else the end line too.
    public var protoValues: [Int] {
        start.line == end.line
            ? [start.line, start.column, end.column]
            : [start.line, start.column, end.line, end.column]
    }
}

/// A declaration's place in the file and the comments protoc attaches to it, for `SourceCodeInfo`.
public struct DeclarationSource: Sendable, Hashable {
    public var span: SourceSpan
    /// protoc's leading comment, as protoc keeps it (comment markers removed, spaces and newlines kept).
    public var leadingComment: String?
    /// protoc's trailing comment: the one after the `;` or `{` that ends the declaration.
    public var trailingComment: String?
}
