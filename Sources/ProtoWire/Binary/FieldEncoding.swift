// Sizing and writing of whole fields (tag included): singular, packed, repeated and map fields.
// Generated code calls these with the field's codec; they are inlinable so each call specialises.

extension WireSize {
    /// The bytes a tag takes.
    @inlinable
    public static func tag(_ tag: UInt32) -> Int { varint(UInt64(tag)) }

    /// The bytes a packed field takes, tag included; 0 when empty.
    @inlinable
    public static func packed<C: ProtoFieldCodec>(_ codec: C.Type, _ values: [C.Value], tagSize: Int) -> Int {
        if values.isEmpty { return 0 }
        let body = packedBody(codec, values)
        return tagSize &+ lengthDelimited(body)
    }

    @inlinable
    static func packedBody<C: ProtoFieldCodec>(_ codec: C.Type, _ values: [C.Value]) -> Int {
        if let width = C.fixedWidth { return width &* values.count }
        var body = 0
        for v in values { body &+= C.size(of: v) }
        return body
    }

    /// The bytes an unpacked repeated field takes, tags included.
    @inlinable
    public static func repeated<C: ProtoFieldCodec>(_ codec: C.Type, _ values: [C.Value], tagSize: Int) -> Int {
        var n = tagSize &* values.count
        for v in values { n &+= C.size(of: v) }
        return n
    }

    /// The bytes a map field takes, one entry (tag, length, key, value) per element.
    @inlinable
    public static func map<K: ProtoMapKeyCodec, V: ProtoFieldCodec>(
        _ key: K.Type, _ value: V.Type, _ map: [K.Value: V.Value], tagSize: Int
    ) -> Int {
        var n = 0
        for (k, v) in map {
            n &+= tagSize &+ lengthDelimited(2 &+ K.size(of: k) &+ V.size(of: v))
        }
        return n
    }
}

extension BinaryWriter {
    /// Writes a packed field; nothing when empty.
    @inlinable
    public mutating func writePacked<C: ProtoFieldCodec>(_ codec: C.Type, _ values: [C.Value], tag: UInt32) {
        if values.isEmpty { return }
        writeTag(tag)
        writeVarint(UInt64(WireSize.packedBody(codec, values)))
        for v in values { C.write(v, to: &self) }
    }

    /// Writes every element with its own tag.
    @inlinable
    public mutating func writeRepeated<C: ProtoFieldCodec>(_ codec: C.Type, _ values: [C.Value], tag: UInt32) {
        for v in values {
            writeTag(tag)
            C.write(v, to: &self)
        }
    }

    /// Writes each map element as an entry message with key and value always present.
    @inlinable
    public mutating func writeMap<K: ProtoMapKeyCodec, V: ProtoFieldCodec>(
        _ key: K.Type, _ value: V.Type, _ map: [K.Value: V.Value], tag: UInt32
    ) {
        for (k, v) in map {
            writeTag(tag)
            writeVarint(UInt64(2 &+ K.size(of: k) &+ V.size(of: v)))
            writeTag(FieldTag.make(1, K.wireType))
            K.write(k, to: &self)
            writeTag(FieldTag.make(2, V.wireType))
            V.write(v, to: &self)
        }
    }

    /// Writes the bytes of fields kept from decoding.
    @inlinable
    public mutating func writeUnknown(_ unknown: UnknownFields) {
        if unknown.bytes.isEmpty { return }
        unknown.bytes.withUnsafeBytes { writeRaw($0) }
    }
}
