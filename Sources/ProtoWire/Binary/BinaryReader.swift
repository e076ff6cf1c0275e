// Reads the binary format straight from the caller's bytes, checking every length against what is left.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif


/// A cursor over one encoded message and the messages nested in it.
///
/// Nothing is allocated beyond what the input holds: lengths are checked against the bytes that remain
/// before anything is read or reserved, and nesting is limited to `recursionLimit` levels.
public struct BinaryReader {
    /// How deep messages and groups may nest.
    public static let defaultRecursionLimit = 100

    @usableFromInline var position: UnsafeRawPointer
    @usableFromInline var end: UnsafeRawPointer
    @usableFromInline var depth: Int
    @usableFromInline let recursionLimit: Int
    /// Where the current field's tag started, for keeping unknown fields verbatim.
    @usableFromInline var fieldStart: UnsafeRawPointer

    @inlinable
    init(_ buffer: UnsafeRawBufferPointer, recursionLimit: Int) {
        // An empty buffer may have no base address; any valid pointer with end == position will do.
        let base = buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        self.position = base
        self.end = base + buffer.count
        self.depth = 0
        self.recursionLimit = recursionLimit
        self.fieldStart = base
    }

    @inlinable var remaining: Int { end - position }

    /// The next field's tag, or `nil` at the end of the current message.
    @inlinable
    public mutating func nextTag() throws(ProtoDecodingError) -> UInt32? {
        guard position < end else { return nil }
        fieldStart = position
        let first = position.load(as: UInt8.self)
        let raw: UInt64
        if first < 0x80 {
            position += 1
            raw = UInt64(first)
        } else {
            raw = try readVarint()
        }
        // Field number 0, wire types 6 and 7 and numbers past 2^29 are not valid tags.
        guard raw >> 3 != 0, raw & 7 < 6, raw <= UInt64(UInt32.max) else { throw .invalidTag(raw) }
        return UInt32(truncatingIfNeeded: raw)
    }

    /// Reads a varint of up to 10 bytes.
    @inlinable
    public mutating func readVarint() throws(ProtoDecodingError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw .truncated }
            let byte = position.load(as: UInt8.self)
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift >= 70 { throw .malformedVarint }
        }
    }

    /// Reads four little-endian bytes.
    @inlinable
    public mutating func readFixed32() throws(ProtoDecodingError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated }
        let v = position.loadUnaligned(as: UInt32.self)
        position += 4
        return UInt32(littleEndian: v)
    }

    /// Reads eight little-endian bytes.
    @inlinable
    public mutating func readFixed64() throws(ProtoDecodingError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated }
        let v = position.loadUnaligned(as: UInt64.self)
        position += 8
        return UInt64(littleEndian: v)
    }

    /// Reads a length prefix and checks it against the bytes that remain.
    @inlinable
    public mutating func readLength() throws(ProtoDecodingError) -> Int {
        let length = try readVarint()
        guard length <= UInt64(remaining) else { throw .lengthOutOfBounds(length: length, remaining: remaining) }
        return Int(length)
    }

    /// Reads a length-delimited payload without copying it.
    @inlinable
    public mutating func readLengthDelimited() throws(ProtoDecodingError) -> UnsafeRawBufferPointer {
        let length = try readLength()
        let bytes = UnsafeRawBufferPointer(start: position, count: length)
        position += length
        return bytes
    }

    /// Reads a string field, refusing invalid UTF-8.
    @inlinable
    public mutating func readString(field: Int) throws(ProtoDecodingError) -> String {
        let bytes = try readLengthDelimited()
        if bytes.isEmpty { return "" }
        let utf8 = bytes.assumingMemoryBound(to: UInt8.self)
        // ASCII is valid UTF-8: most strings need no further check.
        if Self.isASCII(bytes) { return String(decoding: utf8, as: UTF8.self) }
        // Decoding repairs invalid UTF-8; the result equals the input exactly when the input was valid. This path
        // is several times faster than String(validating:), whose generic validation dominated decoding time.
        var s = String(decoding: utf8, as: UTF8.self)
        let valid = s.withUTF8 { decoded in
            decoded.count == utf8.count && memcmp(decoded.baseAddress!, utf8.baseAddress!, utf8.count) == 0
        }
        guard valid else { throw .invalidUTF8(field: field) }
        return s
    }

    @inlinable
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        var high: UInt64 = 0
        let n = bytes.count
        while i &+ 8 <= n {
            high |= bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i &+= 8
        }
        while i < n {
            high |= UInt64(bytes[i])
            i &+= 1
        }
        return high & 0x8080_8080_8080_8080 == 0
    }

    /// Reads a bytes field.
    @inlinable
    public mutating func readBytes() throws(ProtoDecodingError) -> [UInt8] {
        [UInt8](try readLengthDelimited())
    }

    /// Reads a length-prefixed nested message, merging it into `message` as protobuf requires.
    @inlinable
    public mutating func readMessage<M: ProtoMessage>(into message: inout M) throws(ProtoDecodingError) {
        let length = try readLength()
        guard depth < recursionLimit else { throw .recursionLimitExceeded(limit: recursionLimit) }
        let outerEnd = end
        end = position + length
        depth += 1
        try message.decodeFields(from: &self)
        depth -= 1
        // decodeFields stops exactly at `end`: every read is bounded by it.
        end = outerEnd
    }

    /// Reads a packed run of fixed or varint elements, accepting it in place of unpacked ones.
    @inlinable
    public mutating func readPacked<C: ProtoFieldCodec>(
        _ codec: C.Type, field: Int, into values: inout [C.Value]
    ) throws(ProtoDecodingError) {
        let length = try readLength()
        let outerEnd = end
        end = position + length
        if let width = C.fixedWidth {
            guard length % width == 0 else { throw .malformedField(field: field) }
            values.reserveCapacity(values.count + length / width)
        }
        while position < end {
            values.append(try C.read(from: &self, field: field))
        }
        end = outerEnd
    }

    /// Reads one map entry (key = 1, value = 2, either may be missing) into a dictionary.
    @inlinable
    public mutating func readMapEntry<K: ProtoMapKeyCodec, V: ProtoFieldCodec>(
        _ key: K.Type, _ value: V.Type, field: Int, into map: inout [K.Value: V.Value]
    ) throws(ProtoDecodingError) {
        let length = try readLength()
        guard depth < recursionLimit else { throw .recursionLimitExceeded(limit: recursionLimit) }
        let outerEnd = end
        end = position + length
        depth += 1
        var k = K.defaultValue
        var v = V.defaultValue
        while let tag = try nextTag() {
            switch tag {
            case FieldTag.make(1, K.wireType): k = try K.read(from: &self, field: field)
            case FieldTag.make(2, V.wireType): v = try V.readMerging(v, from: &self, field: field)
            default: try skipField(tag: tag)
            }
        }
        depth -= 1
        end = outerEnd
        // Maps here are small; starting at 8 saves the regrowths 1 -> 2 -> 4 -> 8 cost.
        if map.isEmpty { map = Dictionary(minimumCapacity: 8) }
        map[k] = v
    }

    /// Skips the payload of a field whose tag was just read and keeps its bytes as unknown.
    @inlinable
    public mutating func readUnknown(tag: UInt32, into unknown: inout UnknownFields) throws(ProtoDecodingError) {
        let start = fieldStart
        try skipField(tag: tag)
        unknown.append(UnsafeRawBufferPointer(start: start, count: position - start))
    }

    /// Skips the payload of a field whose tag was just read.
    @inlinable
    public mutating func skipField(tag: UInt32) throws(ProtoDecodingError) {
        switch WireType(rawValue: UInt8(tag & 7)) {
        case .varint: _ = try readVarint()
        case .fixed64: _ = try readFixed64()
        case .fixed32: _ = try readFixed32()
        case .lengthDelimited: _ = try readLengthDelimited()
        case .startGroup: try skipGroup(number: tag >> 3)
        case .endGroup, .none: throw .unbalancedGroup
        }
    }

    @usableFromInline
    mutating func skipGroup(number: UInt32) throws(ProtoDecodingError) {
        guard depth < recursionLimit else { throw .recursionLimitExceeded(limit: recursionLimit) }
        depth += 1
        while true {
            guard let tag = try nextTag() else { throw .truncated }
            if tag & 7 == UInt32(WireType.endGroup.rawValue) {
                guard tag >> 3 == number else { throw .unbalancedGroup }
                break
            }
            try skipField(tag: tag)
        }
        depth -= 1
    }
}
