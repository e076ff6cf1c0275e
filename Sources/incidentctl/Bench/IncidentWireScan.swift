// Reads only what the stream fan-out needs from a streamed Incident — its id and the `bench_seq` tag — straight
// from the wire bytes, so a thousand subscribers' deliveries do not cost the client a full decode each.

/// The id and the benchmark tag of one streamed `incident_manager.Incident`, as slices of its bytes (no strings are
/// made until asked for: the scan runs once per delivery, a hundred thousand times a second).
struct IncidentWireScan {
    /// `Incident.id` (field 1).
    var idBytes: ArraySlice<UInt8> = []
    /// The value of `tags["bench_seq"]` (field 13, a map entry), empty when absent.
    var sequenceTagBytes: ArraySlice<UInt8> = []

    var id: String { String(decoding: idBytes, as: UTF8.self) }
    var sequenceTag: String { String(decoding: sequenceTagBytes, as: UTF8.self) }

    private static let idField: UInt64 = 1
    private static let tagsField: UInt64 = 13
    private static let sequenceKey = Array(EventFactory.sequenceTag.utf8)

    /// Scans `bytes`; nil when they are not a well-formed message.
    init?(_ bytes: [UInt8]) {
        var reader = WireCursor(bytes: bytes[...])
        while !reader.atEnd {
            guard let key = reader.varint() else { return nil }
            let field = key >> 3
            if key & 7 == 2 {
                guard let value = reader.lengthDelimited() else { return nil }
                if field == Self.idField {
                    idBytes = value
                } else if field == Self.tagsField, let tag = Self.entry(value), tag.key.elementsEqual(Self.sequenceKey) {
                    sequenceTagBytes = tag.value
                }
            } else if !reader.skip(wireType: key & 7) {
                return nil
            }
        }
    }

    /// A map<string, string> entry: key (1) and value (2).
    private static func entry(_ bytes: ArraySlice<UInt8>) -> (key: ArraySlice<UInt8>, value: ArraySlice<UInt8>)? {
        var reader = WireCursor(bytes: bytes)
        var key: ArraySlice<UInt8> = []
        var value: ArraySlice<UInt8> = []
        while !reader.atEnd {
            guard let tag = reader.varint() else { return nil }
            if tag == 0x0A || tag == 0x12 {
                guard let text = reader.lengthDelimited() else { return nil }
                if tag == 0x0A { key = text } else { value = text }
            } else if !reader.skip(wireType: tag & 7) {
                return nil
            }
        }
        return (key, value)
    }
}

/// A position in protobuf wire bytes.
private struct WireCursor {
    let bytes: ArraySlice<UInt8>
    var index: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        index = bytes.startIndex
    }

    var atEnd: Bool { index >= bytes.endIndex }

    mutating func varint() -> UInt64? {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.endIndex, shift < 64 {
            let byte = bytes[index]
            index += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
        return nil
    }

    mutating func lengthDelimited() -> ArraySlice<UInt8>? {
        guard let length = varint(), length <= UInt64(bytes.endIndex - index) else { return nil }
        let start = index
        index += Int(length)
        return bytes[start..<index]
    }

    /// Skips a field's value of a wire type other than length-delimited; false for groups and unknown types.
    mutating func skip(wireType: UInt64) -> Bool {
        switch wireType {
        case 0: return varint() != nil
        case 1: index += 8
        case 5: index += 4
        default: return false
        }
        return index <= bytes.endIndex
    }
}
