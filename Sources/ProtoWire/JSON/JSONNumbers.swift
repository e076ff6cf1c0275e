// Reading proto3 JSON numbers: integers may come as numbers or strings, floats also as "NaN" and "Infinity".

/// Conversions from JSON values to the numeric field types.
public enum JSONNumbers {
    /// An integer field's value; exponent or fraction forms are accepted when they denote an integer in range.
    public static func integer<I: FixedWidthInteger>(_ json: JSONValue) throws(ProtoJSONError) -> I {
        let text: String
        switch json {
        case .number(let t): text = t
        case .string(let t): text = t
        default: throw .unexpectedValue(field: "", expected: "an integer")
        }
        if let v = I(text) { return v }
        // 1e3 or 10.0: exact only up to 2^53, which is all a JSON double can say anyway.
        guard let d = Double(text), d.rounded() == d, let v = I(exactly: d) else {
            throw .unexpectedValue(field: "", expected: "an integer in range for \(I.self)")
        }
        return v
    }

    /// A float or double field's value.
    public static func double(_ json: JSONValue) throws(ProtoJSONError) -> Double {
        switch json {
        case .number(let t):
            guard let d = Double(t), d.isFinite else { throw .unexpectedValue(field: "", expected: "a finite number") }
            return d
        case .string("NaN"): return .nan
        case .string("Infinity"): return .infinity
        case .string("-Infinity"): return -.infinity
        case .string(let t):
            guard let d = Double(t), d.isFinite, !t.contains(where: \.isWhitespace) else {
                throw .unexpectedValue(field: "", expected: "a number")
            }
            return d
        default:
            throw .unexpectedValue(field: "", expected: "a number")
        }
    }
}
