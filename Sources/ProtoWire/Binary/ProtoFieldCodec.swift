// One codec per protobuf field type: how a value is read, written, sized and shown in JSON.
// Generated code names a codec per field; generic helpers specialise on it, so no existential sits on a hot path.

/// How values of one protobuf field type are encoded.
public protocol ProtoFieldCodec {
    /// The Swift type that holds the value.
    associatedtype Value: Sendable & Hashable
    /// The wire type of one (unpacked) value.
    static var wireType: WireType { get }
    /// The encoded width of fixed-size types, for packed fields; `nil` for varints and length-delimited types.
    static var fixedWidth: Int? { get }
    /// The proto3 default.
    static var defaultValue: Value { get }
    /// Reads one value whose tag was just read.
    static func read(from reader: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> Value
    /// Reads one value, merging into `existing` where the type merges (messages).
    static func readMerging(_ existing: Value, from reader: inout BinaryReader, field: Int)
        throws(ProtoDecodingError) -> Value
    /// Writes one value, without its tag.
    static func write(_ value: Value, to writer: inout BinaryWriter)
    /// The bytes `write` takes.
    static func size(of value: Value) -> Int
    /// True for the proto3 default, which implicit-presence fields do not encode.
    static func isDefault(_ value: Value) -> Bool
    /// Writes the value's proto3 JSON form.
    static func encodeJSON(_ value: Value, to writer: inout JSONWriter)
    /// Reads the value from its proto3 JSON form.
    static func decodeJSON(_ json: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> Value
}

extension ProtoFieldCodec {
    @inlinable public static var fixedWidth: Int? { nil }

    @inlinable
    public static func readMerging(_ existing: Value, from reader: inout BinaryReader, field: Int)
        throws(ProtoDecodingError) -> Value {
        try read(from: &reader, field: field)
    }
}

/// A field type allowed as a map key; JSON writes keys as strings.
public protocol ProtoMapKeyCodec: ProtoFieldCodec {
    /// The key as a JSON object member name.
    static func jsonKey(_ value: Value) -> String
    /// Parses a JSON object member name as a key.
    static func parseJSONKey(_ key: String) throws(ProtoJSONError) -> Value
}

extension ProtoMapKeyCodec where Value: BinaryInteger & LosslessStringConvertible {
    public static func jsonKey(_ value: Value) -> String { String(value) }
    public static func parseJSONKey(_ key: String) throws(ProtoJSONError) -> Value {
        guard let v = Value(key) else { throw .unexpectedValue(field: key, expected: "an integer map key") }
        return v
    }
}

// MARK: - Integers

/// `int32`: a sign-extended varint.
public enum ProtoInt32: ProtoMapKeyCodec {
    @inlinable public static var wireType: WireType { .varint }
    @inlinable public static var defaultValue: Int32 { 0 }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> Int32 {
        Int32(truncatingIfNeeded: try r.readVarint())
    }
    @inlinable public static func write(_ v: Int32, to w: inout BinaryWriter) {
        w.writeVarint(UInt64(bitPattern: Int64(v)))
    }
    @inlinable public static func size(of v: Int32) -> Int { WireSize.varint(UInt64(bitPattern: Int64(v))) }
    @inlinable public static func isDefault(_ v: Int32) -> Bool { v == 0 }
    public static func encodeJSON(_ v: Int32, to w: inout JSONWriter) { w.writeNumber(String(v)) }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> Int32 { try JSONNumbers.integer(j) }
}

/// `int64`: a varint; JSON writes it as a string.
public enum ProtoInt64: ProtoMapKeyCodec {
    @inlinable public static var wireType: WireType { .varint }
    @inlinable public static var defaultValue: Int64 { 0 }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> Int64 {
        Int64(bitPattern: try r.readVarint())
    }
    @inlinable public static func write(_ v: Int64, to w: inout BinaryWriter) { w.writeVarint(UInt64(bitPattern: v)) }
    @inlinable public static func size(of v: Int64) -> Int { WireSize.varint(UInt64(bitPattern: v)) }
    @inlinable public static func isDefault(_ v: Int64) -> Bool { v == 0 }
    public static func encodeJSON(_ v: Int64, to w: inout JSONWriter) { w.writeString(String(v)) }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> Int64 { try JSONNumbers.integer(j) }
}

/// `uint32`: a varint.
public enum ProtoUInt32: ProtoMapKeyCodec {
    @inlinable public static var wireType: WireType { .varint }
    @inlinable public static var defaultValue: UInt32 { 0 }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> UInt32 {
        UInt32(truncatingIfNeeded: try r.readVarint())
    }
    @inlinable public static func write(_ v: UInt32, to w: inout BinaryWriter) { w.writeVarint(UInt64(v)) }
    @inlinable public static func size(of v: UInt32) -> Int { WireSize.varint(UInt64(v)) }
    @inlinable public static func isDefault(_ v: UInt32) -> Bool { v == 0 }
    public static func encodeJSON(_ v: UInt32, to w: inout JSONWriter) { w.writeNumber(String(v)) }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> UInt32 { try JSONNumbers.integer(j) }
}

/// `uint64`: a varint; JSON writes it as a string.
public enum ProtoUInt64: ProtoMapKeyCodec {
    @inlinable public static var wireType: WireType { .varint }
    @inlinable public static var defaultValue: UInt64 { 0 }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> UInt64 {
        try r.readVarint()
    }
    @inlinable public static func write(_ v: UInt64, to w: inout BinaryWriter) { w.writeVarint(v) }
    @inlinable public static func size(of v: UInt64) -> Int { WireSize.varint(v) }
    @inlinable public static func isDefault(_ v: UInt64) -> Bool { v == 0 }
    public static func encodeJSON(_ v: UInt64, to w: inout JSONWriter) { w.writeString(String(v)) }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> UInt64 { try JSONNumbers.integer(j) }
}

/// `sint32`: a zigzag varint.
public enum ProtoSInt32: ProtoMapKeyCodec {
    @inlinable public static var wireType: WireType { .varint }
    @inlinable public static var defaultValue: Int32 { 0 }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> Int32 {
        let n = UInt32(truncatingIfNeeded: try r.readVarint())
        return Int32(bitPattern: (n >> 1) ^ (0 &- (n & 1)))
    }
    @inlinable public static func zigzag(_ v: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: (v << 1) ^ (v >> 31)))
    }
    @inlinable public static func write(_ v: Int32, to w: inout BinaryWriter) { w.writeVarint(zigzag(v)) }
    @inlinable public static func size(of v: Int32) -> Int { WireSize.varint(zigzag(v)) }
    @inlinable public static func isDefault(_ v: Int32) -> Bool { v == 0 }
    public static func encodeJSON(_ v: Int32, to w: inout JSONWriter) { w.writeNumber(String(v)) }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> Int32 { try JSONNumbers.integer(j) }
}

/// `sint64`: a zigzag varint; JSON writes it as a string.
public enum ProtoSInt64: ProtoMapKeyCodec {
    @inlinable public static var wireType: WireType { .varint }
    @inlinable public static var defaultValue: Int64 { 0 }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> Int64 {
        let n = try r.readVarint()
        return Int64(bitPattern: (n >> 1) ^ (0 &- (n & 1)))
    }
    @inlinable public static func zigzag(_ v: Int64) -> UInt64 { UInt64(bitPattern: (v << 1) ^ (v >> 63)) }
    @inlinable public static func write(_ v: Int64, to w: inout BinaryWriter) { w.writeVarint(zigzag(v)) }
    @inlinable public static func size(of v: Int64) -> Int { WireSize.varint(zigzag(v)) }
    @inlinable public static func isDefault(_ v: Int64) -> Bool { v == 0 }
    public static func encodeJSON(_ v: Int64, to w: inout JSONWriter) { w.writeString(String(v)) }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> Int64 { try JSONNumbers.integer(j) }
}

/// `fixed32`: four little-endian bytes.
public enum ProtoFixed32: ProtoMapKeyCodec {
    @inlinable public static var wireType: WireType { .fixed32 }
    @inlinable public static var fixedWidth: Int? { 4 }
    @inlinable public static var defaultValue: UInt32 { 0 }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> UInt32 {
        try r.readFixed32()
    }
    @inlinable public static func write(_ v: UInt32, to w: inout BinaryWriter) { w.writeFixed32(v) }
    @inlinable public static func size(of v: UInt32) -> Int { 4 }
    @inlinable public static func isDefault(_ v: UInt32) -> Bool { v == 0 }
    public static func encodeJSON(_ v: UInt32, to w: inout JSONWriter) { w.writeNumber(String(v)) }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> UInt32 { try JSONNumbers.integer(j) }
}

/// `fixed64`: eight little-endian bytes; JSON writes it as a string.
public enum ProtoFixed64: ProtoMapKeyCodec {
    @inlinable public static var wireType: WireType { .fixed64 }
    @inlinable public static var fixedWidth: Int? { 8 }
    @inlinable public static var defaultValue: UInt64 { 0 }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> UInt64 {
        try r.readFixed64()
    }
    @inlinable public static func write(_ v: UInt64, to w: inout BinaryWriter) { w.writeFixed64(v) }
    @inlinable public static func size(of v: UInt64) -> Int { 8 }
    @inlinable public static func isDefault(_ v: UInt64) -> Bool { v == 0 }
    public static func encodeJSON(_ v: UInt64, to w: inout JSONWriter) { w.writeString(String(v)) }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> UInt64 { try JSONNumbers.integer(j) }
}

/// `sfixed32`: four little-endian bytes, two's complement.
public enum ProtoSFixed32: ProtoMapKeyCodec {
    @inlinable public static var wireType: WireType { .fixed32 }
    @inlinable public static var fixedWidth: Int? { 4 }
    @inlinable public static var defaultValue: Int32 { 0 }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> Int32 {
        Int32(bitPattern: try r.readFixed32())
    }
    @inlinable public static func write(_ v: Int32, to w: inout BinaryWriter) { w.writeFixed32(UInt32(bitPattern: v)) }
    @inlinable public static func size(of v: Int32) -> Int { 4 }
    @inlinable public static func isDefault(_ v: Int32) -> Bool { v == 0 }
    public static func encodeJSON(_ v: Int32, to w: inout JSONWriter) { w.writeNumber(String(v)) }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> Int32 { try JSONNumbers.integer(j) }
}

/// `sfixed64`: eight little-endian bytes, two's complement; JSON writes it as a string.
public enum ProtoSFixed64: ProtoMapKeyCodec {
    @inlinable public static var wireType: WireType { .fixed64 }
    @inlinable public static var fixedWidth: Int? { 8 }
    @inlinable public static var defaultValue: Int64 { 0 }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> Int64 {
        Int64(bitPattern: try r.readFixed64())
    }
    @inlinable public static func write(_ v: Int64, to w: inout BinaryWriter) { w.writeFixed64(UInt64(bitPattern: v)) }
    @inlinable public static func size(of v: Int64) -> Int { 8 }
    @inlinable public static func isDefault(_ v: Int64) -> Bool { v == 0 }
    public static func encodeJSON(_ v: Int64, to w: inout JSONWriter) { w.writeString(String(v)) }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> Int64 { try JSONNumbers.integer(j) }
}

// MARK: - Floating point, bool, string, bytes

/// `double`: eight little-endian bytes.
public enum ProtoDouble: ProtoFieldCodec {
    @inlinable public static var wireType: WireType { .fixed64 }
    @inlinable public static var fixedWidth: Int? { 8 }
    @inlinable public static var defaultValue: Double { 0 }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> Double {
        Double(bitPattern: try r.readFixed64())
    }
    @inlinable public static func write(_ v: Double, to w: inout BinaryWriter) { w.writeFixed64(v.bitPattern) }
    @inlinable public static func size(of v: Double) -> Int { 8 }
    // -0.0 is not the default: its bit pattern differs, and protobuf keeps it.
    @inlinable public static func isDefault(_ v: Double) -> Bool { v.bitPattern == 0 }
    public static func encodeJSON(_ v: Double, to w: inout JSONWriter) { w.writeFloatingPoint(v) }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> Double { try JSONNumbers.double(j) }
}

/// `float`: four little-endian bytes.
public enum ProtoFloat: ProtoFieldCodec {
    @inlinable public static var wireType: WireType { .fixed32 }
    @inlinable public static var fixedWidth: Int? { 4 }
    @inlinable public static var defaultValue: Float { 0 }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> Float {
        Float(bitPattern: try r.readFixed32())
    }
    @inlinable public static func write(_ v: Float, to w: inout BinaryWriter) { w.writeFixed32(v.bitPattern) }
    @inlinable public static func size(of v: Float) -> Int { 4 }
    @inlinable public static func isDefault(_ v: Float) -> Bool { v.bitPattern == 0 }
    public static func encodeJSON(_ v: Float, to w: inout JSONWriter) { w.writeFloatingPoint(v) }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> Float {
        let d = try JSONNumbers.double(j)
        guard d.isNaN || d.isInfinite || abs(d) <= Double(Float.greatestFiniteMagnitude) else {
            throw .unexpectedValue(field: "", expected: "a float in range")
        }
        return Float(d)
    }
}

/// `bool`: a varint 0 or 1.
public enum ProtoBool: ProtoMapKeyCodec {
    @inlinable public static var wireType: WireType { .varint }
    @inlinable public static var defaultValue: Bool { false }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> Bool {
        try r.readVarint() != 0
    }
    @inlinable public static func write(_ v: Bool, to w: inout BinaryWriter) { w.writeVarint(v ? 1 : 0) }
    @inlinable public static func size(of v: Bool) -> Int { 1 }
    @inlinable public static func isDefault(_ v: Bool) -> Bool { !v }
    public static func encodeJSON(_ v: Bool, to w: inout JSONWriter) { w.writeBool(v) }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> Bool {
        guard case .bool(let b) = j else { throw .unexpectedValue(field: "", expected: "true or false") }
        return b
    }
    public static func jsonKey(_ value: Bool) -> String { value ? "true" : "false" }
    public static func parseJSONKey(_ key: String) throws(ProtoJSONError) -> Bool {
        switch key {
        case "true": return true
        case "false": return false
        default: throw .unexpectedValue(field: key, expected: "a bool map key")
        }
    }
}

/// `string`: length-prefixed UTF-8.
public enum ProtoString: ProtoMapKeyCodec {
    @inlinable public static var wireType: WireType { .lengthDelimited }
    @inlinable public static var defaultValue: String { "" }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> String {
        try r.readString(field: field)
    }
    @inlinable public static func write(_ v: String, to w: inout BinaryWriter) { w.writeString(v) }
    @inlinable public static func size(of v: String) -> Int { WireSize.lengthDelimited(v.utf8.count) }
    @inlinable public static func isDefault(_ v: String) -> Bool { v.isEmpty }
    public static func encodeJSON(_ v: String, to w: inout JSONWriter) { w.writeString(v) }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> String {
        guard case .string(let s) = j else { throw .unexpectedValue(field: "", expected: "a string") }
        return s
    }
    public static func jsonKey(_ value: String) -> String { value }
    public static func parseJSONKey(_ key: String) throws(ProtoJSONError) -> String { key }
}

/// `bytes`: length-prefixed raw bytes; JSON writes them as base64.
public enum ProtoBytes: ProtoFieldCodec {
    @inlinable public static var wireType: WireType { .lengthDelimited }
    @inlinable public static var defaultValue: [UInt8] { [] }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> [UInt8] {
        try r.readBytes()
    }
    @inlinable public static func write(_ v: [UInt8], to w: inout BinaryWriter) { w.writeBytes(v) }
    @inlinable public static func size(of v: [UInt8]) -> Int { WireSize.lengthDelimited(v.count) }
    @inlinable public static func isDefault(_ v: [UInt8]) -> Bool { v.isEmpty }
    public static func encodeJSON(_ v: [UInt8], to w: inout JSONWriter) { w.writeString(Base64.encode(v)) }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> [UInt8] {
        guard case .string(let s) = j, let bytes = Base64.decode(s) else {
            throw .unexpectedValue(field: "", expected: "base64 text")
        }
        return bytes
    }
}

// MARK: - Enums and messages

/// A generated enum: a varint; JSON writes the value's name.
public enum ProtoEnumCodec<E: ProtoEnum>: ProtoFieldCodec {
    @inlinable public static var wireType: WireType { .varint }
    @inlinable public static var defaultValue: E { E(rawValue: 0) }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> E {
        E(rawValue: Int32(truncatingIfNeeded: try r.readVarint()))
    }
    @inlinable public static func write(_ v: E, to w: inout BinaryWriter) { ProtoInt32.write(v.rawValue, to: &w) }
    @inlinable public static func size(of v: E) -> Int { ProtoInt32.size(of: v.rawValue) }
    @inlinable public static func isDefault(_ v: E) -> Bool { v.rawValue == 0 }
    public static func encodeJSON(_ v: E, to w: inout JSONWriter) {
        if let name = v.protoName { w.writeString(name) } else { w.writeNumber(String(v.rawValue)) }
    }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> E {
        switch j {
        case .string(let name):
            guard let e = E(protoName: name) else { throw .unknownEnumName(name) }
            return e
        case .number:
            return E(rawValue: try JSONNumbers.integer(j) as Int32)
        default:
            throw .unexpectedValue(field: "", expected: "an enum name or number")
        }
    }
}

/// A generated message: length-prefixed; repeated occurrences merge.
public enum ProtoMessageCodec<M: ProtoMessage>: ProtoFieldCodec {
    @inlinable public static var wireType: WireType { .lengthDelimited }
    @inlinable public static var defaultValue: M { M() }
    @inlinable public static func read(from r: inout BinaryReader, field: Int) throws(ProtoDecodingError) -> M {
        var m = M()
        try r.readMessage(into: &m)
        return m
    }
    @inlinable public static func readMerging(_ existing: M, from r: inout BinaryReader, field: Int)
        throws(ProtoDecodingError) -> M {
        var m = existing
        try r.readMessage(into: &m)
        return m
    }
    @inlinable public static func write(_ v: M, to w: inout BinaryWriter) { w.writeMessage(v) }
    @inlinable public static func size(of v: M) -> Int { WireSize.lengthDelimited(v.serializedSize()) }
    @inlinable public static func isDefault(_ v: M) -> Bool { false }
    public static func encodeJSON(_ v: M, to w: inout JSONWriter) { v.encodeJSON(to: &w) }
    public static func decodeJSON(_ j: JSONValue, options: JSONDecodingOptions) throws(ProtoJSONError) -> M {
        guard case .object(let object) = j else { throw .unexpectedValue(field: "", expected: "a JSON object") }
        var m = M()
        try m.decodeJSON(from: object, options: options)
        return m
    }
}
