// gRPC metadata: ordered key/value pairs, text or binary (keys ending in `-bin`).

/// Ordered gRPC metadata; keys are lower-case, a key may repeat.
public struct Metadata: Sendable, Hashable, Sequence {
    /// One metadata value: text, or bytes for keys ending in `-bin`.
    public enum Value: Sendable, Hashable {
        case string(String)
        case binary([UInt8])
    }

    /// The pairs in the order they were added or received.
    public private(set) var entries: [(key: String, value: Value)] = []

    public init() {}

    /// Metadata holding the given text pairs, in order.
    public init(_ pairs: KeyValuePairs<String, String>) {
        for (key, value) in pairs { addString(value, forKey: key) }
    }

    public var isEmpty: Bool { entries.isEmpty }

    /// Appends a text value; the key is lower-cased as gRPC requires.
    public mutating func addString(_ value: String, forKey key: String) {
        entries.append((key.lowercased(), .string(value)))
    }

    /// Appends a binary value; the key should end in `-bin`.
    public mutating func addBinary(_ value: [UInt8], forKey key: String) {
        entries.append((key.lowercased(), .binary(value)))
    }

    /// The first text value for a key, if any.
    public func first(_ key: String) -> String? {
        let key = key.lowercased()
        for entry in entries where entry.key == key {
            if case .string(let s) = entry.value { return s }
        }
        return nil
    }

    /// Every value stored under a key, in order.
    public func values(_ key: String) -> [Value] {
        let key = key.lowercased()
        return entries.filter { $0.key == key }.map(\.value)
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: Value)]> {
        entries.makeIterator()
    }

    public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.entries.count == rhs.entries.count
            && zip(lhs.entries, rhs.entries).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for entry in entries {
            hasher.combine(entry.key)
            hasher.combine(entry.value)
        }
    }
}
