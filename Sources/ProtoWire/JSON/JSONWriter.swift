// Builds compact JSON text; generated code writes members in field-number order.

/// Accumulates one JSON document.
public struct JSONWriter {
    private var output: [UInt8] = []
    // One entry per open object or array: whether nothing was written in it yet.
    private var isFirst: [Bool] = []
    private var afterName = false

    public init() {}

    /// The text written so far.
    public var result: String { String(decoding: output, as: UTF8.self) }

    private mutating func separate() {
        if afterName {
            afterName = false
            return
        }
        if let first = isFirst.last {
            if !first { output.append(UInt8(ascii: ",")) }
            isFirst[isFirst.count - 1] = false
        }
    }

    /// Opens an object.
    public mutating func beginObject() {
        separate()
        output.append(UInt8(ascii: "{"))
        isFirst.append(true)
    }

    /// Closes the innermost object.
    public mutating func endObject() {
        isFirst.removeLast()
        output.append(UInt8(ascii: "}"))
    }

    /// Opens an array.
    public mutating func beginArray() {
        separate()
        output.append(UInt8(ascii: "["))
        isFirst.append(true)
    }

    /// Closes the innermost array.
    public mutating func endArray() {
        isFirst.removeLast()
        output.append(UInt8(ascii: "]"))
    }

    /// Writes a member name; the next value written is its value.
    public mutating func writeName(_ name: String) {
        separate()
        appendQuoted(name)
        output.append(UInt8(ascii: ":"))
        afterName = true
    }

    /// Writes a string value.
    public mutating func writeString(_ value: String) {
        separate()
        appendQuoted(value)
    }

    /// Writes a number given as JSON number text.
    public mutating func writeNumber(_ text: String) {
        separate()
        output.append(contentsOf: text.utf8)
    }

    /// Writes `true` or `false`.
    public mutating func writeBool(_ value: Bool) {
        separate()
        output.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// Writes `null`.
    public mutating func writeNull() {
        separate()
        output.append(contentsOf: "null".utf8)
    }

    /// Writes a float or double; NaN and the infinities as the strings proto3 JSON prescribes.
    public mutating func writeFloatingPoint<F: BinaryFloatingPoint & LosslessStringConvertible>(_ value: F) {
        if value.isNaN {
            writeString("NaN")
        } else if value.isInfinite {
            writeString(value < 0 ? "-Infinity" : "Infinity")
        } else {
            var text = value.description
            if text.hasSuffix(".0") { text.removeLast(2) }
            writeNumber(text)
        }
    }

    private mutating func appendQuoted(_ s: String) {
        output.append(UInt8(ascii: "\""))
        Self.appendEscaped(s, to: &output)
        output.append(UInt8(ascii: "\""))
    }

    /// The JSON string escaping of RFC 8259 (quote, backslash, control characters), without the quotes:
    /// the one escaper behind every JSON text the service writes (log lines, webhook templates, the codec).
    public static func appendEscaped(_ s: String, to output: inout [UInt8]) {
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): output.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): output.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: output.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]])
            default: output.append(b)
            }
        }
    }

    /// `text` escaped for a place inside a JSON string (no quotes added).
    public static func escaped(_ text: String) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        appendEscaped(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `text` as a JSON string literal, quotes included.
    public static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "\"")]
        bytes.reserveCapacity(text.utf8.count + 2)
        appendEscaped(text, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        return String(decoding: bytes, as: UTF8.self)
    }
}
