// A parsed JSON document, kept close to its text: numbers stay text so 64-bit integers lose no precision.

/// One JSON value.
public indirect enum JSONValue: Sendable {
    case null
    case bool(Bool)
    /// The number exactly as written.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// True for JSON `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

/// A JSON object's members in document order.
public struct JSONObject: Sendable {
    /// Name and value of every member.
    public var members: [(name: String, value: JSONValue)]

    public init(members: [(name: String, value: JSONValue)] = []) { self.members = members }
}

/// How proto3 JSON is decoded.
public struct JSONDecodingOptions: Sendable {
    /// Skip members no field is named after, instead of failing.
    public var ignoreUnknownFields: Bool
    /// How deep objects and arrays may nest.
    public var recursionLimit: Int

    public init(ignoreUnknownFields: Bool = false, recursionLimit: Int = 100) {
        self.ignoreUnknownFields = ignoreUnknownFields
        self.recursionLimit = recursionLimit
    }
}
