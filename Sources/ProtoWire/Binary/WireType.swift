// The six wire types of the protobuf binary format and the tag that pairs one with a field number.

/// How a field's payload is laid out on the wire.
public enum WireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// Helpers for the tag (`field number << 3 | wire type`) that precedes every field.
public enum FieldTag {
    /// The largest field number protobuf allows.
    public static let maxFieldNumber = 536_870_911

    /// The tag value for a field number and wire type.
    @inlinable
    public static func make(_ fieldNumber: Int, _ wireType: WireType) -> UInt32 {
        UInt32(truncatingIfNeeded: fieldNumber << 3) | UInt32(wireType.rawValue)
    }
}
