// Rows copied out of a libpq result, and typed access to their columns.
import Foundation

/// The rows of one statement, in text format, copied out of libpq so no C memory outlives the call.
struct QueryResult: Sendable {
    let columns: [String]
    let rows: [[String?]]
    /// Rows inserted/updated/deleted, from the command tag; 0 when the statement says nothing.
    let affectedRows: Int

    var first: Row? { rows.isEmpty ? nil : Row(columns: columns, values: rows[0]) }
    var allRows: [Row] { rows.map { Row(columns: columns, values: $0) } }
}

/// One row with decoding by column name.
struct Row: Sendable {
    let columns: [String]
    let values: [String?]

    /// The column's value decoded as `T`; throws when it is NULL or does not parse.
    func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let value = try decodeIfPresent(column, as: type) else {
            throw PostgresError(.decoding, message: "column \(column) is NULL")
        }
        return value
    }

    /// The column's value decoded as `T`, or nil when NULL.
    func decodeIfPresent<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T? {
        guard let index = columns.firstIndex(of: column) else {
            throw PostgresError(.decoding, message: "no column \(column)")
        }
        guard let text = values[index] else { return nil }
        guard let value = T(postgresText: text) else {
            throw PostgresError(.decoding, message: "column \(column) does not decode as \(T.self)")
        }
        return value
    }
}

/// A Swift type that can be read from Postgres's text format.
protocol PostgresDecodable {
    init?(postgresText text: String)
}

/// A Swift type that can be sent as a text-format query parameter.
protocol PostgresEncodable {
    var postgresText: String { get }
}

extension String: PostgresDecodable, PostgresEncodable {
    init?(postgresText text: String) { self = text }
    var postgresText: String { self }
}

extension Int: PostgresDecodable, PostgresEncodable {
    init?(postgresText text: String) { self.init(text) }
    var postgresText: String { String(self) }
}

extension Int64: PostgresDecodable, PostgresEncodable {
    init?(postgresText text: String) { self.init(text) }
    var postgresText: String { String(self) }
}

extension Double: PostgresDecodable, PostgresEncodable {
    init?(postgresText text: String) { self.init(text) }
    var postgresText: String { String(self) }
}

extension Bool: PostgresDecodable, PostgresEncodable {
    init?(postgresText text: String) {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
    var postgresText: String { self ? "true" : "false" }
}

/// bytea in the server's default `hex` output format: `\x0a1b…`.
struct ByteaValue: PostgresDecodable, PostgresEncodable, Sendable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    init?(postgresText text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"), utf8.count % 2 == 0 else {
            return nil
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity((utf8.count - 2) / 2)
        var index = 2
        while index < utf8.count {
            guard let high = Self.nibble(utf8[index]), let low = Self.nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.bytes = bytes
    }

    var postgresText: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        out.reserveCapacity(2 + bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// timestamptz exchanged as microseconds since 1970: our queries convert with `to_timestamp`/`extract`,
/// which keeps the text format unambiguous whatever the session's DateStyle or TimeZone.
struct EpochMicros: PostgresDecodable, PostgresEncodable, Sendable {
    let micros: Int64

    init(_ date: Date) { micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }

    init?(postgresText text: String) {
        // extract(epoch ...) yields numeric text such as 1763900000.123456
        guard let value = Decimal(string: text) else { return nil }
        micros = NSDecimalNumber(decimal: value * 1_000_000).int64Value
    }

    var date: Date { Date(timeIntervalSince1970: Double(micros) / 1_000_000) }
    var postgresText: String { String(Double(micros) / 1_000_000) }
}

/// A one-dimensional array parameter in Postgres's text form, `{"a","b",NULL}`: every element quoted, with
/// backslashes and quotes escaped, so any text (including bytea's `\x…` and JSON) survives.
struct TextArray: PostgresEncodable, Sendable {
    let elements: [String?]

    var postgresText: String {
        // Built as bytes: a batch of creates makes 21 of these with hundreds of elements each, and appending
        // scalar by scalar to a String cost several percent of the server's CPU. Quotes and backslashes are ASCII,
        // never part of a multi-byte UTF-8 sequence, so escaping byte by byte is safe.
        var out: [UInt8] = []
        out.reserveCapacity(elements.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        out.append(UInt8(ascii: "{"))
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            guard let element else {
                out.append(contentsOf: "NULL".utf8)
                continue
            }
            out.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\"") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}
