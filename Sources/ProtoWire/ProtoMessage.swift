// The protocol every generated message conforms to, and the byte and JSON entry points built on it.

/// A generated protobuf message: a value type with binary and proto3 JSON forms.
public protocol ProtoMessage: Sendable, Hashable {
    /// The message with every field at its default.
    init()
    /// The fully qualified proto name (`incident_manager.CreateIncidentRequest`).
    static var protoMessageName: String { get }
    /// Fields read from the wire that this schema does not know; written back on encoding.
    var unknownFields: UnknownFields { get set }
    /// The exact number of bytes `encode(to:)` writes.
    func serializedSize() -> Int
    /// Writes every present field, then the unknown fields.
    func encode(to writer: inout BinaryWriter)
    /// Reads fields until the reader's current message ends, merging them into `self`.
    mutating func decodeFields(from reader: inout BinaryReader) throws(ProtoDecodingError)
    /// Writes the message as a proto3 JSON object.
    func encodeJSON(to writer: inout JSONWriter)
    /// Merges the members of a proto3 JSON object into `self`.
    mutating func decodeJSON(from object: JSONObject, options: JSONDecodingOptions) throws(ProtoJSONError)
}

extension ProtoMessage {
    /// Decodes a message from its binary form.
    @inlinable
    public init(serializedBytes bytes: UnsafeRawBufferPointer,
                recursionLimit: Int = BinaryReader.defaultRecursionLimit) throws(ProtoDecodingError) {
        self.init()
        var reader = BinaryReader(bytes, recursionLimit: recursionLimit)
        try decodeFields(from: &reader)
    }

    /// Decodes a message from its binary form.
    @inlinable
    public init(serializedBytes bytes: [UInt8],
                recursionLimit: Int = BinaryReader.defaultRecursionLimit) throws(ProtoDecodingError) {
        self.init()
        // Decoding in place: a Result carrying the message would copy the whole struct out of the closure.
        var failure: ProtoDecodingError?
        bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw, recursionLimit: recursionLimit)
            do throws(ProtoDecodingError) {
                try self.decodeFields(from: &reader)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// The binary form of the message.
    @inlinable
    public func serializedBytes() -> [UInt8] {
        let size = serializedSize()
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var writer = BinaryWriter(base: UnsafeMutableRawPointer(buffer.baseAddress ?? .init(bitPattern: 1)!),
                                      capacity: size)
            encode(to: &writer)
            precondition(writer.count == size, "\(Self.protoMessageName): serializedSize() disagrees with encode")
            initialized = size
        }
    }

    /// The proto3 JSON form of the message, compact, fields in field-number order.
    public func jsonString() -> String {
        var writer = JSONWriter()
        encodeJSON(to: &writer)
        return writer.result
    }

    /// Decodes a message from its proto3 JSON form.
    public init(jsonString: String, options: JSONDecodingOptions = JSONDecodingOptions()) throws(ProtoJSONError) {
        let value = try JSONParser.parse(Array(jsonString.utf8), depthLimit: options.recursionLimit)
        guard case .object(let object) = value else {
            throw .unexpectedValue(field: Self.protoMessageName, expected: "a JSON object")
        }
        self.init()
        try decodeJSON(from: object, options: options)
    }
}
