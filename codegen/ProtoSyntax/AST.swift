// The parsed form of a .proto file, as close to the source as the generator and the descriptor writer need.

/// The scalar field types of proto3.
public enum ScalarType: String, Sendable, Hashable, CaseIterable {
    case double, float, int32, int64, uint32, uint64, sint32, sint64
    case fixed32, fixed64, sfixed32, sfixed64, bool, string, bytes

    /// Whether a `repeated` field of this type is packed by default in proto3.
    public var isPackable: Bool { self != .string && self != .bytes }

    /// Whether the type may be a map key (integers, bool, string).
    public var isValidMapKey: Bool { self != .double && self != .float && self != .bytes }
}

/// A field's type as written: a scalar, a (not yet resolved) message or enum name, or a map.
public indirect enum FieldType: Sendable, Hashable {
    case scalar(ScalarType)
    /// A message or enum name as written; the resolver decides which.
    case named(String)
    case map(key: ScalarType, value: FieldType)
}

/// A field's cardinality as written.
public enum FieldLabel: Sendable, Hashable {
    /// No label: proto3 implicit presence.
    case implicit
    /// `optional`: explicit presence.
    case optional
    case repeated
}

/// A value given to an option.
public enum OptionValue: Sendable, Hashable {
    case identifier(String)
    case integer(Int64)
    case float(Double)
    case string(String)
    case bool(Bool)
}

/// `option name = value;` or `[name = value]`.
public struct OptionDecl: Sendable, Hashable {
    public var name: String
    public var value: OptionValue
    public var location: SourceLocation
}

/// One field of a message.
public struct FieldDecl: Sendable, Hashable {
    public var name: String
    public var number: Int
    public var label: FieldLabel
    public var type: FieldType
    /// The index into the message's `oneofs` for a member of a real oneof.
    public var oneofIndex: Int?
    public var options: [OptionDecl]
    public var comment: String?
    public var location: SourceLocation
    /// Where it was written and the comments protoc attaches to it (nil for what the parser synthesizes).
    public var source: DeclarationSource?
    /// Filled by the resolver: the fully qualified name (with a leading dot) of a message or enum type.
    public var resolvedTypeName: String?
    /// Filled by the resolver: whether `resolvedTypeName` names an enum.
    public var resolvesToEnum = false

    /// The `[json_name = ...]` option when given, else protoc's lowerCamelCase of the name.
    public var jsonName: String {
        for option in options where option.name == "json_name" {
            if case .string(let s) = option.value { return s }
        }
        return Naming.jsonName(name)
    }

    /// Whether `[json_name = ...]` was written.
    public var hasExplicitJSONName: Bool { options.contains { $0.name == "json_name" } }
}

/// A `oneof` group of a message.
public struct OneofDecl: Sendable, Hashable {
    public var name: String
    public var comment: String?
    public var location: SourceLocation
    /// Where it was written and the comments protoc attaches to it (nil for what the parser synthesizes).
    public var source: DeclarationSource?
}

/// A `reserved` range, end inclusive as written (`reserved 10 to 12`).
public struct ReservedRange: Sendable, Hashable {
    public var start: Int
    public var end: Int
}

/// A message declaration with everything nested in it.
public struct MessageDecl: Sendable, Hashable {
    public var name: String
    public var fields: [FieldDecl] = []
    public var oneofs: [OneofDecl] = []
    /// Nested messages in source order, including the synthesized entry messages of map fields.
    public var messages: [MessageDecl] = []
    public var enums: [EnumDecl] = []
    public var reservedRanges: [ReservedRange] = []
    public var reservedNames: [String] = []
    public var options: [OptionDecl] = []
    public var comment: String?
    public var location: SourceLocation
    /// Where it was written and the comments protoc attaches to it (nil for what the parser synthesizes).
    public var source: DeclarationSource?
    /// True for the `XxxEntry` message protoc synthesizes for a map field.
    public var isMapEntry = false

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}

/// One value of an enum.
public struct EnumValueDecl: Sendable, Hashable {
    public var name: String
    public var number: Int32
    public var options: [OptionDecl]
    public var comment: String?
    public var location: SourceLocation
    /// Where it was written and the comments protoc attaches to it (nil for what the parser synthesizes).
    public var source: DeclarationSource?
}

/// An enum declaration.
public struct EnumDecl: Sendable, Hashable {
    public var name: String
    public var values: [EnumValueDecl] = []
    public var reservedRanges: [ReservedRange] = []
    public var reservedNames: [String] = []
    public var options: [OptionDecl] = []
    public var comment: String?
    public var location: SourceLocation
    /// Where it was written and the comments protoc attaches to it (nil for what the parser synthesizes).
    public var source: DeclarationSource?

    /// Whether `option allow_alias = true;` lets two names share a number.
    public var allowsAlias: Bool {
        options.contains { $0.name == "allow_alias" && $0.value == .bool(true) }
    }
}

/// One rpc of a service.
public struct MethodDecl: Sendable, Hashable {
    public var name: String
    public var inputType: String
    public var outputType: String
    public var clientStreaming: Bool
    public var serverStreaming: Bool
    public var options: [OptionDecl]
    public var comment: String?
    public var location: SourceLocation
    /// Where it was written and the comments protoc attaches to it (nil for what the parser synthesizes).
    public var source: DeclarationSource?
    /// Filled by the resolver: fully qualified names with a leading dot.
    public var resolvedInputType = ""
    public var resolvedOutputType = ""
}

/// A service declaration.
public struct ServiceDecl: Sendable, Hashable {
    public var name: String
    public var methods: [MethodDecl] = []
    public var options: [OptionDecl] = []
    public var comment: String?
    public var location: SourceLocation
    /// Where it was written and the comments protoc attaches to it (nil for what the parser synthesizes).
    public var source: DeclarationSource?
}

/// An `import` line.
public struct ImportDecl: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case normal, `public`, weak }
    public var path: String
    public var kind: Kind
    public var location: SourceLocation
}

/// A whole parsed `.proto` file.
public struct ProtoFile: Sendable, Hashable {
    /// The path relative to the proto root, as imports name it.
    public var name: String
    public var package: String = ""
    public var imports: [ImportDecl] = []
    public var options: [OptionDecl] = []
    public var messages: [MessageDecl] = []
    public var enums: [EnumDecl] = []
    public var services: [ServiceDecl] = []

    public init(name: String) { self.name = name }

    /// The value of a file option such as `swift_prefix`, if set.
    public func option(_ name: String) -> OptionValue? {
        options.last { $0.name == name }?.value
    }
}
