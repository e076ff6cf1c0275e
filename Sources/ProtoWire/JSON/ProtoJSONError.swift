// Why a JSON document could not be read as a message.

/// Malformed JSON, or JSON that does not fit the message's schema.
public enum ProtoJSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text is not JSON; `offset` is the byte where reading stopped.
    case syntax(offset: Int, reason: String)
    /// Arrays and objects nested deeper than the limit.
    case recursionLimitExceeded(limit: Int)
    /// A member that names no field of the message.
    case unknownField(message: String, name: String)
    /// A value of the wrong JSON type or out of the field's range.
    case unexpectedValue(field: String, expected: String)
    /// An enum name the schema does not define.
    case unknownEnumName(String)
    /// A member given twice for one field (under its JSON and its proto name), or two members of one oneof.
    case duplicateField(message: String, name: String)

    public var description: String {
        switch self {
        case .syntax(let offset, let reason): "invalid JSON at byte \(offset): \(reason)"
        case .recursionLimitExceeded(let limit): "JSON nested deeper than \(limit) levels"
        case .unknownField(let message, let name): "\(message) has no field named \"\(name)\""
        case .unexpectedValue(let field, let expected):
            field.isEmpty ? "expected \(expected)" : "\(field): expected \(expected)"
        case .unknownEnumName(let name): "unknown enum value name \"\(name)\""
        case .duplicateField(let message, let name): "\(message).\(name) is given more than once"
        }
    }

    /// The same error, naming the field it concerns.
    public func inField(_ name: String) -> ProtoJSONError {
        switch self {
        case .unexpectedValue(let field, let expected) where field.isEmpty:
            .unexpectedValue(field: name, expected: expected)
        case .unknownEnumName(let value):
            .unexpectedValue(field: name, expected: "a known enum name, not \"\(value)\"")
        default: self
        }
    }
}
