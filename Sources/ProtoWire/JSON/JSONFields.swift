// Whole-field JSON reading and writing for generated code: null handling, repeated fields, maps, field names in errors.

/// Field-level proto3 JSON helpers, specialised per codec.
public enum JSONFields {
    /// A singular field's value; `null` means the default.
    public static func read<C: ProtoFieldCodec>(
        _ codec: C.Type, _ json: JSONValue, field: String, options: JSONDecodingOptions
    ) throws(ProtoJSONError) -> C.Value {
        if json.isNull { return C.defaultValue }
        do {
            return try C.decodeJSON(json, options: options)
        } catch {
            throw error.inField(field)
        }
    }

    /// A present (optional, oneof or message) field's value; `null` means absent.
    public static func readPresent<C: ProtoFieldCodec>(
        _ codec: C.Type, _ json: JSONValue, field: String, options: JSONDecodingOptions
    ) throws(ProtoJSONError) -> C.Value? {
        if json.isNull { return nil }
        return try read(codec, json, field: field, options: options)
    }

    /// A repeated field's elements; `null` means empty.
    public static func readRepeated<C: ProtoFieldCodec>(
        _ codec: C.Type, _ json: JSONValue, field: String, options: JSONDecodingOptions
    ) throws(ProtoJSONError) -> [C.Value] {
        switch json {
        case .null: return []
        case .array(let elements):
            var values: [C.Value] = []
            values.reserveCapacity(elements.count)
            for element in elements {
                guard !element.isNull else { throw .unexpectedValue(field: field, expected: "no null elements") }
                values.append(try read(codec, element, field: field, options: options))
            }
            return values
        default:
            throw .unexpectedValue(field: field, expected: "an array")
        }
    }

    /// A map field's entries; `null` means empty.
    public static func readMap<K: ProtoMapKeyCodec, V: ProtoFieldCodec>(
        _ key: K.Type, _ value: V.Type, _ json: JSONValue, field: String, options: JSONDecodingOptions
    ) throws(ProtoJSONError) -> [K.Value: V.Value] {
        switch json {
        case .null: return [:]
        case .object(let object):
            var map: [K.Value: V.Value] = [:]
            for member in object.members {
                let k: K.Value
                do { k = try K.parseJSONKey(member.name) } catch { throw error.inField(field) }
                guard !member.value.isNull else { throw .unexpectedValue(field: field, expected: "no null values") }
                map[k] = try read(value, member.value, field: field, options: options)
            }
            return map
        default:
            throw .unexpectedValue(field: field, expected: "an object")
        }
    }

    /// Writes a member for a singular value.
    public static func write<C: ProtoFieldCodec>(_ codec: C.Type, _ value: C.Value, name: String,
                                                 to writer: inout JSONWriter) {
        writer.writeName(name)
        C.encodeJSON(value, to: &writer)
    }

    /// Writes a member for a repeated field; nothing when empty.
    public static func writeRepeated<C: ProtoFieldCodec>(_ codec: C.Type, _ values: [C.Value], name: String,
                                                         to writer: inout JSONWriter) {
        if values.isEmpty { return }
        writer.writeName(name)
        writer.beginArray()
        for v in values { C.encodeJSON(v, to: &writer) }
        writer.endArray()
    }

    /// Writes a member for a map field, keys sorted so output is stable; nothing when empty.
    public static func writeMap<K: ProtoMapKeyCodec, V: ProtoFieldCodec>(
        _ key: K.Type, _ value: V.Type, _ map: [K.Value: V.Value], name: String, to writer: inout JSONWriter
    ) {
        if map.isEmpty { return }
        writer.writeName(name)
        writer.beginObject()
        for (k, v) in map.map({ (K.jsonKey($0.key), $0.value) }).sorted(by: { $0.0 < $1.0 }) {
            writer.writeName(k)
            V.encodeJSON(v, to: &writer)
        }
        writer.endObject()
    }
}
