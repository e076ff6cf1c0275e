// How proto names become Swift names; the scheme is documented in codegen/README.md.
import ProtoSyntax

/// Swift identifiers for proto declarations.
enum SwiftNames {
    /// Swift keywords that must be escaped with backticks when used as identifiers.
    static let keywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
        "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public", "rethrows",
        "static", "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue", "default", "defer",
        "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "throw", "switch", "where",
        "while", "as", "false", "is", "nil", "self", "super", "throws", "true", "try", "Any", "some", "any",
    ]

    /// Type names that would shadow a standard type or clash with Swift's own members; they get a `_` suffix.
    static let reservedTypeNames: Set<String> = [
        "Type", "Protocol", "Self", "Any", "String", "Int", "Int32", "Int64", "UInt32", "UInt64", "Bool", "Double",
        "Float", "Array", "Dictionary", "Optional", "Error", "Never", "Void",
        // Every message with fields declares a nested `FieldNumber` enum.
        "FieldNumber",
    ]

    /// Property names the generated conformance uses itself; a field with one gets a `_` suffix.
    static let reservedMemberNames: Set<String> = [
        "unknownFields", "protoMessageName", "serializedSize", "encode", "decodeFields", "encodeJSON", "decodeJSON",
        "hashValue", "hash", "jsonString", "serializedBytes", "with",
    ]

    static func escaped(_ identifier: String) -> String {
        keywords.contains(identifier) ? "`\(identifier)`" : identifier
    }

    static func typeName(_ protoName: String) -> String {
        reservedTypeNames.contains(protoName) ? protoName + "_" : protoName
    }

    /// A field's property name, escaped where needed.
    static func property(_ protoName: String) -> String {
        let name = Naming.lowerCamel(protoName)
        return reservedMemberNames.contains(name) ? name + "_" : escaped(name)
    }

    /// The prefix of a file's top-level types: `swift_prefix` when set, else the package in UpperCamel parts.
    static func prefix(of file: ProtoFile) -> String {
        if case .string(let p) = file.option("swift_prefix") { return p }
        guard !file.package.isEmpty else { return "" }
        return file.package.split(separator: ".").map { Naming.upperCamel(String($0)) }.joined(separator: "_") + "_"
    }

    /// `grpc/health/v1/health.proto` → `Grpc_Health_V1_HealthProtoFile`.
    static func fileNamespace(_ fileName: String) -> String {
        var name = fileName
        if name.hasSuffix(".proto") { name.removeLast(6) }
        let parts = name.split(whereSeparator: { $0 == "/" || $0 == "." || $0 == "-" })
        return parts.map { Naming.upperCamel(String($0)) }.joined(separator: "_") + "ProtoFile"
    }
}
