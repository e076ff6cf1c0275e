// Storage for message fields whose type contains itself, which a Swift struct cannot hold inline.

/// An immutable heap cell; a generated recursive field replaces the box rather than mutating it.
public final class ProtoBox<Value: Sendable & Hashable>: Sendable, Hashable {
    /// The boxed message.
    public let value: Value

    public init(_ value: Value) { self.value = value }

    public static func == (lhs: ProtoBox, rhs: ProtoBox) -> Bool { lhs.value == rhs.value }
    public func hash(into hasher: inout Hasher) { hasher.combine(value) }
}
