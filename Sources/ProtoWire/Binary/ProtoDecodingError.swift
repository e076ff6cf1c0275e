// Why bytes could not be decoded as a message: every way untrusted input can be malformed.

/// A malformed binary protobuf message; the RPC layer answers it with `INVALID_ARGUMENT`.
public enum ProtoDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input ended inside a field.
    case truncated
    /// A varint ran longer than 10 bytes.
    case malformedVarint
    /// A tag carried wire type 6 or 7, or a field number of 0.
    case invalidTag(UInt64)
    /// A length prefix points past the end of the enclosing message.
    case lengthOutOfBounds(length: UInt64, remaining: Int)
    /// A `string` field held bytes that are not UTF-8.
    case invalidUTF8(field: Int)
    /// Messages or groups nested deeper than the decoder's limit.
    case recursionLimitExceeded(limit: Int)
    /// An end-group tag without its start, or a group closed by another field's end tag.
    case unbalancedGroup
    /// A packed repeated field whose length is not a multiple of its element size, or a bad map entry.
    case malformedField(field: Int)

    public var description: String {
        switch self {
        case .truncated: "input ends inside a field"
        case .malformedVarint: "varint longer than 10 bytes"
        case .invalidTag(let tag): "invalid field tag \(tag)"
        case .lengthOutOfBounds(let length, let remaining):
            "length \(length) exceeds the \(remaining) bytes left in the message"
        case .invalidUTF8(let field): "field \(field) is a string but holds invalid UTF-8"
        case .recursionLimitExceeded(let limit): "messages nested deeper than \(limit) levels"
        case .unbalancedGroup: "unbalanced group tags"
        case .malformedField(let field): "field \(field) is malformed"
        }
    }
}
