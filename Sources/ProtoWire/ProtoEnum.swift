// The protocol every generated enum conforms to: open enums that keep values this schema does not name.

/// A generated proto3 enum. Numbers without a case decode to `unrecognized` and encode back unchanged.
public protocol ProtoEnum: Sendable, Hashable, RawRepresentable where RawValue == Int32 {
    /// The case for a number, `unrecognized` when no case has it.
    init(rawValue: Int32)
    /// The case named in the proto (`ACTION_STATE_RUNNING`), if any.
    init?(protoName: String)
    /// The name the proto gives this value; `nil` for an unrecognized number.
    var protoName: String? { get }
}
