// Fields a decoder did not recognise, kept as their original bytes so a re-encoded message loses nothing.

/// The encoded bytes (tags and payloads) of every field a message's schema does not know.
public struct UnknownFields: Sendable, Hashable {
    /// The fields exactly as they arrived, in arrival order.
    public var bytes: [UInt8] = []

    public init() {}

    /// True when no unknown field was seen.
    @inlinable public var isEmpty: Bool { bytes.isEmpty }

    @inlinable
    mutating func append(_ raw: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: raw)
    }
}
